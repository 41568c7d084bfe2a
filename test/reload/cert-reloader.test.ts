import t from 'tap'
import https from 'node:https'
import tls from 'node:tls'
import { X509Certificate } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import { buildApp } from '../../src/app.js'
import { createLogger } from '../../src/logger.js'
import { createMetrics } from '../../src/metrics.js'
import { createCertReloader } from '../../src/reload/cert-reloader.js'
import { checkPair, type SecureContextTarget } from '../../src/tls/serving-pair.js'
import { generateServingCertificate } from '../../src/tls/certs.js'
import { STRICT_PARSER_WARNING } from '../../src/tls/strict-der.js'
import { legacyBootstrapCa, legacyServing } from '../helpers/legacy-ca.js'
import { AtomicWriter } from '../helpers/atomic-writer.js'
import { fixture, testConfig } from '../helpers/fixtures.js'
import { parseExposition, sampleValue } from '../helpers/prometheus.js'
import { LogCapture, testCertificates } from '../helpers/server.js'
import { waitFor } from '../helpers/wait.js'

const ca = { cert: testCertificates().caCert, key: testCertificates().caKey }
const issue = (now?: Date, validityDays?: number): { cert: string, key: string } =>
  generateServingCertificate(ca, { service: 'pullguard', namespace: 'pullguard', dev: true, now, validityDays })
const fingerprintOf = (pem: string): string => new X509Certificate(pem).fingerprint256

t.test('the serving certificate is rotated under a running server', async (t) => {
  const first = testCertificates()
  const writer = new AtomicWriter(t.testdir())
  await writer.write({ 'tls.crt': first.cert, 'tls.key': first.key })

  const logs = new LogCapture()
  const log = createLogger({ level: 'debug', destination: logs })
  const metrics = createMetrics({ defaultMetrics: false })
  const app = buildApp({ config: testConfig(), tls: { cert: first.cert, key: first.key }, logger: log })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const port = (app.server.address() as AddressInfo).port
  const reloader = createCertReloader({
    certFile: writer.path('tls.crt'),
    keyFile: writer.path('tls.key'),
    server: app.server as unknown as https.Server,
    log,
    metrics,
    pollMs: 50,
    debounceMs: 10,
  })
  // One socket only, kept alive: every request after the first reuses it.
  const agent = new https.Agent({ keepAlive: true, maxSockets: 1, ca: ca.cert })
  t.teardown(async () => { reloader.close(); agent.destroy(); await app.close() })

  /** The certificate a NEW connection is shown. */
  const newConnectionFingerprint = (): Promise<string> => new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ca: ca.cert, servername: 'localhost' }, () => {
      const fp = socket.getPeerCertificate().fingerprint256
      socket.destroy()
      resolve(fp)
    })
    socket.on('error', reject)
  })

  /** A review over the kept-alive connection. */
  const keptAlive = (): Promise<{ status: number, reused: boolean, fingerprint: string }> => new Promise((resolve, reject) => {
    const body = JSON.stringify(fixture('review-create.json'))
    const req = https.request({ host: '127.0.0.1', port, path: '/mutate', method: 'POST', agent, servername: 'localhost', headers: { 'content-type': 'application/json' } }, (res) => {
      const fingerprint = (res.socket as tls.TLSSocket).getPeerCertificate().fingerprint256
      res.resume()
      res.on('end', () => resolve({ status: res.statusCode ?? 0, reused: req.reusedSocket, fingerprint }))
    })
    req.on('error', reject)
    req.end(body)
  })

  const reloads = async (result: string): Promise<number | undefined> =>
    sampleValue(parseExposition(await metrics.registry.metrics()), 'pullguard_certificate_reloads_total', { result })

  const before = await keptAlive()
  t.equal(before.status, 200)
  t.equal(before.fingerprint, fingerprintOf(first.cert))
  t.equal(await newConnectionFingerprint(), fingerprintOf(first.cert))

  const second = issue()
  t.not(fingerprintOf(second.cert), fingerprintOf(first.cert))

  t.test('a new pair from the same CA is served to new connections', async (t) => {
    await writer.write({ 'tls.crt': second.cert, 'tls.key': second.key })
    await waitFor(async () => (await newConnectionFingerprint()) === fingerprintOf(second.cert))
    t.equal(reloader.lastError(), undefined)
    t.equal(await reloads('success'), 1)
    t.match(logs.records().find((r) => r.msg === 'serving certificate reloaded'), { fingerprint256: fingerprintOf(second.cert) })
  })

  t.test('the connection opened before the swap keeps working', async (t) => {
    const after = await keptAlive()
    t.equal(after.status, 200)
    t.equal(after.reused, true, 'the same socket')
    t.equal(after.fingerprint, fingerprintOf(first.cert), 'with the certificate it was opened with')
  })

  t.test('TLS 1.1 is still refused after a reload (minVersion carried over)', async (t) => {
    const err = await new Promise<Error | undefined>((resolve) => {
      const socket = tls.connect({ host: '127.0.0.1', port, ca: ca.cert, servername: 'localhost', maxVersion: 'TLSv1.1', minVersion: 'TLSv1' })
      socket.on('secureConnect', () => { socket.destroy(); resolve(undefined) })
      socket.on('error', resolve)
    })
    t.ok(err, 'handshake failed')
  })

  const bad: Array<[string, () => { cert: string, key: string }, RegExp]> = [
    ['a key from another pair', () => ({ cert: issue().cert, key: issue().key }), /key does not belong/],
    ['an expired certificate', () => issue(new Date(Date.now() - 30 * 86_400_000), 1), /expired on/],
    ['a certificate file that is not PEM', () => ({ cert: 'not a certificate', key: second.key }), /does not hold a PEM certificate/],
    ['a key file that is not a key', () => ({ cert: second.cert, key: 'nope' }), /does not hold a usable PEM private key/],
  ]
  let failures = 0
  for (const [name, make, message] of bad) {
    t.test(`${name} is rejected and the old certificate keeps serving`, async (t) => {
      const pair = make()
      await writer.write({ 'tls.crt': pair.cert, 'tls.key': pair.key })
      failures++
      await waitFor(() => message.test(reloader.lastError() ?? ''))
      t.equal(await reloads('failure'), failures, 'counted once')
      t.equal(await newConnectionFingerprint(), fingerprintOf(second.cert))
      const line = logs.records().findLast((r) => r.level === 50)
      t.match(line, { component: 'cert-reloader', msg: message })
      t.notMatch(logs.text(), /BEGIN|PRIVATE KEY/, 'no PEM in the logs')
    })
  }

  t.test('a good pair after bad ones is taken and clears the error', async (t) => {
    const third = issue()
    await writer.write({ 'tls.crt': third.cert, 'tls.key': third.key })
    await waitFor(async () => (await newConnectionFingerprint()) === fingerprintOf(third.cert))
    t.equal(reloader.lastError(), undefined)
    t.equal(await reloads('success'), 2)
    t.equal(await reloads('failure'), bad.length)
  })
})

t.test('cert and key written one after the other: the half-done pair waits for its key', async (t) => {
  const dir = t.testdir()
  const { writeFile } = await import('node:fs/promises')
  const first = testCertificates()
  await writeFile(`${dir}/tls.crt`, first.cert)
  await writeFile(`${dir}/tls.key`, first.key)
  const contexts: tls.SecureContextOptions[] = []
  const server: SecureContextTarget = { setSecureContext: (options) => { contexts.push(options) } }
  const reloader = createCertReloader({
    certFile: `${dir}/tls.crt`,
    keyFile: `${dir}/tls.key`,
    server,
    log: createLogger({ level: 'silent' }),
    metrics: createMetrics({ defaultMetrics: false }),
    fsWatch: false,
    pollMs: 3_600_000,
  })
  t.teardown(() => reloader.close())
  const next = issue()
  await writeFile(`${dir}/tls.crt`, next.cert)
  await reloader.check()
  t.equal(contexts.length, 0, 'not applied')
  t.match(reloader.lastError(), /key does not belong/)
  await writeFile(`${dir}/tls.key`, next.key)
  await reloader.check()
  t.equal(contexts.length, 1, 'applied once the pair is whole')
  t.match(contexts[0], { cert: next.cert, key: next.key, minVersion: 'TLSv1.2' })
  t.equal(reloader.lastError(), undefined)
})

t.test('checkPair', async (t) => {
  const pair = issue()
  t.type(checkPair(pair, new Date()), X509Certificate)
  t.match(checkPair(pair, new Date(Date.now() + 400 * 86_400_000)), /expired/)
})

t.test('a server without TLS is refused up front', async (t) => {
  const app = buildApp({ config: testConfig() })
  t.teardown(() => app.close())
  t.throws(() => createCertReloader({
    certFile: 'x', keyFile: 'y', server: app.server as unknown as SecureContextTarget, log: createLogger({ level: 'silent' }), metrics: createMetrics({ defaultMetrics: false }),
  }), { name: 'TypeError', message: /TLS server/ })
})

t.test('a pair that Node accepts but Go would refuse is served with a warning naming the problem', async (t) => {
  const dir = t.testdir()
  const { writeFile } = await import('node:fs/promises')
  const first = issue()
  await writeFile(`${dir}/tls.crt`, first.cert)
  await writeFile(`${dir}/tls.key`, first.key)
  const logs = new LogCapture()
  const contexts: tls.SecureContextOptions[] = []
  const reloader = createCertReloader({
    certFile: `${dir}/tls.crt`,
    keyFile: `${dir}/tls.key`,
    server: { setSecureContext: (options) => { contexts.push(options) } },
    log: createLogger({ level: 'debug', destination: logs }),
    metrics: createMetrics({ defaultMetrics: false }),
    fsWatch: false,
    pollMs: 3_600_000,
  })
  t.teardown(() => reloader.close())
  const now = new Date()
  const legacy = legacyServing(legacyBootstrapCa(now), ['localhost'], now)
  await writeFile(`${dir}/tls.crt`, legacy.cert)
  await writeFile(`${dir}/tls.key`, legacy.key)
  await reloader.check()
  t.equal(contexts.length, 1, 'served: refusing it would not make the API server call us')
  const warning = logs.records().find((r) => r.msg === STRICT_PARSER_WARNING)
  t.ok(warning, 'warned')
  t.equal(warning?.level, 40)
  t.match(warning?.problems, [/issuer CN: a PrintableString/])

  const good = issue()
  logs.lines.length = 0
  await writeFile(`${dir}/tls.crt`, good.cert)
  await writeFile(`${dir}/tls.key`, good.key)
  await reloader.check()
  t.equal(contexts.length, 2)
  t.notOk(logs.records().some((r) => r.msg === STRICT_PARSER_WARNING), 'a good certificate is not warned about')
})
