/**
 * isEntryPoint (src/cli/entry.ts), in real node processes: true in the
 * script node was started with (also through a symlink, as
 * node_modules/.bin/pullguard is), false in a module it imports and when
 * there is no script at all.
 */
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { runScript } from '../helpers/cli.js'

const ENTRY = fileURLToPath(new URL('../../src/cli/entry.ts', import.meta.url))

t.test('the started script, a symlink to it, an imported module, no script', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pullguard-entry-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const probe = (label: string): string => `import { isEntryPoint } from ${JSON.stringify(ENTRY)}\nconsole.log(${JSON.stringify(label)}, isEntryPoint(import.meta.url))\n`
  writeFileSync(join(dir, 'main.ts'), probe('main'))
  writeFileSync(join(dir, 'lib.ts'), probe('lib'))
  writeFileSync(join(dir, 'outer.ts'), `import './lib.ts'\n${probe('outer')}`)
  symlinkSync(join(dir, 'main.ts'), join(dir, 'linked.ts'))

  const rows: Array<[string, string]> = [
    ['main.ts', 'main true\n'],
    ['linked.ts', 'main true\n'],
    ['outer.ts', 'lib false\nouter true\n'],
  ]
  for (const [script, stdout] of rows) {
    const run = await runScript(join(dir, script), [])
    t.equal(run.stderr, '', `${script}: no error`)
    t.equal(run.stdout, stdout, script)
  }
  const evaluated = await runScript('-', [], probe('stdin'))
  t.equal(evaluated.stdout, 'stdin false\n', 'code read from stdin has no script path to compare')
})
