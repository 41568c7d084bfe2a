import t from 'tap'
import jsonpatch from 'fast-json-patch'
import { mutate, validate } from '../../src/admission/policy.js'
import type { PatchOperation } from '../../src/admission/json-patch.js'
import { fixture, testConfig, type Json } from '../helpers/fixtures.js'
import { inputOf, podWith, type ReviewOptions } from '../helpers/review.js'

/** Applies a patch with an independent RFC 6902 implementation (validating every op). */
function applied (pod: Json, patch: readonly PatchOperation[]): Json {
  return jsonpatch.applyPatch(structuredClone(pod), structuredClone(patch) as jsonpatch.Operation[], true, false).newDocument
}

function secretNames (pod: Json): string[] {
  return (pod.spec.imagePullSecrets ?? []).map((s: Json) => s.name)
}

function policies (pod: Json, list = 'containers'): unknown[] {
  return (pod.spec[list] ?? []).map((c: Json) => c.imagePullPolicy)
}

const privateMode = testConfig()
const allMode = testConfig({ alwaysPull: 'all' })
const offMode = testConfig({ alwaysPull: 'off' })

t.test('CREATE: the real fixture gets its secrets and Always, and a second pass is a no-op', async (t) => {
  const pod = fixture('review-create.json').request.object
  const outcome = mutate(inputOf(pod), privateMode)
  t.equal(outcome.allowed, true)
  t.same(outcome.patch, [
    { op: 'add', path: '/spec/imagePullSecrets', value: [{ name: 'ghcr-acme' }, { name: 'acr-pull' }, { name: 'dockerhub-pull' }] },
    { op: 'replace', path: '/spec/containers/0/imagePullPolicy', value: 'Always' },
    { op: 'replace', path: '/spec/containers/1/imagePullPolicy', value: 'Always' },
  ])
  const out = applied(pod, outcome.patch)
  t.same(secretNames(out), ['ghcr-acme', 'acr-pull', 'dockerhub-pull'])
  t.same(policies(out), ['Always', 'Always', 'Always'])
  // Nothing else changed.
  t.same({ ...out, spec: { ...out.spec, imagePullSecrets: undefined, containers: undefined } },
    { ...pod, spec: { ...pod.spec, imagePullSecrets: undefined, containers: undefined } })
  const again = mutate(inputOf(out), privateMode)
  t.same(again.patch, [])
  t.same(again.warnings, [])
  t.same(validate(inputOf(out), privateMode).allowed, true)
})

interface CreateCase {
  name: string
  pod: Json
  config?: ReturnType<typeof testConfig>
  options?: ReviewOptions
  secrets: string[]
  ops?: number
  containerPolicies?: unknown[]
  warnings?: RegExp[]
  skipped?: string
}

const cases: CreateCase[] = [
  {
    // Issue #8: the namespaces that may not use a credential are exactly the
    // ones that must ask the registry (another tenant's cached image).
    name: 'namespace outside the entry\'s list gets no ghcr secret, and private mode still forces that image',
    pod: podWith([['a', 'ghcr.io/acme/web:1', 'IfNotPresent'], ['b', 'x.azurecr.io/y', 'IfNotPresent']]),
    options: { namespace: 'team-c' },
    secrets: ['acr-pull'],
    containerPolicies: ['Always', 'Always'],
  },
  {
    name: 'a namespace glob admits team-b-prod',
    pod: podWith([['a', 'ghcr.io/acme/web:1', 'Always']]),
    options: { namespace: 'team-b-prod' },
    secrets: ['ghcr-acme'],
    ops: 1,
  },
  {
    name: 'all mode forces every container, matched or not',
    pod: podWith([['a', 'quay.io/public/x', 'IfNotPresent'], ['b', 'ghcr.io/acme/x', 'Never']]),
    config: allMode,
    secrets: ['ghcr-acme'],
    containerPolicies: ['Always', 'Always'],
  },
  {
    name: 'off mode injects secrets and touches no policy',
    pod: podWith([['a', 'ghcr.io/acme/x', 'IfNotPresent']]),
    config: offMode,
    secrets: ['ghcr-acme'],
    containerPolicies: ['IfNotPresent'],
  },
  {
    name: 'existing secrets (from the ServiceAccount) stay first and are not repeated',
    pod: podWith([['a', 'ghcr.io/acme/x', 'Always'], ['b', 'x.azurecr.io/y', 'Always']], { spec: { imagePullSecrets: [{ name: 'sa-secret' }, { name: 'acr-pull' }] } }),
    secrets: ['sa-secret', 'acr-pull', 'ghcr-acme'],
    ops: 1,
  },
  {
    name: 'imagePullSecrets: null is replaced by one add',
    pod: podWith([['a', 'ghcr.io/acme/x', 'Always']], { spec: { imagePullSecrets: null } }),
    secrets: ['ghcr-acme'],
    ops: 1,
  },
  {
    name: 'imagePullSecrets: [] is replaced by one add',
    pod: podWith([['a', 'ghcr.io/acme/x', 'Always'], ['b', 'x.azurecr.io/y', 'Always']], { spec: { imagePullSecrets: [] } }),
    secrets: ['ghcr-acme', 'acr-pull'],
    ops: 1,
  },
  {
    name: 'a missing imagePullPolicy is added',
    pod: podWith([['a', 'ghcr.io/acme/x']]),
    secrets: ['ghcr-acme'],
    containerPolicies: ['Always'],
  },
  {
    name: 'the same image twice asks for its secret once',
    pod: podWith([['a', 'ghcr.io/acme/x', 'Always'], ['b', 'ghcr.io/acme/x', 'Always']], { spec: { initContainers: [{ name: 'i', image: 'ghcr.io/acme/x', imagePullPolicy: 'Always' }] } }),
    secrets: ['ghcr-acme'],
    ops: 1,
  },
  {
    name: 'Docker Hub images use the index.docker.io entry (kubelet default-registry fallback)',
    pod: podWith([['a', 'nginx', 'Always'], ['b', 'bitnami/redis:7', 'Always'], ['c', 'docker.io/library/busybox', 'Always']]),
    secrets: ['dockerhub-pull'],
    ops: 1,
  },
  {
    name: 'a port must be equal: registry.internal.example without :5000 gets nothing',
    pod: podWith([['a', 'registry.internal.example/x', 'IfNotPresent'], ['b', 'registry.internal.example:5000/x', 'IfNotPresent']]),
    secrets: ['internal-registry'],
    containerPolicies: ['IfNotPresent', 'Always'],
  },
  {
    name: 'an invalid reference gets a warning and no secret, and (private) is forced all the same',
    pod: podWith([['a', 'ghcr.io/ACME/x:1', 'IfNotPresent'], ['b', 'x.azurecr.io/y', 'Always']]),
    secrets: ['acr-pull'],
    containerPolicies: ['Always', 'Always'],
    warnings: [/^pullguard: spec\.containers\[0\] \(a\): .*lowercase.*no pull secret added$/],
  },
  {
    name: 'an invalid reference is still forced in all mode',
    pod: podWith([['a', 'UPPER', 'IfNotPresent']]),
    config: allMode,
    secrets: [],
    containerPolicies: ['Always'],
    warnings: [/spec\.containers\[0\] \(a\)/],
  },
  {
    name: 'a missing image is a warning, not a crash',
    pod: { metadata: { name: 'p' }, spec: { containers: [{ name: 'a' }] } },
    secrets: [],
    ops: 0,
    warnings: [/image is missing/],
  },
  {
    name: 'excluded namespace: untouched',
    pod: podWith([['a', 'ghcr.io/acme/x', 'IfNotPresent']]),
    options: { namespace: 'kube-system' },
    secrets: [],
    ops: 0,
    skipped: 'excluded-namespace',
  },
  {
    name: 'pullguard\'s own namespace (POD_NAMESPACE): untouched',
    pod: podWith([['a', 'ghcr.io/acme/x', 'IfNotPresent']]),
    config: testConfig({}, 'team-a'),
    secrets: [],
    ops: 0,
    skipped: 'excluded-namespace',
  },
  {
    name: 'a mirror pod created by a node: untouched',
    pod: podWith([['a', 'ghcr.io/acme/x', 'IfNotPresent']], { metadata: { annotations: { 'kubernetes.io/config.mirror': 'abc' } } }),
    options: { username: 'system:node:node-1' },
    secrets: [],
    ops: 0,
    skipped: 'mirror-pod',
  },
  {
    name: 'the mirror annotation from anyone but a node weakens nothing',
    pod: podWith([['a', 'ghcr.io/acme/x', 'IfNotPresent']], { metadata: { annotations: { 'kubernetes.io/config.mirror': 'abc' } } }),
    options: { username: 'mallory' },
    secrets: ['ghcr-acme'],
    containerPolicies: ['Always'],
  },
  ...(['DELETE', 'CONNECT'].map((operation): CreateCase => ({
    name: `${operation}: untouched`,
    pod: podWith([['a', 'ghcr.io/acme/x', 'IfNotPresent']]),
    options: { operation },
    secrets: [],
    ops: 0,
    skipped: 'operation',
  }))),
  ...([['CREATE', 'binding'], ['CREATE', 'eviction'], ['UPDATE', 'status']].map(([operation, subResource]): CreateCase => ({
    name: `pods/${subResource ?? ''} ${operation ?? ''}: untouched`,
    pod: podWith([['a', 'ghcr.io/acme/x', 'IfNotPresent']]),
    options: { operation, subResource },
    secrets: [],
    ops: 0,
    skipped: 'subresource',
  }))),
  {
    name: 'another resource: untouched',
    pod: podWith([['a', 'ghcr.io/acme/x', 'IfNotPresent']]),
    options: { resource: 'deployments', group: 'apps' },
    secrets: [],
    ops: 0,
    skipped: 'not-pods',
  },
]

for (const c of cases) {
  t.test(c.name, async (t) => {
    const config = c.config ?? privateMode
    const outcome = mutate(inputOf(c.pod, c.options), config)
    t.equal(outcome.allowed, true)
    t.equal(outcome.skipped, c.skipped)
    const out = applied(c.pod, outcome.patch)
    t.same(secretNames(out), c.secrets)
    if (c.ops !== undefined) t.equal(outcome.patch.length, c.ops, 'number of operations')
    if (c.containerPolicies !== undefined) t.same(policies(out), c.containerPolicies)
    t.equal(outcome.warnings.length, c.warnings?.length ?? 0, 'number of warnings')
    c.warnings?.forEach((re, i) => t.match(outcome.warnings[i], re))
    for (const w of outcome.warnings) t.ok(w.length < 120, 'warning is short')
    // Idempotent: the webhook's answer on its own output is empty.
    t.same(mutate(inputOf(out, c.options), config).patch, [], 'second pass emits nothing')
    // dryRun requests get the same answer.
    t.same(mutate(inputOf(c.pod, { ...c.options, dryRun: true }), config).patch, outcome.patch, 'dryRun: same answer')
  })
}

t.test('image volumes get secrets and pullPolicy: Always', async (t) => {
  const pod = podWith([['a', 'quay.io/x', 'Always']], {
    spec: { volumes: [{ name: 'cfg', configMap: { name: 'c' } }, { name: 'data', image: { reference: 'ghcr.io/acme/data:1', pullPolicy: 'IfNotPresent' } }, { name: 'd2', image: { reference: 'x.azurecr.io/d' } }] },
  })
  const outcome = mutate(inputOf(pod), privateMode)
  const out = applied(pod, outcome.patch)
  t.same(secretNames(out), ['ghcr-acme', 'acr-pull'])
  t.equal(out.spec.volumes[1].image.pullPolicy, 'Always')
  t.equal(out.spec.volumes[2].image.pullPolicy, 'Always')
  t.same(outcome.images.map((i) => i.field), ['spec.containers[0]', 'spec.volumes[1].image', 'spec.volumes[2].image'])
})

t.test('init and ephemeral containers are covered on CREATE, in the in-tree visiting order', async (t) => {
  const pod = podWith([['main', 'x.azurecr.io/m', 'IfNotPresent']], {
    spec: {
      initContainers: [{ name: 'init', image: 'ghcr.io/acme/i', imagePullPolicy: 'IfNotPresent' }],
      ephemeralContainers: [{ name: 'dbg', image: 'registry.internal.example:5000/d', imagePullPolicy: 'IfNotPresent' }],
    },
  })
  const outcome = mutate(inputOf(pod), privateMode)
  const out = applied(pod, outcome.patch)
  t.same(secretNames(out), ['ghcr-acme', 'acr-pull', 'internal-registry'])
  t.same([...policies(out, 'initContainers'), ...policies(out), ...policies(out, 'ephemeralContainers')], ['Always', 'Always', 'Always'])
})

t.test('more specific keys come first (kubelet reverse-sorted order)', async (t) => {
  const config = testConfig({
    registries: [
      { match: 'quay.io', secrets: ['quay-all'] },
      { match: 'quay.io/coreos', secrets: ['quay-coreos'] },
    ],
  })
  const out = applied(podWith([['a', 'quay.io/coreos/etcd', 'Always']]), mutate(inputOf(podWith([['a', 'quay.io/coreos/etcd', 'Always']])), config).patch)
  t.same(secretNames(out), ['quay-coreos', 'quay-all'])
})

t.test('warnings are bounded and never echo an unparsable image', async (t) => {
  const containers: Array<[string, string, string]> = []
  for (let i = 0; i < 30; i++) containers.push([`c${i}`, `user:hunter2secret@evil.example/x${i}`, 'Always'])
  const outcome = mutate(inputOf(podWith(containers)), privateMode)
  t.ok(outcome.warnings.length <= 10, `${outcome.warnings.length} warnings`)
  t.match(outcome.warnings.at(-1), /more warning/)
  for (const w of outcome.warnings) {
    t.notMatch(w, /hunter2/)
    t.ok(w.length < 120)
  }
})

t.test('UPDATE (no subresource)', async (t) => {
  const review = fixture('review-update.json')
  const { object, oldObject } = review.request
  const update = (pod: Json, config = privateMode, old: Json = oldObject) => mutate(inputOf(pod, { operation: 'UPDATE', oldObject: old }), config)

  t.test('a new covered image whose policy is not Always is denied, naming the container and why', async (t) => {
    const outcome = update(object)
    t.equal(outcome.allowed, false)
    t.same(outcome.patch, [])
    t.equal(outcome.denial?.code, 403)
    t.match(outcome.denial?.message, 'spec.containers[0].imagePullPolicy: Unsupported value: "IfNotPresent": supported values: "Always"')
    t.match(outcome.denial?.message, /recreate the pod/)
    t.same(validate(inputOf(object, { operation: 'UPDATE', oldObject }), privateMode).allowed, false, 'validate agrees')
  })
  t.test('the pod lacks the new image\'s secret: a warning says so', async (t) => {
    const outcome = update(object)
    t.match(outcome.warnings.join('\n'), /spec\.containers\[0\] \(app\) needs pull secret "ghcr-acme", which the running pod lacks/)
  })
  t.test('a new image with Always passes untouched', async (t) => {
    const pod = structuredClone(object)
    pod.spec.containers[0].imagePullPolicy = 'Always'
    const old = structuredClone(oldObject)
    old.spec.containers[0].imagePullPolicy = 'Always'
    const outcome = update(pod, privateMode, old)
    t.equal(outcome.allowed, true)
    t.same(outcome.patch, [])
  })
  t.test('an update without new images passes (in-tree rule), even with IfNotPresent', async (t) => {
    const pod = structuredClone(oldObject)
    pod.metadata.labels.extra = 'yes'
    const outcome = update(pod)
    t.equal(outcome.allowed, true)
    t.equal(outcome.skipped, 'no-new-images')
  })
  t.test('a new image outside alwaysPull: private passes', async (t) => {
    const pod = structuredClone(object)
    pod.spec.containers[0].image = 'quay.io/public/web:2'
    t.equal(update(pod).allowed, true)
    t.equal(update(pod, allMode).allowed, false, 'but all mode covers it')
  })
  t.test('mode off passes', async (t) => {
    t.equal(update(object, offMode).allowed, true)
  })
})

t.test('pods/ephemeralcontainers UPDATE (missed by the in-tree plugin)', async (t) => {
  const review = fixture('review-ephemeral.json')
  const { object, oldObject } = review.request
  const input = (pod: Json) => inputOf(pod, { operation: 'UPDATE', subResource: 'ephemeralcontainers', oldObject })

  t.test('the new ephemeral container gets Always and a warning for its missing secret', async (t) => {
    const outcome = mutate(input(object), privateMode)
    t.same(outcome.patch, [{ op: 'replace', path: '/spec/ephemeralContainers/0/imagePullPolicy', value: 'Always' }])
    t.equal(outcome.warnings.length, 1)
    t.match(outcome.warnings[0], /spec\.ephemeralContainers\[0\] \(debugger-x2f9q\) needs pull secret "ghcr-acme"/)
    t.same(outcome.injected, [])
    t.equal(validate(input(object), privateMode).allowed, false, 'validate denies the unpatched request')
    t.equal(validate(input(applied(object, outcome.patch)), privateMode).allowed, true, 'and accepts the patched one')
  })
  t.test('existing ephemeral containers are not touched', async (t) => {
    const old = structuredClone(object)
    const pod = structuredClone(object)
    pod.spec.ephemeralContainers.push({ name: 'second', image: 'x.azurecr.io/t', imagePullPolicy: 'IfNotPresent' })
    pod.spec.imagePullSecrets = [{ name: 'acr-pull' }]
    const outcome = mutate(inputOf(pod, { operation: 'UPDATE', subResource: 'ephemeralcontainers', oldObject: old }), privateMode)
    t.same(outcome.patch, [{ op: 'replace', path: '/spec/ephemeralContainers/1/imagePullPolicy', value: 'Always' }])
    t.same(outcome.warnings, [])
  })
})

t.test('validate on CREATE lists every violation with the in-tree field paths', async (t) => {
  const pod = podWith([['a', 'ghcr.io/acme/x', 'IfNotPresent'], ['b', 'quay.io/x', 'IfNotPresent']], {
    spec: { volumes: [{ name: 'v', image: { reference: 'ghcr.io/acme/v', pullPolicy: 'IfNotPresent' } }] },
  })
  const outcome = validate(inputOf(pod), allMode)
  t.equal(outcome.allowed, false)
  t.match(outcome.denial?.message, 'spec.containers[0].imagePullPolicy: Unsupported value: "IfNotPresent": supported values: "Always"')
  t.match(outcome.denial?.message, 'spec.containers[1].imagePullPolicy')
  t.match(outcome.denial?.message, 'spec.volumes[0].image.pullPolicy')
  t.equal(validate(inputOf(pod), privateMode).denial?.message.includes('spec.containers[1]'), false, 'private mode skips unmatched images')
  t.equal(validate(inputOf(pod), offMode).allowed, true)
})

t.test('objects that are not Pods are a PG_NOT_A_POD error', async (t) => {
  const bad: Json[] = [
    { kind: 'Deployment', apiVersion: 'apps/v1', metadata: {}, spec: { containers: [] } },
    { metadata: {}, spec: {} },
    { metadata: {}, spec: { containers: 'nginx' } },
    { metadata: {}, spec: { containers: [], imagePullSecrets: 'x' } },
    { metadata: {}, spec: { containers: ['nginx'] } },
    { metadata: {}, spec: { containers: [], volumes: [{ name: 'v', image: 'nginx' }] } },
    null,
    [],
    'pod',
  ]
  for (const object of bad) {
    t.throws(() => mutate(inputOf(object, { namespace: 'team-a' }), privateMode), { code: 'PG_NOT_A_POD' }, JSON.stringify(object))
  }
})
