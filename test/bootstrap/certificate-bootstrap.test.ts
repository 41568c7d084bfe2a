/**
 * Certificate bootstrap against the API server double (real HTTP, real
 * client-node) and real TLS: start-up, the create race between replicas,
 * repair of a bad Secret, caBundle patching and RBAC denial.
 */
import t, { type Test } from 'tap'
import { handshake as handshakeAs } from '../helpers/handshake.js'
import { X509Certificate } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import type { FastifyInstance } from 'fastify'
import { buildApp } from '../../src/app.js'
import { createLogger } from '../../src/logger.js'
import { createMetrics } from '../../src/metrics.js'
import { startCertificateBootstrap, type BootstrapOptions, type CertificateBootstrap } from '../../src/bootstrap/certificate-bootstrap.js'
import { planSecret } from '../../src/bootstrap/plan.js'
import { secretAnnotations, secretTexts } from '../../src/bootstrap/secret-layout.js'
import { serviceDnsNames } from '../../src/tls/names.js'
import { strictCertificateProblems } from '../../src/tls/strict-der.js'
import { legacyBootstrapCa, legacyServing } from '../helpers/legacy-ca.js'
import { ApiServerDouble, type KObject } from '../helpers/api-server-double.js'
import { testConfig } from '../helpers/fixtures.js'
import { parseExposition, sampleValue } from '../helpers/prometheus.js'
import { LogCapture } from '../helpers/server.js'

const NS = 'pullguard'
const SECRET = 'pullguard-tls'
const SERVER_NAME = `pullguard.${NS}.svc` // what the API server dials
const logs = new LogCapture()
const log = createLogger({ level: 'debug', destination: logs })
const keysSeen = new Set<string>()

function webhook (name: string, path: string): Record<string, unknown> {
  return {
    name,
    admissionReviewVersions: ['v1'],
    sideEffects: 'None',
    clientConfig: { service: { namespace: NS, name: 'pullguard', path } },
    rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] }],
  }
}

async function cluster (t: Test, opts: { validating?: boolean } = {}): Promise<ApiServerDouble> {
  const double = new ApiServerDouble()
  await double.start()
  t.teardown(async () => { await double.stop() })
  double.create('namespaces', { metadata: { name: NS } })
  double.create('mutatingwebhookconfigurations', {
    metadata: { name: 'pullguard' },
    webhooks: [webhook('pods.pullguard.dev', '/mutate'), webhook('ephemeral.pullguard.dev', '/mutate')],
  })
  if (opts.validating !== false) {
    double.create('validatingwebhookconfigurations', { metadata: { name: 'pullguard' }, webhooks: [webhook('always-pull.pullguard.dev', '/validate')] })
  }
  // Unrelated configurations must be left alone.
  double.create('mutatingwebhookconfigurations', { metadata: { name: 'other' }, webhooks: [webhook('other.example.com', '/x')] })
  return double
}

async function replica (t: Test, double: ApiServerDouble, extra: Partial<BootstrapOptions> = {}): Promise<CertificateBootstrap> {
  const boot = await startCertificateBootstrap({
    kubeConfig: double.kubeConfig(),
    namespace: NS,
    secretName: SECRET,
    service: 'pullguard',
    webhookConfigName: 'pullguard',
    log,
    timings: { syncIntervalMs: 3_600_000 }, // syncs are driven by the tests here
    ...extra,
  })
  t.teardown(async () => { await boot.stop() })
  return boot
}

function secretTextsOf (double: ApiServerDouble): Record<string, string> {
  const secret = double.get('secrets', SECRET, NS)
  const texts: Record<string, string> = {}
  for (const [k, v] of Object.entries(secret.data as Record<string, string>)) {
    texts[k] = Buffer.from(v, 'base64').toString('utf8')
    if (k.endsWith('.key')) keysSeen.add(texts[k] ?? '')
  }
  return texts
}

function bundlesOf (double: ApiServerDouble): string[] {
  const out: string[] = []
  for (const resource of ['mutatingwebhookconfigurations', 'validatingwebhookconfigurations'] as const) {
    let config: KObject
    try { config = double.get(resource, 'pullguard') } catch { continue }
    for (const hook of config.webhooks as Array<{ clientConfig: { caBundle?: string } }>) out.push(hook.clientConfig.caBundle ?? '')
  }
  return out
}

const fingerprint = (pem: string | Buffer): string => new X509Certificate(pem).fingerprint256
const b64 = (text: string): string => Buffer.from(text).toString('base64')

async function serve (t: Test, boot: CertificateBootstrap): Promise<number> {
  const app: FastifyInstance = buildApp({ config: testConfig(), tls: boot.initial, logger: log })
  await app.listen({ port: 0, host: '127.0.0.1' })
  boot.attach(app.server as never)
  t.teardown(async () => { await app.close() })
  return (app.server.address() as AddressInfo).port
}

const handshake = async (port: number, ca: string): Promise<X509Certificate> => await handshakeAs(port, ca, SERVER_NAME)

const writes = (double: ApiServerDouble, method: string): number[] =>
  double.requests.filter((r) => r.resource === 'secrets' && r.method === method).map((r) => r.status ?? 0)

t.test('fresh cluster: one Secret with a CA and a serving certificate, every webhook trusts the CA', async (t) => {
  const double = await cluster(t)
  const metrics = createMetrics({ defaultMetrics: false })
  const boot = await replica(t, double, { metrics })
  const secret = double.get('secrets', SECRET, NS)
  t.equal(secret.type, 'kubernetes.io/tls')
  t.same(secret.metadata.labels, { 'app.kubernetes.io/managed-by': 'pullguard' })
  t.same(secret.metadata.annotations, { 'pullguard.dev/ca-rotation-phase': 'stable' })
  const texts = secretTextsOf(double)
  t.same(Object.keys(texts).sort(), ['ca-signing.crt', 'ca-signing.key', 'ca.crt', 'tls.crt', 'tls.key'])
  const ca = new X509Certificate(texts['ca.crt'] ?? '')
  t.ok(ca.ca, 'ca.crt is a CA')
  t.equal(texts['ca.crt'], texts['ca-signing.crt'], 'the bundle is the signing CA alone')
  const leaf = new X509Certificate(texts['tls.crt'] ?? '')
  t.ok(leaf.verify(ca.publicKey) && leaf.checkIssued(ca), 'the serving certificate is signed by the CA')
  t.equal(leaf.subjectAltName, serviceDnsNames('pullguard', NS).map((n) => `DNS:${n}`).join(', '), 'exactly the Service SANs, no localhost')
  t.equal(boot.initial.cert, texts['tls.crt'])
  t.equal(boot.initial.key, texts['tls.key'])

  const bundles = bundlesOf(double)
  t.equal(bundles.length, 3, 'two mutating webhooks and one validating')
  t.same(bundles, [b64(texts['ca.crt'] ?? ''), b64(texts['ca.crt'] ?? ''), b64(texts['ca.crt'] ?? '')], 'every webhook has caBundle = base64 of ca.crt')
  t.notOk((double.get('mutatingwebhookconfigurations', 'other').webhooks as Array<{ clientConfig: Record<string, unknown> }>)[0]?.clientConfig.caBundle, 'other configurations untouched')

  const status = boot.status()
  t.same(status, { ready: true, lastError: undefined, caCount: 1, servingNotAfter: new Date(leaf.validTo), caNotAfter: new Date(ca.validTo) })

  const port = await serve(t, boot)
  const peer = await handshake(port, Buffer.from(bundles[0] ?? '', 'base64').toString('utf8'))
  t.equal(peer.fingerprint256, leaf.fingerprint256, 'a client trusting the caBundle accepts the served certificate for NAME.NS.svc')

  const before = double.requests.length
  await boot.sync()
  const after = double.requests.slice(before)
  t.same(after.filter((r) => r.method !== 'GET'), [], 'a sync with nothing to do writes nothing')
  t.equal(boot.status().lastError, undefined)
  const exposition = parseExposition(await metrics.registry.metrics())
  t.notOk(sampleValue(exposition, 'pullguard_certificate_reloads_total', { result: 'success' }), 'no reload counted')
})

t.test('no ValidatingWebhookConfiguration is fine', async (t) => {
  const double = await cluster(t, { validating: false })
  const boot = await replica(t, double)
  t.equal(boot.status().lastError, undefined)
  t.equal(bundlesOf(double).length, 2)
  t.ok(logs.records().some((r) => r.level === 20 && r.configuration === 'validatingwebhookconfigurations/pullguard'), 'logged at debug')
})

t.test('two replicas racing at start-up: one create wins and both serve its certificate', async (t) => {
  for (let round = 1; round <= 4; round++) {
    await t.test(`round ${round}`, async (t) => {
      const double = await cluster(t)
      const [a, b] = await Promise.all([replica(t, double), replica(t, double)])
      t.same(writes(double, 'POST').sort(), [201, 409], 'exactly one create succeeded, the other got AlreadyExists')
      t.same(writes(double, 'PUT'), [], 'nobody replaced the winner\'s Secret')
      const texts = secretTextsOf(double)
      t.equal(fingerprint(a.initial.cert), fingerprint(texts['tls.crt'] ?? ''))
      t.equal(fingerprint(b.initial.cert), fingerprint(a.initial.cert), 'both serve the same certificate')
      const created = double.requests.find((r) => r.method === 'POST' && r.status === 201)
      t.ok(created, 'the create is in the log')
      const [portA, portB] = await Promise.all([serve(t, a), serve(t, b)])
      const ca = Buffer.from(bundlesOf(double)[0] ?? '', 'base64').toString('utf8')
      const [peerA, peerB] = await Promise.all([handshake(portA, ca), handshake(portB, ca)])
      t.equal(peerA.fingerprint256, peerB.fingerprint256, 'over TLS too')
      t.same(new Set(bundlesOf(double)).size, 1, 'one caBundle everywhere')
    })
  }
})

t.test('a corrupt serving certificate is replaced (PUT with resourceVersion), keeping the CA', async (t) => {
  const double = await cluster(t)
  const first = await replica(t, double)
  await first.stop()
  const before = secretTextsOf(double)
  const secret = double.get('secrets', SECRET, NS)
  double.update('secrets', { ...secret, data: { ...secret.data, 'tls.crt': b64('garbage') } }, NS)
  const rv = double.resourceVersion
  const boot = await replica(t, double)
  const put = double.requests.filter((r) => r.resource === 'secrets' && r.method === 'PUT')
  t.same(put.map((r) => r.status), [200])
  const after = secretTextsOf(double)
  t.not(double.resourceVersion, rv)
  t.equal(after['ca-signing.crt'], before['ca-signing.crt'], 'same CA: the webhooks need no new caBundle')
  t.equal(fingerprint(boot.initial.cert), fingerprint(after['tls.crt'] ?? ''))
  t.not(after['tls.key'], before['tls.key'], 'a new key')
  t.ok(new X509Certificate(after['tls.crt'] ?? '').verify(new X509Certificate(after['ca.crt'] ?? '').publicKey))
})

t.test('a Secret of garbage is replaced with a new CA, and the caBundle follows', async (t) => {
  const double = await cluster(t)
  double.create('secrets', { metadata: { name: SECRET, namespace: NS, labels: { keep: 'me' } }, type: 'kubernetes.io/tls', data: { 'tls.crt': b64('x'), 'tls.key': b64('y'), 'ca.crt': b64('z') } })
  const boot = await replica(t, double)
  const texts = secretTextsOf(double)
  t.equal(double.get('secrets', SECRET, NS).metadata.labels?.keep, 'me', 'foreign labels are kept')
  t.equal(fingerprint(boot.initial.cert), fingerprint(texts['tls.crt'] ?? ''))
  t.same(new Set(bundlesOf(double)), new Set([b64(texts['ca.crt'] ?? '')]))
})

t.test('a replica that loses the replace race to another replica follows the winner', async (t) => {
  const double = await cluster(t)
  double.create('secrets', { metadata: { name: SECRET, namespace: NS }, type: 'kubernetes.io/tls', data: { 'tls.crt': b64('x'), 'tls.key': b64('y') } })
  // Another replica writes a good Secret between our GET and our PUT.
  const other = planSecret(undefined, { service: 'pullguard', namespace: NS, servingValidityDays: 90, caValidityDays: 365, renewBeforeFraction: 1 / 3, caOverlapMs: 600_000 }, { now: new Date() }).content
  const original = double.update.bind(double)
  let interleaved = false
  double.update = (resource, body, namespace, urlName) => {
    if (!interleaved && resource === 'secrets') {
      interleaved = true
      const current = double.get('secrets', SECRET, NS)
      const data = Object.fromEntries(Object.entries(secretTexts(other)).map(([k, v]) => [k, b64(v)]))
      original('secrets', { ...current, metadata: { ...current.metadata, annotations: secretAnnotations(other) }, data }, NS, SECRET)
    }
    return original(resource, body, namespace, urlName)
  }
  const boot = await replica(t, double)
  t.ok(interleaved)
  t.same(writes(double, 'PUT'), [409], 'our PUT carried the old resourceVersion and was refused; no second write')
  t.equal(fingerprint(boot.initial.cert), fingerprint(other.serving.cert), 'we serve what the other replica wrote')
  t.equal(secretTextsOf(double)['tls.crt'], other.serving.cert, 'the other replica\'s write stands')
  t.same(new Set(bundlesOf(double)), new Set([b64(other.bundle.join(''))]))
})

t.test('two replicas repairing the same corrupt Secret end up on one certificate', async (t) => {
  const double = await cluster(t)
  double.create('secrets', { metadata: { name: SECRET, namespace: NS }, type: 'kubernetes.io/tls', data: { 'tls.crt': b64('x') } })
  const [a, b] = await Promise.all([replica(t, double), replica(t, double)])
  t.equal(fingerprint(a.initial.cert), fingerprint(b.initial.cert))
  t.equal(writes(double, 'PUT').filter((s) => s === 200).length, 1, 'one replace landed')
  t.equal(fingerprint(a.initial.cert), fingerprint(secretTextsOf(double)['tls.crt'] ?? ''))
})

t.test('a Secret deleted under a running replica is re-created from memory, same CA', async (t) => {
  const double = await cluster(t)
  const boot = await replica(t, double)
  const before = secretTextsOf(double)
  double.remove('secrets', SECRET, NS)
  await boot.sync()
  const after = secretTextsOf(double)
  t.same(after, before, 'the same content')
  t.equal(boot.status().lastError, undefined)
})

t.test('403 on the webhook configurations: a clear error in status, serving continues', async (t) => {
  const double = await cluster(t)
  double.deny('mutatingwebhookconfigurations')
  double.deny('validatingwebhookconfigurations', 'patch')
  const boot = await replica(t, double)
  const status = boot.status()
  t.equal(status.ready, true)
  t.match(status.lastError, /forbidden to get mutatingwebhookconfigurations\/pullguard: .*RBAC.*cannot get resource "mutatingwebhookconfigurations"/)
  t.match(status.lastError, /forbidden to patch validatingwebhookconfigurations\/pullguard/)
  t.ok(logs.records().some((r) => r.level === 50 && /forbidden/.test(String(r.error))), 'logged as an error')
  const port = await serve(t, boot)
  const peer = await handshake(port, secretTextsOf(double)['ca.crt'] ?? '')
  t.equal(peer.fingerprint256, fingerprint(boot.initial.cert), 'serving continues')

  double.allow()
  await boot.sync()
  t.equal(boot.status().lastError, undefined, 'cleared once RBAC allows it')
  t.same(new Set(bundlesOf(double)), new Set([b64(secretTextsOf(double)['ca.crt'] ?? '')]))
})

t.test('start-up fails clearly when the Secret cannot be read', async (t) => {
  const double = await cluster(t)
  double.deny('secrets', 'get')
  await t.rejects(replica(t, double), /certificate bootstrap failed: cannot read Secret pullguard\/pullguard-tls: secrets "pullguard-tls" is forbidden/)
  double.allow()
  double.deny('secrets', 'create')
  await t.rejects(replica(t, double), /cannot create Secret pullguard\/pullguard-tls: .*forbidden/)
})

t.test('bad options are refused before any request', async (t) => {
  const double = await cluster(t)
  const count = double.requests.length
  await t.rejects(replica(t, double, { service: 'Bad_Name' }), /invalid service/)
  await t.rejects(replica(t, double, { timings: { servingValidityDays: 400, caValidityDays: 365 } }), /longer than caValidityDays/)
  await t.rejects(replica(t, double, { timings: { renewBeforeFraction: 1 } }), /renewBeforeFraction/)
  t.equal(double.requests.length, count)
})

t.test('logs hold no key material', async (t) => {
  const text = logs.text()
  t.ok(logs.lines.length > 20, 'there are logs to check')
  t.ok(keysSeen.size > 5, 'keys to look for')
  t.notMatch(text, /PRIVATE KEY/)
  t.notMatch(text, /BEGIN CERTIFICATE/)
  t.notMatch(text, /[A-Za-z0-9+/]{60,}/, 'no long base64 run at all')
  for (const key of keysSeen) {
    const body = key.split('\n').filter((l) => l !== '' && !l.startsWith('-----'))
    t.notOk(body.some((line) => text.includes(line)), 'no PEM line of a key')
    t.notOk(text.includes(b64(key).slice(0, 40)), 'no base64 of a key')
  }
})

t.test('upgrade from a version whose CA Go refused: the CA is replaced at start-up and the caBundle follows', async (t) => {
  const double = await cluster(t)
  const now = new Date()
  const legacyCa = legacyBootstrapCa(now)
  const legacyLeaf = legacyServing(legacyCa, serviceDnsNames('pullguard', NS), now)
  double.create('secrets', {
    metadata: { name: SECRET, namespace: NS, labels: { 'app.kubernetes.io/managed-by': 'pullguard' }, annotations: { 'pullguard.dev/ca-rotation-phase': 'stable' } },
    type: 'kubernetes.io/tls',
    data: { 'ca-signing.crt': b64(legacyCa.cert), 'ca-signing.key': b64(legacyCa.key), 'ca.crt': b64(legacyCa.cert), 'tls.crt': b64(legacyLeaf.cert), 'tls.key': b64(legacyLeaf.key) },
  })
  for (const resource of ['mutatingwebhookconfigurations', 'validatingwebhookconfigurations'] as const) {
    const config = double.get(resource, 'pullguard')
    for (const hook of config.webhooks as Array<{ clientConfig: Record<string, unknown> }>) hook.clientConfig.caBundle = b64(legacyCa.cert)
    double.update(resource, config)
  }
  const boot = await replica(t, double)
  const texts = secretTextsOf(double)
  t.not(fingerprint(texts['ca.crt'] ?? ''), fingerprint(legacyCa.cert), 'a new CA')
  t.equal(texts['ca.crt'], texts['ca-signing.crt'], 'the old CA is not kept in the bundle')
  t.same(strictCertificateProblems(texts['ca.crt'] ?? ''), [], 'the new CA reads under strict DER rules')
  t.same(strictCertificateProblems(texts['tls.crt'] ?? ''), [])
  t.same(new Set(bundlesOf(double)), new Set([b64(texts['ca.crt'] ?? '')]), 'every webhook now trusts the new CA')
  t.ok(logs.records().some((r) => Array.isArray(r.reasons) && (r.reasons as string[]).some((s) => /rejected by strict X.509 parsers/.test(s))), 'the reason is logged')
  const port = await serve(t, boot)
  const peer = await handshake(port, texts['ca.crt'] ?? '')
  t.equal(peer.fingerprint256, fingerprint(texts['tls.crt'] ?? ''))
})
