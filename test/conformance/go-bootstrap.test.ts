/**
 * `--bootstrap-certs` checked by Go the way the API server would: the
 * bootstrap (src/bootstrap/certificate-bootstrap.ts) runs against the API server double with
 * an injected clock, pullguard serves the Secret's pair, and the Go client
 * calls it trusting (a) `ca.crt` from the Secret and (b) every caBundle the
 * bootstrap wrote into the webhook configurations, before and after a
 * serving-certificate renewal and at every phase of a CA rotation. During a
 * rotation each API server learns the new caBundle late, so the bundle of the
 * phase before must keep working too. Every certificate in the Secret is
 * also parsed by Go's crypto/x509.
 *
 * Before pullguard 0.2 the bootstrap CA's name `pullguard-ca@<unixtime>`
 * was a PrintableString, which Go refuses: every check here failed, while
 * the Node-based tests in test/bootstrap/ passed.
 */
import t, { type Test } from 'tap'
import { X509Certificate } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { startCertificateBootstrap, type BootstrapTimings, type CertificateBootstrap } from '../../src/bootstrap/certificate-bootstrap.js'
import { serviceDnsNames } from '../../src/tls/names.js'
import { ApiServerDouble } from '../helpers/api-server-double.js'
import { testConfig } from '../helpers/fixtures.js'
import { goClientFor, type GoClient } from '../helpers/go-client.js'
import { legacyBootstrapCa, legacyServing } from '../helpers/legacy-ca.js'
import { listenWith } from '../helpers/server.js'
import { createLogger } from '../../src/logger.js'

const NS = 'pullguard'
const SECRET = 'pullguard-tls'
const SERVICE = { service: 'pullguard', namespace: NS }
const SERVER_NAME = `pullguard.${NS}.svc`
const HOUR = 3_600_000
const DAY = 24 * HOUR
const OVERLAP = 10 * 60_000
const log = createLogger({ level: 'silent' })
const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64')
const fingerprint = (pem: string): string => new X509Certificate(pem).fingerprint256

const go = await goClientFor(t)

async function cluster (t: Test): Promise<ApiServerDouble> {
  const double = new ApiServerDouble()
  await double.start()
  t.teardown(async () => { await double.stop() })
  const hook = (name: string, path: string): Record<string, unknown> => ({
    name, admissionReviewVersions: ['v1'], sideEffects: 'None', clientConfig: { service: { ...SERVICE, name: SERVICE.service, path } },
  })
  double.create('namespaces', { metadata: { name: NS } })
  double.create('mutatingwebhookconfigurations', { metadata: { name: 'pullguard' }, webhooks: [hook('pods.pullguard.dev', '/mutate'), hook('ephemeral.pullguard.dev', '/mutate')] })
  double.create('validatingwebhookconfigurations', { metadata: { name: 'pullguard' }, webhooks: [hook('always-pull.pullguard.dev', '/validate')] })
  return double
}

async function replica (t: Test, double: ApiServerDouble, now: () => Date, timings: BootstrapTimings): Promise<CertificateBootstrap> {
  const boot = await startCertificateBootstrap({
    kubeConfig: double.kubeConfig(),
    namespace: NS,
    secretName: SECRET,
    service: SERVICE.service,
    webhookConfigName: 'pullguard',
    log,
    now,
    timings: { syncIntervalMs: 3_600_000, ...timings }, // syncs are driven by the test
  })
  t.teardown(async () => { await boot.stop() })
  return boot
}

async function serve (t: Test, boot: CertificateBootstrap): Promise<number> {
  const { app, port } = await listenWith(testConfig(), boot.initial, log)
  boot.attach((app as FastifyInstance).server as never)
  t.teardown(async () => { await app.close() })
  return port
}

function secretTexts (double: ApiServerDouble): Record<string, string> {
  const data = double.get('secrets', SECRET, NS).data as Record<string, string>
  return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]))
}

const phaseOf = (double: ApiServerDouble): string | undefined =>
  double.get('secrets', SECRET, NS).metadata.annotations?.['pullguard.dev/ca-rotation-phase']

interface Hook { where: string, caBundle: string, path: string, validating: boolean }

/** Every webhook's clientConfig, as the API server's webhook client reads it. */
function hooksOf (double: ApiServerDouble): Hook[] {
  const out: Hook[] = []
  for (const resource of ['mutatingwebhookconfigurations', 'validatingwebhookconfigurations'] as const) {
    for (const h of double.get(resource, 'pullguard').webhooks as Array<{ name: string, clientConfig: { caBundle?: string, service: { path: string } } }>) {
      out.push({ where: `${resource}/pullguard ${h.name}`, caBundle: h.clientConfig.caBundle ?? '', path: h.clientConfig.service.path, validating: resource.startsWith('validating') })
    }
  }
  return out
}

/**
 * The checks of one moment: Go accepts the served certificate and the
 * AdmissionReview answer with ca.crt, with every webhook's caBundle, and
 * with `lagging` (caBundles an API server may still hold); Go parses every
 * certificate in the Secret. Returns the served certificate's fingerprint
 * as Go saw it.
 */
async function goAccepts (t: Test, client: GoClient, double: ApiServerDouble, port: number, lagging: Array<{ name: string, caBundle: string }> = []): Promise<string> {
  const texts = secretTexts(double)
  const served: string[] = []
  const calls: Array<{ name: string, caBundle: string, path: string, validating: boolean }> = [
    { name: 'Secret ca.crt', caBundle: b64(texts['ca.crt'] ?? ''), path: '/mutate', validating: false },
    ...hooksOf(double).map((h) => ({ name: `caBundle of ${h.where}`, caBundle: h.caBundle, path: h.path, validating: h.validating })),
    ...lagging.map((l) => ({ ...l, path: '/mutate', validating: false })),
  ]
  for (const call of calls) {
    const r = await client.review({ port, ...SERVICE, ca: { bundle: call.caBundle }, path: call.path, validating: call.validating })
    t.equal(r.error, '', `Go accepts pullguard trusting ${call.name}`)
    // /validate denies the fixture's IfNotPresent pods under the test config: a policy answer, still a valid one.
    if (!call.validating) t.equal(r.summary?.allowed, true, 'the pod is admitted')
    served.push(r.summary?.tls?.fingerprint256 ?? '')
  }
  t.equal(new Set(served).size, 1, 'one served certificate')

  const certs = [
    { name: 'tls.crt', pem: texts['tls.crt'] ?? '', role: 'serving' as const },
    { name: 'ca.crt', pem: texts['ca.crt'] ?? '', role: 'ca' as const },
    { name: 'ca-signing.crt', pem: texts['ca-signing.crt'] ?? '', role: 'ca' as const },
    ...(texts['ca-next.crt'] === undefined ? [] : [{ name: 'ca-next.crt', pem: texts['ca-next.crt'], role: 'ca' as const }]),
  ]
  const inspected = await client.inspect(certs, { dns: SERVER_NAME, ca: { pem: texts['ca.crt'] ?? '' } })
  t.equal(inspected.error, '', 'Go parses and accepts every certificate in the Secret')
  t.equal(served[0], fingerprint(texts['tls.crt'] ?? ''), 'Go was shown the Secret\'s tls.crt')
  return served[0] ?? ''
}

if (go !== undefined) {
  t.test('serving-certificate renewal: Go accepts before and after', async (t) => {
    const double = await cluster(t)
    const start = Date.now()
    let clock = start - 25 * DAY
    const boot = await replica(t, double, () => new Date(clock), { servingValidityDays: 30, caValidityDays: 365 })
    const port = await serve(t, boot)
    const bundleBefore = hooksOf(double)[0]?.caBundle ?? ''
    const before = await goAccepts(t, go, double, port)

    clock = start // 5 of 30 days left: renewed
    await boot.sync()
    t.equal(boot.status().lastError, undefined)
    const after = await goAccepts(t, go, double, port, [{ name: 'the caBundle from before the renewal', caBundle: bundleBefore }])
    t.not(after, before, 'Go is shown the renewed certificate')
  })

  t.test('CA rotation: Go accepts in every phase, also with the previous phase\'s caBundle', async (t) => {
    const double = await cluster(t)
    const start = Date.now()
    let clock = start - 21 * DAY // the CA (30 days) has 9 days left at `start`: under a third
    const boot = await replica(t, double, () => new Date(clock), { servingValidityDays: 30, caValidityDays: 30, caOverlapMs: OVERLAP })
    const port = await serve(t, boot)

    const steps: Array<{ phase: string, advance: () => void }> = [
      { phase: 'stable', advance: () => {} },
      { phase: 'trust-new', advance: () => { clock = start - HOUR } },
      { phase: 'serve-new', advance: () => { clock += OVERLAP + 1000 } },
      { phase: 'stable', advance: () => { clock += OVERLAP + 1000 } },
    ]
    let previous: string | undefined
    const issuers = new Set<string>()
    for (const [i, step] of steps.entries()) {
      await t.test(`step ${i + 1}: phase ${step.phase}`, async (t) => {
        step.advance()
        await boot.sync()
        t.equal(phaseOf(double), step.phase)
        t.equal(boot.status().lastError, undefined)
        const lagging = previous === undefined ? [] : [{ name: 'the previous phase\'s caBundle (an API server that has not caught up)', caBundle: previous }]
        await goAccepts(t, go, double, port, lagging)
        issuers.add(new X509Certificate(secretTexts(double)['tls.crt'] ?? '').issuer)
        previous = hooksOf(double)[0]?.caBundle
      })
    }
    t.equal(issuers.size, 2, 'the serving certificate moved from the old CA to the new one')
  })

  t.test('upgrade from a Secret whose CA Go refuses: Go fails before, accepts after', async (t) => {
    const double = await cluster(t)
    const now = new Date()
    const legacyCa = legacyBootstrapCa(now)
    const legacyLeaf = legacyServing(legacyCa, serviceDnsNames(SERVICE.service, NS), now)
    double.create('secrets', {
      metadata: { name: SECRET, namespace: NS, labels: { 'app.kubernetes.io/managed-by': 'pullguard' }, annotations: { 'pullguard.dev/ca-rotation-phase': 'stable' } },
      type: 'kubernetes.io/tls',
      data: { 'ca-signing.crt': b64(legacyCa.cert), 'ca-signing.key': b64(legacyCa.key), 'ca.crt': b64(legacyCa.cert), 'tls.crt': b64(legacyLeaf.cert), 'tls.key': b64(legacyLeaf.key) },
    })
    // What the old version served, and what it had put in the caBundle.
    const old = await listenWith(testConfig(), legacyLeaf, log)
    t.teardown(async () => { await old.app.close() })
    const refused = await go.review({ port: old.port, ...SERVICE, ca: { bundle: b64(legacyCa.cert) } })
    t.equal(refused.code, 1, 'the old installation: the API server cannot load the caBundle')
    t.match(refused.error, /invalid PrintableString/)

    const boot = await replica(t, double, () => now, {})
    const port = await serve(t, boot)
    t.not(fingerprint(secretTexts(double)['ca.crt'] ?? ''), fingerprint(legacyCa.cert), 'a new CA')
    await goAccepts(t, go, double, port)
  })
}
