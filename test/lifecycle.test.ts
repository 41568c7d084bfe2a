import t from 'tap'
import https from 'node:https'
import { buildHealthApp } from '../src/app.js'
import { Lifecycle } from '../src/lifecycle.js'
import { createLogger } from '../src/logger.js'
import { fixture, testConfig } from './helpers/fixtures.js'
import { LogCapture, startServer, testCertificates } from './helpers/server.js'
import { waitFor } from './helpers/wait.js'

t.test('readiness: the first failing check is the reason', async (t) => {
  const lifecycle = new Lifecycle()
  let synced = false
  lifecycle.require('informers', () => (synced ? undefined : 'not synced yet: secrets'))
  t.equal(lifecycle.notReady(), 'informers: not synced yet: secrets')
  synced = true
  t.equal(lifecycle.notReady(), undefined)
})

t.test('SIGTERM: not ready, still serving during the drain, then closed after in-flight requests finish', async (t) => {
  const server = await startServer(testConfig())
  const lifecycle = new Lifecycle()
  const health = buildHealthApp({ notReady: () => lifecycle.notReady() })
  t.teardown(async () => { server.agent.destroy(); await health.close() })
  t.equal((await health.inject({ method: 'GET', url: '/readyz' })).statusCode, 200)

  const logs = new LogCapture()
  const stopped = lifecycle.shutdown({ drainMs: 400, servers: [server.app], log: createLogger({ destination: logs }) })
  t.equal(lifecycle.shutdown({ drainMs: 0, servers: [], log: createLogger({ destination: logs }) }), stopped, 'a second signal joins the first')
  t.equal((await health.inject({ method: 'GET', url: '/readyz' })).statusCode, 503, 'not ready at once')
  // During the drain the webhook keeps answering, on a kept-alive connection and on a new one.
  t.equal((await server.post('/mutate', fixture('review-create.json'))).status, 200)
  const fresh = await new Promise<number>((resolve, reject) => {
    https.request({ host: '127.0.0.1', port: server.port, path: '/mutate', method: 'POST', ca: testCertificates().caCert, servername: 'localhost', headers: { 'content-type': 'application/json' } }, (res) => {
      res.resume(); res.on('end', () => resolve(res.statusCode ?? 0))
    }).on('error', reject).end(JSON.stringify(fixture('review-create.json')))
  })
  t.equal(fresh, 200)
  // A slow request that starts before the close finishes after it.
  const body = JSON.stringify(fixture('review-create.json'))
  const slow = new Promise<number>((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port: server.port, path: '/mutate', method: 'POST', ca: testCertificates().caCert, servername: 'localhost', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.resume(); res.on('end', () => resolve(res.statusCode ?? 0))
    })
    req.on('error', reject)
    req.write(body.slice(0, 100))
    void waitFor(() => logs.lines.some((l) => l.includes('drain period over')), 5000, 'the close').then(() => {
      setTimeout(() => req.end(body.slice(100)), 50)
    })
  })
  t.equal(await slow, 200, 'the in-flight review got its answer')
  await stopped
  t.equal(server.app.server.listening, false, 'closed after the drain')
  t.match(logs.text(), /still serving while endpoints drain[\s\S]*drain period over[\s\S]*stopped/)
})
