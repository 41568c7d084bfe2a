/**
 * Certificates from `npm run certs` checked by Go the way the API server
 * would: the CLI runs as a process (from source, as test/tls/certs-cli.test.ts
 * runs it, rather than through `npm run build`), Go parses what it wrote,
 * and the Go client calls a server using tls.crt/tls.key while trusting the
 * caBundle line the CLI printed (what an operator pastes into the webhook
 * configuration) and ca.crt.
 */
import t from 'tap'
import { execFile } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { testConfig } from '../helpers/fixtures.js'
import { goClientFor } from '../helpers/go-client.js'
import { listenWith } from '../helpers/server.js'

const execFileAsync = promisify(execFile)
const CLI = fileURLToPath(new URL('../../src/tls/certs-cli.ts', import.meta.url))
const SERVICE = { service: 'pullguard', namespace: 'pullguard' }
const SERVER_NAME = 'pullguard.pullguard.svc'

const go = await goClientFor(t)
if (go !== undefined) {
  const cases: Array<{ name: string, args: string[], extraDns?: string }> = [
    { name: 'defaults (with the localhost SANs)', args: [] },
    { name: '--no-dev --dns hook.example.com --days 30', args: ['--no-dev', '--dns', 'hook.example.com', '--days', '30'], extraDns: 'hook.example.com' },
  ]
  for (const c of cases) {
    t.test(c.name, async (t) => {
      const out = t.testdir()
      const { stdout } = await execFileAsync(process.execPath,
        ['--import', 'tsx', CLI, '--service', SERVICE.service, '--namespace', SERVICE.namespace, '--out', out, ...c.args], { timeout: 30_000 })
      const caBundle = /^caBundle: (\S+)$/m.exec(stdout)?.[1]
      t.ok(caBundle, 'the CLI prints a caBundle line')
      const caFile = join(out, 'ca.crt')

      for (const dns of [SERVER_NAME, ...(c.extraDns === undefined ? [] : [c.extraDns])]) {
        const r = await go.inspect([{ file: caFile, role: 'ca' }, { file: join(out, 'tls.crt'), role: 'serving' }], { dns, ca: { file: caFile } })
        t.equal(r.error, '', `Go parses both certificates; the serving one verifies for ${dns}`)
      }

      const { app, port } = await listenWith(testConfig(), { cert: await readFile(join(out, 'tls.crt'), 'utf8'), key: await readFile(join(out, 'tls.key'), 'utf8') })
      t.teardown(async () => { await app.close() })
      for (const [what, ca] of [['the printed caBundle', { bundle: caBundle ?? '' }], ['ca.crt', { file: caFile }]] as const) {
        const r = await go.review({ port, ...SERVICE, ca })
        t.equal(r.error, '', `the API server's webhook client accepts pullguard trusting ${what}`)
        t.equal(r.summary?.serverName, SERVER_NAME)
        t.equal(r.summary?.patchType, 'JSONPatch')
      }
    })
  }
}
