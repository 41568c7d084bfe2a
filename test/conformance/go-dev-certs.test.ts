/**
 * Development certificates as `npm start` makes them, checked by Go the way
 * the API server would check them: the entry point runs as a real process
 * and generates its certificates into a temp dir, and the Go client calls
 * it as pullguard.default.svc (the name the dev certificate is issued for,
 * src/tls/dev-certs.ts), trusting the generated ca.crt.
 */
import t from 'tap'
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { FIXTURES } from '../helpers/fixtures.js'
import { goClientFor } from '../helpers/go-client.js'
import { waitFor } from '../helpers/wait.js'

const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url))
const DEV_SERVICE = { service: 'pullguard', namespace: 'default' }

/** src/main.ts in local mode on free ports, as test/main.test.ts starts it; resolves with the webhook port. */
async function startMain (certDir: string): Promise<number> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN], {
    env: { PATH: process.env.PATH ?? '', PORT: '0', HEALTH_PORT: '0', HOST: '127.0.0.1', PULLGUARD_CLUSTER: 'off', DEV_CERT_DIR: certDir, LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  t.teardown(() => { child.kill('SIGKILL') })
  const lines: string[] = []
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => lines.push(...chunk.toString().split('\n').filter(Boolean)))
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  const line = await waitFor(() => {
    if (child.exitCode !== null) throw new Error(`pullguard exited ${child.exitCode}: ${stderr.trim()}`)
    return lines.find((l) => l.includes('pullguard is serving'))
  }, 30_000, 'pullguard to serve')
  return (JSON.parse(line) as { port: number }).port
}

const go = await goClientFor(t)
if (go !== undefined) {
  const dir = t.testdir()
  const port = await startMain(dir)
  const ca = { file: join(dir, 'ca.crt') }

  t.test('Go parses and accepts every generated certificate', async (t) => {
    const r = await go.inspect([{ file: join(dir, 'ca.crt'), role: 'ca' }, { file: join(dir, 'tls.crt'), role: 'serving' }],
      { dns: `${DEV_SERVICE.service}.${DEV_SERVICE.namespace}.svc`, ca })
    t.equal(r.error, '', 'no problem found')
    t.equal(r.code, 0)
    t.same(r.summary?.certificates.map((c: { role: string }) => c.role), ['ca', 'serving'])
    const names: string[] = r.summary?.certificates[1].dnsNames ?? []
    t.ok(names.includes('pullguard.default.svc') && names.includes('localhost'), `DNS SANs for the API server and a developer (${names.join(', ')})`)
  })

  const cases: Array<{ name: string, review: string, path?: string, validating?: boolean, patched: boolean }> = [
    { name: 'v1 CREATE to /mutate', review: 'review-create.json', patched: true },
    { name: 'v1beta1 CREATE to /mutate', review: 'review-create-v1beta1.json', patched: true },
    { name: 'v1 UPDATE to /mutate', review: 'review-update.json', patched: false },
    { name: 'v1 ephemeralcontainers to /mutate', review: 'review-ephemeral.json', patched: false },
    { name: 'v1 CREATE to /validate', review: 'review-create.json', path: '/validate', validating: true, patched: false },
  ]
  for (const c of cases) {
    t.test(`the API server's webhook client: ${c.name}`, async (t) => {
      const r = await go.review({ port, ...DEV_SERVICE, ca, review: join(FIXTURES, c.review), path: c.path, validating: c.validating })
      t.equal(r.error, '', 'Go accepts the TLS handshake and the AdmissionReview answer')
      t.equal(r.code, 0)
      t.equal(r.summary?.ok, true)
      t.equal(r.summary?.serverName, 'pullguard.default.svc')
      t.equal(typeof r.summary?.allowed, 'boolean')
      if (c.patched) {
        t.equal(r.summary?.patchType, 'JSONPatch')
        t.ok(r.summary?.patchOps > 0, 'a patch that applies to the request\'s pod')
      }
    })
  }
}
