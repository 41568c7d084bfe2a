/**
 * The `pullguard` command as a real process, beyond --help: unknown
 * commands, `certs`, the server's one-line error for a port already in use,
 * and bin/pullguard.js on a checkout that was never built.
 */
import t from 'tap'
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { fileURLToPath } from 'node:url'
import { pullguard, runScript } from '../helpers/cli.js'
import { USAGE } from '../../src/cli/main.js'

const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url))
const BIN = fileURLToPath(new URL('../../bin/pullguard.js', import.meta.url))

t.test('no command, or an unknown one: usage, exit 2', async (t) => {
  const none = await pullguard([])
  t.equal(none.code, 2)
  t.equal(none.stderr, USAGE)
  const unknown = await pullguard(['deploy', '-f', 'x'])
  t.equal(unknown.code, 2)
  t.equal(unknown.stderr, 'pullguard: unknown command "deploy"; commands: serve, preview, certs (see pullguard --help)\n')
  t.equal(unknown.stdout, '')
})

t.test('pullguard certs is the certificate generator', async (t) => {
  const out = t.testdir()
  const r = await pullguard(['certs', '--service', 'pullguard', '--namespace', 'pullguard', '--out', out])
  t.equal(r.code, 0, r.stderr)
  t.match(r.stdout, /^caBundle: [A-Za-z0-9+/]+=*$/m)
})

async function occupied (): Promise<{ server: Server, port: number }> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { server, port: (server.address() as { port: number }).port }
}

t.test('a port already in use: one line naming the setting, exit 1', async (t) => {
  const { server, port } = await occupied()
  t.teardown(() => { server.close() })
  const certs = t.testdir()
  const env = { HOST: '127.0.0.1', PULLGUARD_CLUSTER: 'off', DEV_CERT_DIR: certs, LOG_LEVEL: 'fatal' }
  const cases: Array<[string, () => ReturnType<typeof pullguard>, string]> = [
    ['PORT, node src/main.ts', () => runScript(MAIN, [], '', { ...env, PORT: String(port), HEALTH_PORT: '0' }), 'PORT'],
    ['HEALTH_PORT, pullguard serve', () => pullguard(['serve'], '', { ...env, PORT: '0', HEALTH_PORT: String(port) }), 'HEALTH_PORT'],
  ]
  for (const [name, start, setting] of cases) {
    const r = await start()
    t.equal(r.code, 1, `${name}: exit 1`)
    t.equal(r.stderr, `pullguard: ${setting}=${port}: port ${port} on 127.0.0.1 is already in use (another pullguard or another server); stop it or set ${setting} to a free port\n`, name)
    t.notMatch(r.stderr, /\n\s+at |EADDRINUSE/, `${name}: no stack trace, no errno`)
    t.match(r.stdout, /"code":"PG_LISTEN_FAILED"/, `${name}: the fatal log line has the code`)
  }
})

t.test('bin/pullguard.js runs the built CLI, and says what to do when there is none', async (t) => {
  const dir = t.testdir()
  mkdirSync(`${dir}/bin`)
  copyFileSync(BIN, `${dir}/bin/pullguard.js`)
  writeFileSync(`${dir}/package.json`, '{"type": "module"}\n')
  const missing = await runScript(`${dir}/bin/pullguard.js`, ['--version'])
  t.equal(missing.code, 2)
  t.equal(missing.stderr, 'pullguard: dist/cli/main.js is missing: run `npm run build` in the pullguard checkout (`npm ci` runs it too, unless --ignore-scripts)\n')

  // A stand-in build: the bin hands over argv and the exit code is the CLI's.
  mkdirSync(`${dir}/dist/cli`, { recursive: true })
  writeFileSync(`${dir}/dist/cli/main.js`, 'export async function runProcess (argv) { process.stdout.write(JSON.stringify(argv)); process.exitCode = 3 }\n')
  const built = await runScript(`${dir}/bin/pullguard.js`, ['preview', '-f', '-'])
  t.equal(built.code, 3)
  t.equal(built.stdout, '["preview","-f","-"]')
})

t.test('package.json: the command, and what a fresh clone and a package need', async (t) => {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'))
  t.same(pkg.bin, { pullguard: 'bin/pullguard.js' })
  t.equal(pkg.scripts.prepare, 'npm run build', 'npm ci builds dist/, so npx pullguard works on a fresh clone')
  t.same(pkg.files, ['bin/', 'dist/', 'manifests/example-config.yaml'], 'a packed package ships the build and the default config (dist/ is git-ignored)')
  t.match(pkg.scripts.start, /dist\/main\.js/, 'npm start still runs the server')
  t.match(readFileSync(BIN, 'utf8'), /^#!\/usr\/bin\/env node\n/)
})
