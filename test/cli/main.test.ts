/**
 * The `pullguard` command and the server's entry point as real processes:
 * --help and --version on every command.
 */
import t from 'tap'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { pullguard, runScript } from '../helpers/cli.js'
import { USAGE } from '../../src/cli/main.js'
import { PREVIEW_USAGE } from '../../src/cli/preview.js'
import { SERVE_USAGE } from '../../src/settings.js'
import { USAGE as CERTS_USAGE } from '../../src/tls/certs-cli.js'

const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url))
const VERSION = `pullguard ${(JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version}\n`

t.test('--help and --version for every command', async (t) => {
  const cases: Array<[string, string[], string]> = [
    ['pullguard --help', ['--help'], USAGE],
    ['pullguard --version', ['--version'], VERSION],
    ['pullguard serve --help', ['serve', '--help'], SERVE_USAGE],
    ['pullguard serve --version', ['serve', '--version'], VERSION],
    ['pullguard preview --help', ['preview', '--help'], PREVIEW_USAGE],
    ['pullguard preview --version', ['preview', '--version'], VERSION],
    ['pullguard certs --help', ['certs', '--help'], CERTS_USAGE],
    ['pullguard certs --version', ['certs', '--version'], VERSION],
  ]
  for (const [name, args, stdout] of cases) {
    const r = await pullguard(args)
    t.equal(r.code, 0, `${name}: exit 0`)
    t.equal(r.stdout, stdout, name)
    t.equal(r.stderr, '', `${name}: nothing on stderr`)
  }
  t.equal(VERSION, 'pullguard 0.2.0\n', 'the version is package.json\'s')
  // The server's own entry point, as npm start and the image run it; --help wins over broken settings.
  const direct = await runScript(MAIN, ['--help'], '', { PORT: 'https' })
  t.equal(direct.code, 0)
  t.equal(direct.stdout, SERVE_USAGE)
  t.equal((await runScript(MAIN, ['--version'])).stdout, VERSION)
})
