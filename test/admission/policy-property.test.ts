/**
 * Property tests over generated pods: whatever the pod, the patch applies
 * cleanly (RFC 6902, checked by an independent implementation), keeps what
 * was there, and a second pass over the result emits nothing.
 */
import t from 'tap'
import fc from 'fast-check'
import jsonpatch from 'fast-json-patch'
import { mutate } from '../../src/admission/policy.js'
import { testConfig, type Json } from '../helpers/fixtures.js'
import { inputOf } from '../helpers/review.js'

const images = fc.oneof(
  fc.constantFrom('nginx', 'ghcr.io/acme/web:1', 'ghcr.io/other/x', 'x.azurecr.io/app@sha256:' + 'a'.repeat(64),
    'registry.internal.example:5000/svc', 'registry.internal.example/svc', 'quay.io/coreos/etcd', 'bitnami/redis:7', 'UPPER/case', ''),
  fc.string({ maxLength: 30 })
)
const policy = fc.option(fc.constantFrom('Always', 'IfNotPresent', 'Never'), { nil: undefined })
const container = fc.record({ name: fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/), image: images, imagePullPolicy: policy }, { requiredKeys: ['name', 'image'] })
const containers = (max: number) => fc.array(container, { maxLength: max })
const pod = fc.record({
  containers: containers(4),
  initContainers: fc.option(containers(2), { nil: undefined }),
  ephemeralContainers: fc.option(containers(2), { nil: undefined }),
  volumes: fc.option(fc.array(fc.record({ name: fc.constant('v'), image: fc.record({ reference: images, pullPolicy: policy }, { requiredKeys: ['reference'] }) }), { maxLength: 2 }), { nil: undefined }),
  imagePullSecrets: fc.option(fc.oneof(fc.constant(null), fc.array(fc.record({ name: fc.constantFrom('sa-secret', 'ghcr-acme', 'other') }), { maxLength: 3 })), { nil: undefined }),
}, { requiredKeys: ['containers'] }).map((spec): Json => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'team-a' }, spec: JSON.parse(JSON.stringify(spec)) }))

const configs = [testConfig(), testConfig({ alwaysPull: 'all' }), testConfig({ alwaysPull: 'off' })]

t.test('patches apply, keep what was there, and are idempotent', async (t) => {
  fc.assert(fc.property(pod, fc.constantFrom(...configs), fc.constantFrom('team-a', 'team-c'), (input, config, namespace) => {
    const outcome = mutate(inputOf(input, { namespace }), config)
    const out = jsonpatch.applyPatch(structuredClone(input), structuredClone(outcome.patch) as jsonpatch.Operation[], true, false).newDocument
    // What the pod listed stays first, in order.
    const before = (Array.isArray(input.spec.imagePullSecrets) ? input.spec.imagePullSecrets : []).map((s: Json) => s.name)
    const after = (out.spec.imagePullSecrets ?? []).map((s: Json) => s.name)
    if (JSON.stringify(after.slice(0, before.length)) !== JSON.stringify(before)) throw new Error('existing secrets changed')
    if (new Set(after.slice(before.length)).size !== after.length - before.length) throw new Error('a secret was added twice')
    // Only pull policies and pull secrets change, and policies only to Always.
    for (const op of outcome.patch) {
      if (!/^\/spec\/(imagePullSecrets|(initContainers|containers|ephemeralContainers)\/\d+\/imagePullPolicy|volumes\/\d+\/image\/pullPolicy)/.test(op.path)) throw new Error(`unexpected path ${op.path}`)
      if (op.path.endsWith('ullPolicy') && op.value !== 'Always') throw new Error('a policy set to something else')
    }
    const again = mutate(inputOf(out, { namespace }), config)
    if (again.patch.length !== 0) throw new Error(`second pass emitted ${JSON.stringify(again.patch)}`)
    for (const w of outcome.warnings) if (w.length >= 120) throw new Error('long warning')
  }), { numRuns: 500 })
  t.pass('500 generated pods')
})
