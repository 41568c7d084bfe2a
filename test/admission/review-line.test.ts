/**
 * The one log line per review (src/admission/review-line.ts), built from the
 * real decision on real fixtures: identity fields cut to 253 characters, the
 * decision in one word, the names and fields the patch touched, and nothing
 * else of the pod (test/routes/review.test.ts plants credentials over HTTPS).
 */
import t from 'tap'
import { mutate } from '../../src/admission/policy.js'
import { decodeReview } from '../../src/admission/review.js'
import { forLog, MAX_LOGGED_NAME_LENGTH, podNameOf, reviewLine } from '../../src/admission/review-line.js'
import { fixture, testConfig } from '../helpers/fixtures.js'

t.test('a patched CREATE: who, what and what the patch did', async (t) => {
  const { input } = decodeReview(fixture('review-create.json'))
  const outcome = mutate(input, testConfig())
  t.ok(outcome.patch.length > 0, 'the fixture is patched under the test config')
  const line = reviewLine('mutate', input, outcome, 1.5)
  t.same(Object.keys(line), ['uid', 'endpoint', 'namespace', 'pod', 'operation', 'dryRun', 'decision', 'skipped', 'secretsAdded', 'policiesForced', 'warnings', 'durationMs'], 'a fixed shape')
  t.match(line, { uid: input.uid, endpoint: 'mutate', namespace: input.namespace, operation: 'CREATE', dryRun: false, decision: 'patched', skipped: undefined, durationMs: 1.5 })
  t.same(line.secretsAdded, outcome.injected.map((s) => s.name))
  t.same(line.policiesForced, outcome.forced.map((f) => f.field))
  t.not(JSON.stringify(line).includes('"image"'), 'no image strings')
})

t.test('the subresource joins the operation; a skipped request says why', async (t) => {
  const { input } = decodeReview(fixture('review-ephemeral.json'))
  const line = reviewLine('mutate', input, mutate(input, testConfig()), 0)
  t.equal(line.operation, 'UPDATE/ephemeralcontainers')
  const excluded = reviewLine('mutate', input, mutate(input, testConfig({ excludeNamespaces: [input.namespace] })), 0)
  t.match(excluded, { decision: 'skipped', skipped: 'excluded-namespace', secretsAdded: [], policiesForced: [] })
})

const names: Array<[string, unknown, string | undefined]> = [
  ['name', { metadata: { name: 'web' } }, 'web'],
  ['generateName when there is no name yet', { metadata: { generateName: 'web-7d9c8b6f5-' } }, 'web-7d9c8b6f5-'],
  ['neither', { metadata: {} }, undefined],
  ['no metadata', {}, undefined],
  ['not an object', 'pod', undefined],
  ['an overlong name is cut', { metadata: { name: 'n'.repeat(10_000) } }, `${'n'.repeat(MAX_LOGGED_NAME_LENGTH)}…`],
]
t.test('podNameOf', async (t) => {
  for (const [name, object, want] of names) t.equal(podNameOf(object), want, name)
})

t.test('forLog keeps short values and cuts long ones to a DNS-1123 subdomain\'s length', async (t) => {
  t.equal(MAX_LOGGED_NAME_LENGTH, 253)
  t.equal(forLog(undefined), undefined)
  t.equal(forLog('x'.repeat(253)), 'x'.repeat(253))
  t.equal(forLog('x'.repeat(254)), `${'x'.repeat(253)}…`)
})
