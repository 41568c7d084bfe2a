import t from 'tap'
import { buildHealthApp } from '../../src/app.js'
import { createMetrics } from '../../src/metrics.js'
import { fixture, testConfig } from '../helpers/fixtures.js'
import { parseExposition, sampleValue } from '../helpers/prometheus.js'
import { startServer } from '../helpers/server.js'

t.test('answered reviews and bad input are counted with bounded labels', async (t) => {
  const metrics = createMetrics({ defaultMetrics: false })
  const server = await startServer(testConfig(), { metrics })
  const health = buildHealthApp({ notReady: () => undefined, metrics })
  t.teardown(async () => { await server.close(); await health.close() })

  await server.post('/mutate', fixture('review-create.json'))
  await server.post('/mutate', fixture('review-update.json'))
  await server.post('/mutate', fixture('review-ephemeral.json'))
  await server.post('/validate', fixture('review-create.json'))
  await server.post('/mutate', '{"broken":')
  const notAPod = fixture('review-create.json')
  notAPod.request.object = { kind: 'Secret', data: { '.dockerconfigjson': 'c2VjcmV0' } }
  await server.post('/mutate', notAPod)
  const many = fixture('review-create.json')
  many.request.object.spec.containers.push({ name: 'bad', image: 'acme/NOT-valid', imagePullPolicy: 'Always' })
  await server.post('/mutate', many)

  const res = await health.inject({ method: 'GET', url: '/metrics' })
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /text\/plain/)
  const exp = parseExposition(res.body)
  const requests = (labels: Record<string, string>) => sampleValue(exp, 'pullguard_admission_requests_total', labels)
  t.equal(requests({ endpoint: 'mutate', operation: 'CREATE', decision: 'patched' }), 2)
  t.equal(requests({ endpoint: 'mutate', operation: 'UPDATE', decision: 'denied' }), 1)
  t.equal(requests({ endpoint: 'mutate', operation: 'UPDATE/ephemeralcontainers', decision: 'patched' }), 1)
  t.equal(requests({ endpoint: 'validate', operation: 'CREATE', decision: 'denied' }), 1)
  t.equal(requests({ endpoint: 'mutate', operation: 'other', decision: 'error' }), 1, 'unparsable body')
  t.equal(requests({ endpoint: 'mutate', operation: 'CREATE', decision: 'error' }), 1, 'not a pod')
  t.equal(sampleValue(exp, 'pullguard_denials_total', { endpoint: 'mutate' }), 1)
  t.equal(sampleValue(exp, 'pullguard_secrets_injected_total', { source: 'config', entry: '0' }), 2)
  t.equal(sampleValue(exp, 'pullguard_pull_policies_forced_total', { field: 'containers' }), 4)
  t.equal(sampleValue(exp, 'pullguard_pull_policies_forced_total', { field: 'ephemeralContainers' }), 1)
  t.equal(sampleValue(exp, 'pullguard_warnings_total', { reason: 'invalid-image' }), 1)
  t.equal(sampleValue(exp, 'pullguard_warnings_total', { reason: 'secret-lacking-on-running-pod' }), 2)
  t.ok((sampleValue(exp, 'pullguard_admission_duration_seconds_count', { endpoint: 'mutate' }) ?? 0) >= 4)
  t.notMatch(res.body, /web-7d9c8b6f5|ghcr\.io|ghcr-acme|c2VjcmV0|team-a/, 'no names, images or secrets in metrics')
})
