/**
 * Which requests the policy looks at (src/admission/gate.ts), on real
 * AdmissionReviews decoded the way the server decodes them.
 */
import t from 'tap'
import { gate } from '../../src/admission/gate.js'
import { decodeReview } from '../../src/admission/review.js'
import { fixture, testConfig, type Json } from '../helpers/fixtures.js'
import { inputOf, type ReviewOptions } from '../helpers/review.js'

const config = testConfig()
const pod = (): Json => fixture('review-create.json').request.object
const mirror = (): Json => {
  const p = pod()
  p.metadata.annotations = { 'kubernetes.io/config.mirror': 'abc123' }
  return p
}

interface Row { name: string, pod?: () => Json, options: ReviewOptions, expected: string }
const rows: Row[] = [
  { name: 'CREATE of a pod', options: {}, expected: 'create' },
  { name: 'UPDATE of a pod', options: { operation: 'UPDATE', oldObject: pod() }, expected: 'update' },
  { name: 'UPDATE of pods/ephemeralcontainers', options: { operation: 'UPDATE', subResource: 'ephemeralcontainers', oldObject: pod() }, expected: 'ephemeral' },
  { name: 'CREATE of pods/ephemeralcontainers', options: { subResource: 'ephemeralcontainers' }, expected: 'operation' },
  { name: 'DELETE', options: { operation: 'DELETE' }, expected: 'operation' },
  { name: 'CONNECT', options: { operation: 'CONNECT' }, expected: 'operation' },
  { name: 'pods/binding', options: { subResource: 'binding' }, expected: 'subresource' },
  { name: 'pods/eviction', options: { subResource: 'eviction' }, expected: 'subresource' },
  { name: 'pods/status', options: { operation: 'UPDATE', subResource: 'status', oldObject: pod() }, expected: 'subresource' },
  { name: 'another resource', options: { resource: 'deployments', group: 'apps' }, expected: 'not-pods' },
  { name: 'pods of another group', options: { group: 'example.com' }, expected: 'not-pods' },
  { name: 'an excluded namespace', options: { namespace: 'kube-system' }, expected: 'excluded-namespace' },
  { name: 'a mirror pod created by a node', pod: mirror, options: { username: 'system:node:worker-1' }, expected: 'mirror-pod' },
  { name: 'a mirror annotation from anyone else is not trusted', pod: mirror, options: { username: 'alice' }, expected: 'create' },
]

t.test('kind of request, or why it is skipped', async (t) => {
  for (const row of rows) {
    const result = gate(inputOf((row.pod ?? pod)(), row.options), config)
    t.equal(result.skip ?? result.kind, row.expected, row.name)
  }
})

t.test('a policy request carries the namespace and both pods', async (t) => {
  const oldPod = pod()
  const result = gate(inputOf(pod(), { operation: 'UPDATE', oldObject: oldPod, namespace: 'team-b' }), config)
  if (result.skip !== undefined) return t.fail(`skipped: ${result.skip}`)
  t.equal(result.namespace, 'team-b')
  t.equal(result.oldPod?.raw, oldPod)
  const created = gate(inputOf(pod()), config)
  t.equal(created.skip === undefined ? created.oldPod : 'skipped', undefined, 'CREATE has no old pod')
})

t.test('the real ephemeral-containers review is an ephemeral request', async (t) => {
  const result = gate(decodeReview(fixture('review-ephemeral.json')).input, config)
  t.equal(result.skip ?? result.kind, 'ephemeral')
})

t.test('skips are decided before the pod is read: a non-pod body is not an error', async (t) => {
  t.equal(gate(inputOf({ kind: 'Deployment' }, { resource: 'deployments', group: 'apps' }), config).skip, 'not-pods')
  t.equal(gate(inputOf('garbage', { namespace: 'kube-system' }), config).skip, 'excluded-namespace')
  t.equal(gate(inputOf('garbage', { operation: 'DELETE' }), config).skip, 'operation')
})

t.test('a pod request with a broken pod is PG_NOT_A_POD, naming which object', async (t) => {
  t.throws(() => gate(inputOf({ spec: {} }), config), { code: 'PG_NOT_A_POD', message: /request\.object/ })
  t.throws(() => gate(inputOf(pod(), { operation: 'UPDATE', oldObject: 'x' }), config), { code: 'PG_NOT_A_POD', message: /request\.oldObject/ })
})
