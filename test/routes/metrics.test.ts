/**
 * src/routes/metrics.ts through buildHealthApp on a real plain-HTTP port, as
 * Prometheus scrapes it: the registry's own content type (text exposition
 * 0.0.4, https://prometheus.io/docs/instrumenting/exposition_formats/) and
 * the registry as it is at each scrape.
 */
import t from 'tap'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { buildHealthApp } from '../../src/app.js'
import { createMetrics } from '../../src/metrics.js'
import { parseExposition, sampleValue } from '../helpers/prometheus.js'

interface Scrape { status: number, type: string | undefined, text: string }

function scrape (port: number, method = 'GET', path = '/metrics'): Promise<Scrape> {
  return new Promise((resolve, reject) => {
    http.request({ host: '127.0.0.1', port, path, method, agent: false }, (res) => {
      let text = ''
      res.on('data', (c: Buffer) => { text += c.toString('utf8') })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], text }))
    }).on('error', reject).end()
  })
}

async function listen (app: ReturnType<typeof buildHealthApp>): Promise<number> {
  await app.listen({ port: 0, host: '127.0.0.1' })
  return (app.server.address() as AddressInfo).port
}

t.test('GET /metrics: the registry in the text exposition, with its content type', async (t) => {
  const metrics = createMetrics({ defaultMetrics: false })
  const app = buildHealthApp({ notReady: () => undefined, metrics })
  const port = await listen(app)
  t.teardown(() => app.close())

  const first = await scrape(port)
  t.equal(first.status, 200)
  t.equal(first.type, metrics.registry.contentType, 'the registry\'s own content type')
  t.match(first.type, /^text\/plain; version=0\.0\.4/)
  t.equal(first.text, await metrics.registry.metrics(), 'exactly what the registry exposes')
  t.ok(parseExposition(first.text).types.size > 0, 'a parsable exposition with metric families')

  // Each scrape reads the registry again.
  const denials = (text: string): number | undefined => sampleValue(parseExposition(text), 'pullguard_denials_total', { endpoint: 'validate' })
  const before = denials(first.text) ?? 0
  metrics.denials.inc('validate')
  metrics.denials.inc('validate')
  t.equal(denials((await scrape(port)).text), before + 2, 'counts as of the scrape')
})

t.test('what is not a scrape is not served', async (t) => {
  const cases: Array<[string, boolean, string, string]> = [
    ['without metrics', false, 'GET', '/metrics'],
    ['POST', true, 'POST', '/metrics'],
    ['another path', true, 'GET', '/metrics/x'],
  ]
  for (const [name, withMetrics, method, path] of cases) {
    const app = buildHealthApp({ notReady: () => undefined, ...(withMetrics ? { metrics: createMetrics({ defaultMetrics: false }) } : {}) })
    const port = await listen(app)
    const res = await scrape(port, method, path)
    await app.close()
    t.equal(res.status, 404, name)
    t.match(JSON.parse(res.text), { error: { code: 'PG_NOT_FOUND' } }, `${name}: catalogue error`)
  }
})
