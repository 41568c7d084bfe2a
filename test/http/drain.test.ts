/**
 * The drain of http/drain.ts on real sockets: Connection: close from begin(),
 * spare connections closed at close(), requests in flight finished.
 * (test/shutdown.test.ts does the same through SIGTERM of a real process.)
 */
import t from 'tap'
import http from 'node:http'
import net, { type AddressInfo } from 'node:net'
import tls from 'node:tls'
import { buildHealthApp } from '../../src/app.js'
import { drainOf, FIRST_REQUEST_GRACE_MS } from '../../src/http/drain.js'
import { fixture, testConfig } from '../helpers/fixtures.js'
import { openMutateRequest, startServer, testCertificates } from '../helpers/server.js'

/** Resolves with what happened first; the guards are far above anything expected, so they cannot flake. */
async function first<T> (promise: Promise<T>, guardMs: number): Promise<T | 'guard'> {
  let timer: NodeJS.Timeout | undefined
  const guard = new Promise<'guard'>((resolve) => { timer = setTimeout(() => resolve('guard'), guardMs) })
  try {
    return await Promise.race([promise, guard])
  } finally {
    clearTimeout(timer)
  }
}

/** A TLS connection that completes its handshake and sends nothing (a Go client's spare connection). */
async function spareConnection (port: number): Promise<{ socket: tls.TLSSocket, closed: Promise<void> }> {
  const socket = tls.connect({ host: '127.0.0.1', port, ca: testCertificates().caCert, servername: 'localhost' })
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()))
  socket.on('error', () => {})
  await new Promise<void>((resolve, reject) => { socket.once('secureConnect', resolve); socket.once('error', reject) })
  return { socket, closed }
}

t.test('from begin() every response says Connection: close and the connection ends after it', async (t) => {
  const server = await startServer(testConfig())
  t.teardown(() => server.close())
  const before = await server.post('/mutate', fixture('review-create.json'))
  t.equal(before.headers.connection, 'keep-alive', 'kept alive before')
  drainOf(server.app.server)?.begin()
  for (const path of ['/mutate', '/nope']) {
    const res = await server.post(path, fixture('review-create.json'))
    t.equal(res.headers.connection, 'close', `${path}: Connection: close`)
    t.equal(res.headers['keep-alive'], undefined, `${path}: keep-alive no longer advertised`)
  }
  const free = Object.values(server.agent.freeSockets).flat().length
  t.equal(free, 0, 'the client kept no connection to reuse')
})

t.test('close(): a spare connection is closed, a request in flight finishes', async (t) => {
  const server = await startServer(testConfig())
  t.teardown(() => server.agent.destroy())
  const spare = await spareConnection(server.port)
  const body = JSON.stringify(fixture('review-create.json'))
  let connection: string | string[] | undefined
  const inFlight = new Promise<number>((resolve, reject) => {
    const req = openMutateRequest(server.port, body, (res) => { connection = res.headers.connection; res.resume(); res.on('end', () => resolve(res.statusCode ?? 0)) })
    req.on('error', reject)
    req.write(body.slice(0, 100))
    // Both connections older than the grace: the spare is not about to send
    // its first request, and the other has one in flight.
    setTimeout(() => {
      void server.app.close()
      setTimeout(() => req.end(body.slice(100)), 100)
    }, FIRST_REQUEST_GRACE_MS + 50)
  })
  t.equal(await inFlight, 200, 'the review in flight got its answer')
  t.equal(connection, 'close')
  // Without the drain the spare holds close() until the client gives up (90 s for Go).
  t.equal(await first(spare.closed.then(() => 'closed' as const), 10_000), 'closed', 'the spare connection was closed')
  t.equal(await first(server.app.close().then(() => 'closed' as const), 10_000), 'closed', 'the server closed')
})

t.test('close(): a connection opened just before gets its grace to send its first request', async (t) => {
  const server = await startServer(testConfig())
  t.teardown(() => server.agent.destroy())
  const fresh = await spareConnection(server.port)
  const closing = server.app.close()
  await new Promise((resolve) => setTimeout(resolve, 100))
  const body = JSON.stringify(fixture('review-create.json'))
  const reply = new Promise<string>((resolve) => {
    let text = ''
    fresh.socket.on('data', (chunk: Buffer) => { text += chunk.toString('latin1') })
    fresh.socket.once('close', () => resolve(text))
  })
  fresh.socket.write(`POST /mutate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`)
  const text = await reply
  t.match(text, /^HTTP\/1\.1 200 OK\r\n/, 'answered')
  t.match(text, /\r\nconnection: close\r\n/i, 'with Connection: close')
  await closing
})

t.test('the health port drains the same way', async (t) => {
  const health = buildHealthApp({ notReady: () => undefined })
  await health.listen({ port: 0, host: '127.0.0.1' })
  const port = (health.server.address() as AddressInfo).port
  const agent = new http.Agent({ keepAlive: true })
  t.teardown(() => agent.destroy())
  const get = (): Promise<http.IncomingHttpHeaders> => new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: '/readyz', agent }, (res) => { res.resume(); res.on('end', () => resolve(res.headers)) }).on('error', reject)
  })
  t.equal((await get()).connection, 'keep-alive')
  drainOf(health.server)?.begin()
  t.equal((await get()).connection, 'close')
  const raw = await new Promise<net.Socket>((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => resolve(socket))
  })
  const closed = new Promise<'closed'>((resolve) => raw.once('close', () => resolve('closed')))
  await new Promise((resolve) => setTimeout(resolve, FIRST_REQUEST_GRACE_MS + 50))
  t.equal(await first(health.close().then(() => 'done' as const), 10_000), 'done', 'closed with an idle TCP client attached')
  t.equal(await first(closed, 10_000), 'closed')
})
