/**
 * The version every --version prints (src/cli/version.ts): package.json's,
 * read relative to the module, so that it is right in a clone, an installed
 * package and the image alike.
 */
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { pullguardVersion, versionLine } from '../../src/cli/version.js'

const PACKAGE = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }

t.test('package.json\'s version, and the line --version prints', async (t) => {
  t.match(PACKAGE.version, /^\d+\.\d+\.\d+/)
  t.equal(pullguardVersion(), PACKAGE.version)
  t.equal(versionLine(), `pullguard ${PACKAGE.version}\n`)
})

t.test('it does not depend on the working directory: a process started elsewhere reads the same', async (t) => {
  const module = fileURLToPath(new URL('../../src/cli/version.ts', import.meta.url))
  const script = `import { versionLine } from ${JSON.stringify(module)}\nprocess.stdout.write(versionLine())\n`
  const run = spawnSync(process.execPath, ['--import', import.meta.resolve('tsx'), '--input-type=module', '-e', script], { cwd: tmpdir(), encoding: 'utf8' })
  t.equal(run.stderr, '')
  t.equal(run.stdout, `pullguard ${PACKAGE.version}\n`)
})
