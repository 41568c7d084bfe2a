import t from 'tap'
import { fastify } from 'fastify'
import { register as globalRegistry } from 'prom-client'
import {
  createMetrics, operationLabel, DURATION_BUCKETS, ENDPOINTS, OTHER, RELOAD_RESULTS, WEBHOOKS, type InformerStatus, type Metrics,
} from '../src/metrics.js'
import { metricsRoute } from '../src/routes/metrics.js'
import { fixture, fixtureText, testConfig } from './helpers/fixtures.js'
import { parseExposition, sampleValue, type Exposition } from './helpers/prometheus.js'
import { startServer } from './helpers/server.js'
import { LABEL_VALUES } from './manifests/promql.js'

const scrape = async (metrics: Metrics): Promise<Exposition> => parseExposition(await metrics.registry.metrics())

// Strings an attacker could get into a request, and values a buggy caller could pass.
const HOSTILE: unknown[] = [
  'PATCH', 'create', 'UPDATE/status', 'CREATE/binding', '', ' ', 'other2', '__proto__', 'constructor',
  '"}\nevil_metric 1\n#', 'a'.repeat(10_000), '\u0000', 'mutate\n', 'ümlaut', undefined, null, 42, {}, ['CREATE'],
]

const EXPECTED: Record<string, { type: string, labels: string[] }> = {
  pullguard_admission_reviews_received_total: { type: 'counter', labels: ['webhook'] },
  pullguard_admission_last_review_timestamp_seconds: { type: 'gauge', labels: ['webhook'] },
  pullguard_admission_requests_total: { type: 'counter', labels: ['decision', 'endpoint', 'operation'] },
  pullguard_admission_duration_seconds: { type: 'histogram', labels: ['endpoint'] },
  pullguard_secrets_injected_total: { type: 'counter', labels: ['entry', 'source'] },
  pullguard_pull_policies_forced_total: { type: 'counter', labels: ['field'] },
  pullguard_denials_total: { type: 'counter', labels: ['endpoint'] },
  pullguard_warnings_total: { type: 'counter', labels: ['reason'] },
  pullguard_config_reloads_total: { type: 'counter', labels: ['result'] },
  pullguard_certificate_reloads_total: { type: 'counter', labels: ['result'] },
  pullguard_informer_synced: { type: 'gauge', labels: ['resource'] },
  pullguard_informer_staleness_seconds: { type: 'gauge', labels: ['resource'] },
  pullguard_informer_relists_total: { type: 'counter', labels: ['resource'] },
  pullguard_informer_watch_restarts_total: { type: 'counter', labels: ['resource'] },
  pullguard_build_info: { type: 'gauge', labels: ['node', 'version'] },
  pullguard_certificate_expiry_timestamp_seconds: { type: 'gauge', labels: ['certificate'] },
  pullguard_config_last_reload_successful: { type: 'gauge', labels: [] },
  pullguard_config_last_reload_success_timestamp_seconds: { type: 'gauge', labels: [] },
}

function exercise (m: Metrics): void {
  m.reviewReceiver('mutate')()
  m.admissionRequests.inc({ endpoint: 'mutate', operation: 'CREATE', decision: 'patched' })
  m.admissionDuration.observe('mutate', 0.0003)
  m.secretsInjected.inc('config', 0)
  m.pullPoliciesForced.inc('containers', 2)
  m.denials.inc('validate')
  m.warnings.inc('secret-missing')
  m.configReloads.inc('success')
  m.certificateReloads.inc('failure')
  m.setInformerSource(() => [{ resource: 'secrets/dockerconfigjson', synced: true, lastUpdated: Date.now() }])
  m.setCertificateSource(() => ({ serving: new Date('2030-01-01T00:00:00Z') }))
}

t.test('every metric has its name, type, help and label set', async (t) => {
  const m = createMetrics({ defaultMetrics: false })
  exercise(m)
  const exp = await scrape(m)
  for (const [name, want] of Object.entries(EXPECTED)) {
    t.equal(exp.types.get(name), want.type, `${name} is a ${want.type}`)
    t.ok((exp.help.get(name) ?? '').length > 10, `${name} has help`)
    const samples = exp.samples.filter((s) => s.name === name || s.name.startsWith(`${name}_`))
    t.ok(samples.length > 0, `${name} has samples`)
    for (const s of samples) {
      t.same(Object.keys(s.labels).filter((k) => k !== 'le').sort(), want.labels, `${s.name} labels`)
    }
  }
  t.equal(sampleValue(exp, 'pullguard_admission_requests_total', { endpoint: 'mutate', operation: 'CREATE', decision: 'patched' }), 1)
  t.equal(sampleValue(exp, 'pullguard_pull_policies_forced_total', { field: 'containers' }), 2)
  t.equal(sampleValue(exp, 'pullguard_secrets_injected_total', { source: 'config', entry: '0' }), 1)
  t.same([...exp.types.keys()].filter((n) => n.startsWith('pullguard_')).sort(), Object.keys(EXPECTED).sort(), 'nothing else, nothing unbounded')
})

t.test('operations: the known ones, the ephemeral-containers subresource, everything else is other', async (t) => {
  const table: Array<[unknown, unknown, string]> = [
    ['CREATE', undefined, 'CREATE'],
    ['UPDATE', '', 'UPDATE'],
    ['UPDATE', 'ephemeralcontainers', 'UPDATE/ephemeralcontainers'],
    ['UPDATE/ephemeralcontainers', undefined, 'UPDATE/ephemeralcontainers'],
    ['DELETE', undefined, 'DELETE'],
    ['CONNECT', undefined, 'CONNECT'],
    ['UPDATE', 'status', OTHER],
    ['CREATE', 'binding', OTHER],
    ['PATCH', undefined, OTHER],
    ['create', undefined, OTHER],
    [undefined, undefined, OTHER],
    [42, 'ephemeralcontainers', OTHER],
  ]
  for (const [operation, sub, want] of table) t.equal(operationLabel(operation, sub), want, `${String(operation)} ${String(sub)}`)

  const m = createMetrics({ defaultMetrics: false })
  m.admissionRequests.inc({ endpoint: 'mutate', operation: 'UPDATE', subResource: 'status', decision: 'skipped' })
  m.admissionRequests.inc({ endpoint: 'mutate', operation: 'PATCH', decision: 'skipped' })
  m.admissionRequests.inc({ endpoint: 'mutate', operation: 'UPDATE', subResource: 'ephemeralcontainers', decision: 'patched' })
  const exp = await scrape(m)
  t.equal(sampleValue(exp, 'pullguard_admission_requests_total', { endpoint: 'mutate', operation: 'other', decision: 'skipped' }), 2)
  t.equal(sampleValue(exp, 'pullguard_admission_requests_total', { endpoint: 'mutate', operation: 'UPDATE/ephemeralcontainers', decision: 'patched' }), 1)
})

t.test('hostile label values never reach the exposition', async (t) => {
  const m = createMetrics({ defaultMetrics: false })
  const any = (v: unknown): never => v as never
  for (const v of HOSTILE) {
    t.doesNotThrow(() => {
      m.admissionRequests.inc({ endpoint: any(v), operation: any(v), subResource: any(v), decision: any(v) })
      m.admissionRequests.inc({ endpoint: 'mutate', operation: 'CREATE', subResource: any(v), decision: 'allowed' })
      m.admissionDuration.observe(any(v), 0.001)
      m.admissionDuration.observe('mutate', any(v))
      m.admissionDuration.startTimer(any(v))()
      m.secretsInjected.inc(any(v), any(v))
      m.secretsInjected.inc('config', any(v))
      m.pullPoliciesForced.inc(any(v), any(v))
      m.denials.inc(any(v))
      m.reviewReceiver(any(v))()
      m.warnings.inc(any(v))
      m.configReloads.inc(any(v))
      m.certificateReloads.inc(any(v))
    }, `never throws for ${JSON.stringify(v)?.slice(0, 20)}`)
  }
  for (const bad of [-1, 1.5, Number.NaN, Infinity, 2 ** 60]) m.secretsInjected.inc('config', bad)
  for (const bad of [-1, 0, Number.NaN, Infinity, 'x', {}, null]) {
    t.doesNotThrow(() => {
      m.secretsInjected.inc('config', 9, any(bad))
      m.pullPoliciesForced.inc('volumes', any(bad))
      m.warnings.inc('invalid-image', any(bad))
    })
  }
  m.setInformerSource(() => HOSTILE.map((resource) => ({ resource, synced: true, lastUpdated: 0 }) as unknown as InformerStatus))

  const allowed = LABEL_VALUES
  const exp = await scrape(m)
  let checked = 0
  for (const s of exp.samples.filter((s) => s.name.startsWith('pullguard_'))) {
    for (const [label, value] of Object.entries(s.labels)) {
      checked++
      if (label === 'le') continue
      if (label === 'entry') t.match(value, /^(|\d{1,3}|other)$/, `entry=${value}`)
      // build_info: set once at start-up from package.json and process.version, never from a request.
      else if (label === 'version') t.equal(value, 'unknown', 'version: the default when none is given')
      else if (label === 'node') t.equal(value, process.version)
      else t.ok(allowed[label]?.includes(value), `${s.name} ${label}=${JSON.stringify(value).slice(0, 40)} is in its set`)
    }
  }
  t.ok(checked > 20, 'there were labels to check')
  t.notMatch(await m.registry.metrics(), /evil|aaaaaaaaaa|__proto__|ümlaut/)
  t.equal(sampleValue(exp, 'pullguard_secrets_injected_total', { source: 'config', entry: '9' }), undefined, 'a bad count is dropped, not counted')
  t.equal(sampleValue(exp, 'pullguard_pull_policies_forced_total', { field: 'volumes' }), undefined)
  t.equal(sampleValue(exp, 'pullguard_warnings_total', { reason: 'invalid-image' }), undefined)
  t.ok((sampleValue(exp, 'pullguard_secrets_injected_total', { source: 'config', entry: OTHER }) ?? 0) >= 5, 'bad indexes are other')
})

t.test('the duration histogram has sub-millisecond to 1 s buckets', async (t) => {
  const m = createMetrics({ defaultMetrics: false })
  m.admissionDuration.observe('validate', 0.0003)
  m.admissionDuration.observe('validate', 0.02)
  m.admissionDuration.observe('validate', 5)
  m.admissionDuration.observe('validate', -1)
  m.admissionDuration.observe('validate', Number.NaN)
  const stop = m.admissionDuration.startTimer('preview')
  stop()
  const exp = await scrape(m)
  const buckets = exp.samples.filter((s) => s.name === 'pullguard_admission_duration_seconds_bucket' && s.labels.endpoint === 'validate')
  t.same(buckets.map((b) => b.labels.le), [...DURATION_BUCKETS.map(String), '+Inf'])
  t.equal(DURATION_BUCKETS[0], 0.0005)
  t.equal(DURATION_BUCKETS.at(-1), 1)
  t.equal(sampleValue(exp, 'pullguard_admission_duration_seconds_bucket', { endpoint: 'validate', le: '0.0005' }), 1)
  t.equal(sampleValue(exp, 'pullguard_admission_duration_seconds_bucket', { endpoint: 'validate', le: '0.025' }), 2)
  t.equal(sampleValue(exp, 'pullguard_admission_duration_seconds_bucket', { endpoint: 'validate', le: '+Inf' }), 3)
  t.equal(sampleValue(exp, 'pullguard_admission_duration_seconds_count', { endpoint: 'validate' }), 3, 'negative and NaN dropped')
  t.equal(sampleValue(exp, 'pullguard_admission_duration_seconds_count', { endpoint: 'preview' }), 1, 'startTimer observes once')
})

t.test('secrets: config entries by index, discovery with an empty entry', async (t) => {
  const m = createMetrics({ defaultMetrics: false })
  m.secretsInjected.inc('config', 2)
  m.secretsInjected.inc('config', 2, 3)
  m.secretsInjected.inc('discovery', 7)
  m.secretsInjected.inc('discovery')
  const exp = await scrape(m)
  t.equal(sampleValue(exp, 'pullguard_secrets_injected_total', { source: 'config', entry: '2' }), 4)
  t.equal(sampleValue(exp, 'pullguard_secrets_injected_total', { source: 'discovery', entry: '' }), 2)
})

t.test('reload, denial and review-received series exist at zero before anything happens', async (t) => {
  const exp = await scrape(createMetrics({ defaultMetrics: false }))
  for (const result of RELOAD_RESULTS) {
    t.equal(sampleValue(exp, 'pullguard_config_reloads_total', { result }), 0)
    t.equal(sampleValue(exp, 'pullguard_certificate_reloads_total', { result }), 0)
  }
  for (const endpoint of ENDPOINTS) t.equal(sampleValue(exp, 'pullguard_denials_total', { endpoint }), 0)
  t.same(WEBHOOKS, ['mutate', 'validate'], 'the endpoints the API server calls; not preview')
  for (const webhook of WEBHOOKS) {
    t.equal(sampleValue(exp, 'pullguard_admission_reviews_received_total', { webhook }), 0, `${webhook}: none received`)
    // 0, not absent: PullguardNotCalled computes time() - value, which is then
    // far above its threshold until the first review arrives.
    t.equal(sampleValue(exp, 'pullguard_admission_last_review_timestamp_seconds', { webhook }), 0, `${webhook}: last review at 0`)
  }
  t.equal(exp.samples.filter((s) => s.labels.webhook === OTHER).length, 0, 'no other series until something odd is counted')
})

t.test('a review receiver is bound once per webhook and moves its own series only', async (t) => {
  let clock = 1_700_000_000_000
  const m = createMetrics({ defaultMetrics: false, now: () => clock })
  const mutate = m.reviewReceiver('mutate')
  t.equal(m.reviewReceiver('mutate'), mutate, 'the same pre-bound function every time')
  t.not(m.reviewReceiver('validate'), mutate, 'validate has its own')
  mutate()
  clock += 2_500
  mutate()
  let exp = await scrape(m)
  t.equal(sampleValue(exp, 'pullguard_admission_reviews_received_total', { webhook: 'mutate' }), 2)
  t.equal(sampleValue(exp, 'pullguard_admission_last_review_timestamp_seconds', { webhook: 'mutate' }), 1_700_000_002.5, 'seconds, from the clock')
  t.equal(sampleValue(exp, 'pullguard_admission_reviews_received_total', { webhook: 'validate' }), 0)
  t.equal(sampleValue(exp, 'pullguard_admission_last_review_timestamp_seconds', { webhook: 'validate' }), 0)
  m.reviewReceiver('preview' as never)()
  exp = await scrape(m)
  t.equal(sampleValue(exp, 'pullguard_admission_reviews_received_total', { webhook: OTHER }), 1, 'anything else is other')
})

t.test('reviews received: counted on arrival at /mutate and /validate over HTTPS, malformed ones too; /preview is not', async (t) => {
  let clock = 1_700_000_000_000
  const metrics = createMetrics({ defaultMetrics: false, now: () => clock })
  const server = await startServer(testConfig(), { metrics })
  t.teardown(() => server.close())
  const received = async (): Promise<Record<string, [number | undefined, number | undefined]>> => {
    const exp = await scrape(metrics)
    const out: Record<string, [number | undefined, number | undefined]> = {}
    for (const webhook of WEBHOOKS) {
      out[webhook] = [
        sampleValue(exp, 'pullguard_admission_reviews_received_total', { webhook }),
        sampleValue(exp, 'pullguard_admission_last_review_timestamp_seconds', { webhook }),
      ]
    }
    return out
  }
  t.same(await received(), { mutate: [0, 0], validate: [0, 0] }, 'nothing before the first review')

  t.equal((await server.post('/mutate', fixture('review-create.json'))).status, 200)
  t.same(await received(), { mutate: [1, 1_700_000_000], validate: [0, 0] }, 'a good review to /mutate')

  clock += 60_000
  t.equal((await server.post('/mutate', '{"broken":')).status, 400, 'unparsable JSON')
  t.same(await received(), { mutate: [2, 1_700_000_060], validate: [0, 0] }, 'a malformed review to /mutate counts and moves the time')

  clock += 1_000
  t.equal((await server.post('/validate', fixture('review-create.json'))).status, 200)
  t.same(await received(), { mutate: [2, 1_700_000_060], validate: [1, 1_700_000_061] }, 'a good review to /validate')

  clock += 1_000
  t.equal((await server.post('/validate', '{}')).status, 400, 'not an AdmissionReview')
  t.equal((await server.post('/validate', fixtureText('review-create.json'), 'text/plain')).status, 415, 'wrong media type')
  t.same(await received(), { mutate: [2, 1_700_000_060], validate: [3, 1_700_000_062] }, 'malformed reviews to /validate count')

  clock += 1_000
  t.equal((await server.post('/preview', fixture('review-create.json'))).status, 200, 'a review to /preview')
  t.equal((await server.post('/preview', fixture('pod.yaml'))).status, 200, 'a pod to /preview')
  t.equal((await server.post('/preview', '{"broken":')).status, 400, 'a malformed body to /preview')
  t.equal((await server.request('GET', '/mutate')).status, 404, 'GET /mutate is no route')
  t.same(await received(), { mutate: [2, 1_700_000_060], validate: [3, 1_700_000_062] }, '/preview and non-POST requests move neither series')
  t.notOk((await scrape(metrics)).samples.some((s) => s.labels.webhook === OTHER), 'no other series')
})

t.test('informer gauges are computed at scrape time', async (t) => {
  let clock = 1_000_000
  let statuses: InformerStatus[] = [
    { resource: 'secrets/dockerconfigjson', synced: true, lastUpdated: 995_000 },
    { resource: 'namespaces', synced: false, lastUpdated: undefined },
  ]
  const m = createMetrics({ defaultMetrics: false, now: () => clock, informers: () => statuses })
  let exp = await scrape(m)
  t.equal(sampleValue(exp, 'pullguard_informer_synced', { resource: 'secrets/dockerconfigjson' }), 1)
  t.equal(sampleValue(exp, 'pullguard_informer_synced', { resource: 'namespaces' }), 0)
  t.equal(sampleValue(exp, 'pullguard_informer_staleness_seconds', { resource: 'secrets/dockerconfigjson' }), 5)
  t.equal(sampleValue(exp, 'pullguard_informer_staleness_seconds', { resource: 'namespaces' }), Infinity, 'never heard from: +Inf')

  clock += 60_000
  exp = await scrape(m)
  t.equal(sampleValue(exp, 'pullguard_informer_staleness_seconds', { resource: 'secrets/dockerconfigjson' }), 65, 'grows between scrapes without any update')

  statuses = [{ resource: 'secrets/dockerconfigjson', synced: true, lastUpdated: clock + 10_000 }]
  exp = await scrape(m)
  t.equal(sampleValue(exp, 'pullguard_informer_staleness_seconds', { resource: 'secrets/dockerconfigjson' }), 0, 'a clock step back is not negative')
  t.equal(sampleValue(exp, 'pullguard_informer_synced', { resource: 'namespaces' }), undefined, 'a resource no longer reported disappears')

  m.setInformerSource(() => { throw new Error('informer exploded') })
  exp = await scrape(m)
  t.equal(exp.samples.filter((s) => s.name.startsWith('pullguard_informer_')).length, 0, 'a failing source gives no series, and the scrape still works')
  t.ok(sampleValue(exp, 'pullguard_config_reloads_total', { result: 'success' }) === 0)

  m.setInformerSource(undefined)
  exp = await scrape(m)
  t.equal(exp.types.get('pullguard_informer_synced'), 'gauge')
})

t.test('informer relists and watch restarts are counters read at scrape time, 0 when not reported', async (t) => {
  let statuses: InformerStatus[] = [
    { resource: 'secrets/dockerconfigjson', synced: true, lastUpdated: 0, relists: 2, watchRestarts: 7 },
    { resource: 'namespaces', synced: true, lastUpdated: 0 },
    { resource: 'serviceaccounts', synced: true, lastUpdated: 0, relists: Number.NaN, watchRestarts: -3 },
  ]
  const m = createMetrics({ defaultMetrics: false, informers: () => statuses })
  let exp = await scrape(m)
  t.equal(exp.types.get('pullguard_informer_relists_total'), 'counter')
  t.equal(exp.types.get('pullguard_informer_watch_restarts_total'), 'counter')
  t.equal(sampleValue(exp, 'pullguard_informer_relists_total', { resource: 'secrets/dockerconfigjson' }), 2)
  t.equal(sampleValue(exp, 'pullguard_informer_watch_restarts_total', { resource: 'secrets/dockerconfigjson' }), 7)
  t.equal(sampleValue(exp, 'pullguard_informer_relists_total', { resource: 'namespaces' }), 0, 'a series from the start, so rate() works')
  t.equal(sampleValue(exp, 'pullguard_informer_relists_total', { resource: 'serviceaccounts' }), 0, 'garbage counts as 0')
  t.equal(sampleValue(exp, 'pullguard_informer_watch_restarts_total', { resource: 'serviceaccounts' }), 0)
  statuses = [{ resource: 'secrets/dockerconfigjson', synced: true, lastUpdated: 0, relists: 3, watchRestarts: 7 }]
  exp = await scrape(m)
  t.equal(sampleValue(exp, 'pullguard_informer_relists_total', { resource: 'secrets/dockerconfigjson' }), 3, 'follows the informer')
})

t.test('default process metrics, unprefixed, on the private registry only', async (t) => {
  const withDefaults = createMetrics()
  const exp = await scrape(withDefaults)
  t.ok(exp.types.has('process_cpu_user_seconds_total'))
  t.ok([...exp.types.keys()].some((n) => n.startsWith('nodejs_')))
  t.notOk([...exp.types.keys()].some((n) => n.startsWith('pullguard_process') || n.startsWith('pullguard_nodejs')))
  t.notOk((await scrape(createMetrics({ defaultMetrics: false }))).types.has('process_cpu_user_seconds_total'))
  t.notMatch(await globalRegistry.metrics(), /pullguard_/, 'the global default registry is untouched')
  t.doesNotThrow(() => { createMetrics(); createMetrics() }, 'many instances can coexist')
})

t.test('GET /metrics serves the registry with its content type', async (t) => {
  const m = createMetrics({ defaultMetrics: false })
  exercise(m)
  const app = fastify()
  await app.register(metricsRoute, { registry: m.registry })
  t.teardown(() => app.close())
  const res = await app.inject({ method: 'GET', url: '/metrics' })
  t.equal(res.statusCode, 200)
  t.equal(res.headers['content-type'], m.registry.contentType)
  t.match(m.registry.contentType, /^text\/plain; version=0\.0\.4/)
  const exp = parseExposition(res.body)
  t.equal(sampleValue(exp, 'pullguard_denials_total', { endpoint: 'validate' }), 1)
  t.equal((await app.inject({ method: 'POST', url: '/metrics' })).statusCode, 404)
})

t.test('build info, certificate expiry, and whether the running config is the last good one', async (t) => {
  let clock = 1_000_000
  const m = createMetrics({ defaultMetrics: false, now: () => clock, build: { version: '9.8.7' } })
  let exp = await scrape(m)
  t.equal(sampleValue(exp, 'pullguard_build_info', { version: '9.8.7', node: process.version }), 1)
  t.equal(sampleValue(exp, 'pullguard_config_last_reload_successful', {}), 1, 'the start-up config is good')
  t.equal(sampleValue(exp, 'pullguard_config_last_reload_success_timestamp_seconds', {}), 1000)
  t.notOk(exp.samples.some((s) => s.name === 'pullguard_certificate_expiry_timestamp_seconds'), 'no certificate known, no series')

  clock = 2_000_000
  m.configReloads.inc('failure')
  exp = await scrape(m)
  t.equal(sampleValue(exp, 'pullguard_config_last_reload_successful', {}), 0, 'a rejected file is not in effect')
  t.equal(sampleValue(exp, 'pullguard_config_last_reload_success_timestamp_seconds', {}), 1000, 'the good one is still from start-up')
  m.configReloads.inc('success')
  exp = await scrape(m)
  t.equal(sampleValue(exp, 'pullguard_config_last_reload_successful', {}), 1)
  t.equal(sampleValue(exp, 'pullguard_config_last_reload_success_timestamp_seconds', {}), 2000)

  let serving = new Date('2031-05-06T07:08:09Z')
  m.setCertificateSource(() => ({ serving, ca: new Date('2036-01-01T00:00:00Z') }))
  exp = await scrape(m)
  t.equal(sampleValue(exp, 'pullguard_certificate_expiry_timestamp_seconds', { certificate: 'serving' }), serving.getTime() / 1000)
  t.equal(sampleValue(exp, 'pullguard_certificate_expiry_timestamp_seconds', { certificate: 'ca' }), Date.parse('2036-01-01T00:00:00Z') / 1000)
  serving = new Date('2032-01-01T00:00:00Z')
  exp = await scrape(m)
  t.equal(sampleValue(exp, 'pullguard_certificate_expiry_timestamp_seconds', { certificate: 'serving' }), serving.getTime() / 1000, 'asked at every scrape')
  m.setCertificateSource(() => { throw new Error('boom') })
  exp = await scrape(m)
  t.notOk(exp.samples.some((s) => s.name === 'pullguard_certificate_expiry_timestamp_seconds'), 'a failing source costs the series, not the scrape')
})
