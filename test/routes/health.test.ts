/**
 * src/routes/health.ts through buildHealthApp on a real plain-HTTP port, as
 * the kubelet's probes call it: /healthz always 200, /readyz 200 or 503 with
 * the reason, asked again at every probe.
 */
import t from 'tap'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { buildHealthApp } from '../../src/app.js'

interface Answer { status: number, type: string | undefined, json: unknown }

function get (port: number, path: string, method = 'GET'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    http.request({ host: '127.0.0.1', port, path, method, agent: false }, (res) => {
      let text = ''
      res.on('data', (c: Buffer) => { text += c.toString('utf8') })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], json: JSON.parse(text) }))
    }).on('error', reject).end()
  })
}

t.test('/healthz and /readyz on a real port', async (t) => {
  let reason: string | undefined = 'informers: not synced yet: secrets'
  let asked = 0
  const app = buildHealthApp({ notReady: () => { asked++; return reason } })
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(() => app.close())
  const port = (app.server.address() as AddressInfo).port

  // [readiness reason, path, status, body]
  const table: Array<[string | undefined, string, number, unknown]> = [
    ['informers: not synced yet: secrets', '/healthz', 200, { status: 'ok' }],
    ['informers: not synced yet: secrets', '/readyz', 503, { status: 'not ready', reason: 'informers: not synced yet: secrets' }],
    ['draining', '/readyz', 503, { status: 'not ready', reason: 'draining' }],
    [undefined, '/readyz', 200, { status: 'ready' }],
    [undefined, '/healthz', 200, { status: 'ok' }],
    ['draining', '/healthz', 200, { status: 'ok' }],
  ]
  for (const [why, path, status, body] of table) {
    reason = why
    const res = await get(port, path)
    const name = `${path} with ${why ?? 'ready'}`
    t.equal(res.status, status, name)
    t.match(res.type, /^application\/json/, `${name}: JSON`)
    t.same(res.json, body, `${name}: body`)
  }
  t.equal(asked, 3, '/readyz asks at every probe, /healthz never')
})

t.test('only GET is served', async (t) => {
  const app = buildHealthApp({ notReady: () => undefined })
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(() => app.close())
  const port = (app.server.address() as AddressInfo).port
  for (const [method, path] of [['POST', '/healthz'], ['DELETE', '/readyz'], ['GET', '/livez']]) {
    const res = await get(port, path as string, method)
    t.equal(res.status, 404, `${method} ${path}`)
    t.match(res.json, { error: { code: 'PG_NOT_FOUND' } }, `${method} ${path}: catalogue error`)
  }
})
