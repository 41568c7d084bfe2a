/**
 * The version every --version prints (src/cli/version.ts): package.json's,
 * read relative to the module, so that it is right in a clone, an installed
 * package and the image alike.
 */
import { readFileSync } from 'node:fs'
import t from 'tap'
import { pullguardVersion, versionLine } from '../../src/cli/version.js'

const PACKAGE = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }

t.test('package.json\'s version, and the line --version prints', async (t) => {
  t.match(PACKAGE.version, /^\d+\.\d+\.\d+/)
  t.equal(pullguardVersion(), PACKAGE.version)
  t.equal(versionLine(), `pullguard ${PACKAGE.version}\n`)
})

t.test('it does not depend on the working directory', async (t) => {
  const cwd = process.cwd()
  t.teardown(() => process.chdir(cwd))
  process.chdir('/')
  t.equal(pullguardVersion(), PACKAGE.version)
})
