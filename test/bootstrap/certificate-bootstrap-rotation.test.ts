/**
 * Renewal and CA rotation of the certificate bootstrap, driven by a fake
 * clock, against the API server double and real HTTPS servers.
 *
 * The fake clock always stays at or before the real time: certificates are
 * issued at the fake time (minus the 1 h backdate) while the TLS clients here
 * check validity against the real one, so every certificate must already be
 * valid in real time. Hence each test starts its clock weeks in the past.
 */
import t, { type Test } from 'tap'
import { handshake as handshakeAs } from '../helpers/handshake.js'
import https from 'node:https'
import tls from 'node:tls'
import { X509Certificate } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import { buildApp } from '../../src/app.js'
import { createLogger } from '../../src/logger.js'
import { createMetrics } from '../../src/metrics.js'
import { startCertificateBootstrap, type BootstrapOptions, type CertificateBootstrap } from '../../src/bootstrap/certificate-bootstrap.js'
import { certificatesIn } from '../../src/bootstrap/plan.js'
import { ApiServerDouble } from '../helpers/api-server-double.js'
import { fixture, testConfig } from '../helpers/fixtures.js'
import { parseExposition, sampleValue } from '../helpers/prometheus.js'
import { LogCapture } from '../helpers/server.js'
import { waitFor } from '../helpers/wait.js'

const NS = 'pullguard'
const SECRET = 'pullguard-tls'
const SERVER_NAME = `pullguard.${NS}.svc`
const HOUR = 3_600_000
const DAY = 24 * HOUR
const OVERLAP = 10 * 60_000
const logs = new LogCapture()
const log = createLogger({ level: 'debug', destination: logs })
const keysSeen = new Set<string>()

async function cluster (t: Test): Promise<ApiServerDouble> {
  const double = new ApiServerDouble()
  await double.start()
  t.teardown(async () => { await double.stop() })
  const hook = (name: string, path: string): Record<string, unknown> => ({
    name, admissionReviewVersions: ['v1'], sideEffects: 'None', clientConfig: { service: { namespace: NS, name: 'pullguard', path } },
  })
  double.create('mutatingwebhookconfigurations', { metadata: { name: 'pullguard' }, webhooks: [hook('pods.pullguard.dev', '/mutate'), hook('debug.pullguard.dev', '/mutate')] })
  double.create('validatingwebhookconfigurations', { metadata: { name: 'pullguard' }, webhooks: [hook('always-pull.pullguard.dev', '/validate')] })
  return double
}

async function replica (t: Test, double: ApiServerDouble, extra: Partial<BootstrapOptions>): Promise<CertificateBootstrap> {
  const boot = await startCertificateBootstrap({
    kubeConfig: double.kubeConfig(), namespace: NS, secretName: SECRET, service: 'pullguard', webhookConfigName: 'pullguard', log, ...extra,
  })
  t.teardown(async () => { await boot.stop() })
  return boot
}

async function serve (t: Test, boot: CertificateBootstrap): Promise<number> {
  const app = buildApp({ config: testConfig(), tls: boot.initial, logger: log })
  await app.listen({ port: 0, host: '127.0.0.1' })
  boot.attach(app.server as never)
  t.teardown(async () => { await app.close() })
  return (app.server.address() as AddressInfo).port
}

function secretTexts (double: ApiServerDouble): Record<string, string> {
  const texts: Record<string, string> = {}
  for (const [k, v] of Object.entries(double.get('secrets', SECRET, NS).data as Record<string, string>)) {
    texts[k] = Buffer.from(v, 'base64').toString('utf8')
    if (k.endsWith('.key')) keysSeen.add(texts[k] ?? '')
  }
  return texts
}
const phaseOf = (double: ApiServerDouble): string | undefined => double.get('secrets', SECRET, NS).metadata.annotations?.['pullguard.dev/ca-rotation-phase']
const sinceOf = (double: ApiServerDouble): string | undefined => double.get('secrets', SECRET, NS).metadata.annotations?.['pullguard.dev/ca-rotation-since']

/** The CA bundle the API server would use right now: the MutatingWebhookConfiguration's first webhook. */
function caBundleNow (double: ApiServerDouble): string {
  const hooks = double.get('mutatingwebhookconfigurations', 'pullguard').webhooks as Array<{ clientConfig: { caBundle?: string } }>
  return Buffer.from(hooks[0]?.clientConfig.caBundle ?? '', 'base64').toString('utf8')
}
function allBundles (double: ApiServerDouble): Set<string> {
  const out = new Set<string>()
  for (const r of ['mutatingwebhookconfigurations', 'validatingwebhookconfigurations'] as const) {
    for (const h of double.get(r, 'pullguard').webhooks as Array<{ clientConfig: { caBundle?: string } }>) out.add(h.clientConfig.caBundle ?? '')
  }
  return out
}

const handshake = async (port: number, ca: string): Promise<X509Certificate> => await handshakeAs(port, ca, SERVER_NAME)

const successfulPuts = (double: ApiServerDouble): number => double.requests.filter((r) => r.resource === 'secrets' && r.method === 'PUT' && r.status === 200).length
const signedBy = (leaf: X509Certificate, ca: X509Certificate): boolean => leaf.checkIssued(ca) && leaf.verify(ca.publicKey)
const writesFor = (reason: RegExp): number => logs.records().filter((r) => Array.isArray(r.reasons) && (r.reasons as string[]).some((x) => reason.test(x))).length

t.test('renewal: past the renew point a sync re-signs the serving certificate, new connections get it', async (t) => {
  const double = await cluster(t)
  const start = Date.now()
  let clock = start - 25 * DAY
  const now = (): Date => new Date(clock)
  const timings = { syncIntervalMs: 3_600_000, servingValidityDays: 30, caValidityDays: 365 }
  const metrics = createMetrics({ defaultMetrics: false })
  const a = await replica(t, double, { now, timings, metrics })
  const b = await replica(t, double, { now, timings })
  const [port, portB] = await Promise.all([serve(t, a), serve(t, b)])
  const ca = caBundleNow(double)
  const first = secretTexts(double)
  t.equal((await handshake(port, ca)).fingerprint256, new X509Certificate(a.initial.cert).fingerprint256)

  // A kept-alive connection opened before the renewal.
  const agent = new https.Agent({ keepAlive: true, maxSockets: 1, ca })
  t.teardown(() => agent.destroy())
  const review = async (): Promise<{ status: number, reused: boolean, fingerprint: string }> => await new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port, path: '/mutate', method: 'POST', agent, servername: SERVER_NAME, headers: { 'content-type': 'application/json' } }, (res) => {
      const fingerprint = (res.socket as tls.TLSSocket).getPeerCertificate().fingerprint256
      res.resume()
      res.on('end', () => resolve({ status: res.statusCode ?? 0, reused: req.reusedSocket, fingerprint }))
    })
    req.on('error', reject)
    req.end(JSON.stringify(fixture('review-create.json')))
  })
  t.match(await review(), { status: 200, reused: false })

  clock = start - 10 * DAY // 15 of 30 days left: not yet
  await a.sync()
  t.equal(successfulPuts(double), 0, 'nothing renewed before the renew point')

  clock = start // 5 of 30 days left: under a third
  await a.sync()
  const renewed = secretTexts(double)
  t.equal(successfulPuts(double), 1, 'one write')
  t.not(renewed['tls.crt'], first['tls.crt'], 'a new serving certificate')
  t.not(renewed['tls.key'], first['tls.key'], 'with a new key')
  t.equal(renewed['ca.crt'], first['ca.crt'], 'same CA: caBundle unchanged')
  t.same(allBundles(double), new Set([Buffer.from(first['ca.crt'] ?? '').toString('base64')]))
  const leaf = new X509Certificate(renewed['tls.crt'] ?? '')
  t.same(a.status(), { ready: true, lastError: undefined, caCount: 1, servingNotAfter: new Date(leaf.validTo), caNotAfter: new Date(new X509Certificate(renewed['ca.crt'] ?? '').validTo) })
  t.equal(sampleValue(parseExposition(await metrics.registry.metrics()), 'pullguard_certificate_reloads_total', { result: 'success' }), 1)

  t.equal((await handshake(port, caBundleNow(double))).fingerprint256, leaf.fingerprint256, 'a new TLS connection is shown the renewed certificate')
  const kept = await review()
  t.match(kept, { status: 200, reused: true }, 'the kept-alive connection still answers')
  t.equal(kept.fingerprint, new X509Certificate(first['tls.crt'] ?? '').fingerprint256, 'on its old session')

  await b.sync()
  t.equal(successfulPuts(double), 1, 'the other replica follows without writing')
  t.equal(b.status().servingNotAfter.getTime(), new Date(leaf.validTo).getTime())
  t.equal((await handshake(portB, caBundleNow(double))).fingerprint256, leaf.fingerprint256, 'and serves the renewed certificate')
})

t.test('renewal by the periodic sync alone', async (t) => {
  const double = await cluster(t)
  const start = Date.now()
  let clock = start - 25 * DAY
  const boot = await replica(t, double, { now: () => new Date(clock), timings: { syncIntervalMs: 25, servingValidityDays: 30, caValidityDays: 365, caOverlapMs: 1000 } })
  const port = await serve(t, boot)
  const before = new X509Certificate(boot.initial.cert).fingerprint256
  clock = start
  await waitFor(async () => (await handshake(port, caBundleNow(double))).fingerprint256 !== before, 5000, 'the renewed certificate to be served')
  t.equal(successfulPuts(double), 1)
})

t.test('a pair the server refuses is counted as a failed reload and the old one keeps serving', async (t) => {
  const double = await cluster(t)
  const start = Date.now()
  let clock = start - 25 * DAY
  const metrics = createMetrics({ defaultMetrics: false })
  const boot = await replica(t, double, { now: () => new Date(clock), metrics, timings: { syncIntervalMs: 3_600_000, servingValidityDays: 30, caValidityDays: 365 } })
  let refuse = true
  const given: string[] = []
  boot.attach({ setSecureContext: (options) => { if (refuse) throw new Error('no'); given.push(String(options.cert)) } })
  clock = start
  await boot.sync()
  const value = async (result: string): Promise<number | undefined> => sampleValue(parseExposition(await metrics.registry.metrics()), 'pullguard_certificate_reloads_total', { result })
  t.equal(await value('failure'), 1)
  t.match(boot.status().lastError, /certificate reload rejected, the old certificate keeps serving: the server refused/)
  t.equal(boot.status().servingNotAfter.getTime(), Date.parse(new X509Certificate(boot.initial.cert).validTo), 'status reports the old certificate')
  refuse = false
  await boot.sync()
  t.equal(await value('success'), 1, 'the next sync tries again')
  t.same(given, [secretTexts(double)['tls.crt']])
  t.equal(boot.status().lastError, undefined)
})

t.test('CA rotation with two replicas: no handshake fails', async (t) => {
  const double = await cluster(t)
  const start = Date.now()
  let clock = start - 21 * DAY // the CA (30 days) has 9 days left at `start`: under a third
  const now = (): Date => new Date(clock)
  const timings = { syncIntervalMs: 40, servingValidityDays: 30, caValidityDays: 30, caOverlapMs: OVERLAP }
  const [a, b] = await Promise.all([replica(t, double, { now, timings }), replica(t, double, { now, timings })])
  const ports = await Promise.all([serve(t, a), serve(t, b)])
  const oldCa = new X509Certificate(secretTexts(double)['ca-signing.crt'] ?? '')

  // The API server's view: every new connection trusts the caBundle as it is at that moment.
  const stats = { ok: 0, failed: 0, errors: [] as string[], issuers: new Set<string>() }
  // Aborted once the rotation is over: the client loop runs concurrently with the steps below.
  const clientsDone = new AbortController()
  const clients = (async () => {
    const deadline = Date.now() + 45_000
    for (let i = 0; i < 100_000 && !clientsDone.signal.aborted && Date.now() < deadline; i++) {
      try {
        const peer = await handshake(ports[i % 2] ?? 0, caBundleNow(double))
        stats.ok++
        stats.issuers.add(peer.issuer)
      } catch (err) {
        stats.failed++
        if (stats.errors.length < 5) stats.errors.push((err as Error).message)
      }
    }
  })()
  const more = async (n: number, what: string): Promise<void> => {
    const target = stats.ok + stats.failed + n
    await waitFor(() => stats.ok + stats.failed >= target, 15_000, `${n} more handshakes ${what}`)
  }
  /** Both replicas have finished a sync that began after `condition` held. */
  const settled = async (): Promise<void> => { await Promise.all([a.sync(), b.sync()]) }

  await more(20, 'before the rotation')

  clock = start - HOUR
  await waitFor(() => phaseOf(double) === 'trust-new', 10_000, 'phase trust-new')
  await settled()
  const newCa = new X509Certificate(secretTexts(double)['ca-next.crt'] ?? '')
  t.not(newCa.fingerprint256, oldCa.fingerprint256)
  t.same(certificatesIn(caBundleNow(double)).map((c) => c.fingerprint256), [newCa.fingerprint256, oldCa.fingerprint256], 'phase 1: caBundle = new + old')
  t.equal(allBundles(double).size, 1, 'in every webhook')
  t.ok(signedBy(new X509Certificate(secretTexts(double)['tls.crt'] ?? ''), oldCa), 'still serving the old CA\'s certificate')
  t.same([a.status().caCount, b.status().caCount], [2, 2])
  await more(30, 'in phase trust-new')

  clock += OVERLAP + 1000
  await waitFor(() => phaseOf(double) === 'serve-new', 10_000, 'phase serve-new')
  await settled()
  for (const port of ports) t.ok(signedBy(await handshake(port, caBundleNow(double)), newCa), 'phase 2: each replica serves the new CA\'s certificate')
  t.equal(certificatesIn(caBundleNow(double)).length, 2, 'the old CA is still trusted')
  await more(30, 'in phase serve-new')

  clock += OVERLAP + 1000
  await waitFor(() => phaseOf(double) === 'stable', 10_000, 'phase stable')
  await settled()
  await more(30, 'after the rotation')
  clientsDone.abort()
  await clients

  t.equal(stats.failed, 0, `no failed handshake (${stats.ok} good; ${stats.errors.join(' | ')})`)
  t.ok(stats.ok >= 110, 'handshakes all along')
  t.same([...stats.issuers].sort(), [oldCa.subject, newCa.subject].sort(), 'the served certificate\'s issuer changed from the old CA to the new')
  t.same(certificatesIn(caBundleNow(double)).map((c) => c.fingerprint256), [newCa.fingerprint256], 'the final bundle holds only the new CA')
  t.same(allBundles(double), new Set([Buffer.from(newCa.toString()).toString('base64')]))
  const final = secretTexts(double)
  t.equal(final['ca-signing.crt'], newCa.toString())
  t.notOk('ca-next.crt' in final || 'ca-next.key' in final)
  t.equal(sinceOf(double), undefined)
  t.same([a.status().caCount, b.status().caCount], [1, 1])
  t.equal(writesFor(/phase trust-new/), 1, 'one replica started the rotation')
  t.equal(writesFor(/phase serve-new/), 1, 'one replica switched to the new CA')
  t.equal(writesFor(/phase stable/), 1, 'one replica dropped the old CA')
  const puts = successfulPuts(double)
  await settled()
  t.equal(successfulPuts(double), puts, 'then nothing more to write')
})

t.test('the rotation waits while the caBundle cannot be written, then restarts the overlap', async (t) => {
  const double = await cluster(t)
  const start = Date.now()
  let clock = start - 21 * DAY
  const boot = await replica(t, double, { now: () => new Date(clock), timings: { syncIntervalMs: 3_600_000, servingValidityDays: 30, caValidityDays: 30, caOverlapMs: OVERLAP } })
  const oldCa = new X509Certificate(secretTexts(double)['ca-signing.crt'] ?? '')
  double.deny('mutatingwebhookconfigurations', 'patch')

  clock = start - 3 * HOUR
  await boot.sync()
  t.equal(phaseOf(double), 'trust-new', 'the new CA goes into the Secret')
  t.equal(certificatesIn(caBundleNow(double)).length, 1, 'but not into the forbidden caBundle')
  t.match(boot.status().lastError, /forbidden to patch mutatingwebhookconfigurations\/pullguard/)

  clock += 3 * OVERLAP
  await boot.sync()
  t.equal(phaseOf(double), 'trust-new', 'no switch to the new CA while the API server may not trust it')
  t.ok(signedBy(new X509Certificate(secretTexts(double)['tls.crt'] ?? ''), oldCa))

  double.allow()
  await boot.sync()
  t.equal(certificatesIn(caBundleNow(double)).length, 2, 'caBundle = new + old')
  t.equal(sinceOf(double), new Date(clock).toISOString(), 'the overlap starts when the caBundle was written')
  t.equal(boot.status().lastError, undefined)

  clock += OVERLAP / 2
  await boot.sync()
  t.equal(phaseOf(double), 'trust-new', 'half an overlap: still waiting')
  clock += OVERLAP / 2 + 1000
  await boot.sync()
  t.equal(phaseOf(double), 'serve-new')
  t.notOk(signedBy(new X509Certificate(secretTexts(double)['tls.crt'] ?? ''), oldCa), 'now signed by the new CA')
})

t.test('logs hold no key material', async (t) => {
  const text = logs.text()
  t.ok(keysSeen.size >= 6, 'keys to look for')
  t.notMatch(text, /PRIVATE KEY/)
  t.notMatch(text, /[A-Za-z0-9+/]{60,}/, 'no long base64 run at all')
  for (const key of keysSeen) {
    const body = key.split('\n').filter((l) => l !== '' && !l.startsWith('-----'))
    t.notOk(body.some((line) => text.includes(line)), 'no PEM line of a key')
    t.notOk(text.includes(Buffer.from(key).toString('base64').slice(0, 40)), 'no base64 of a key')
  }
})
