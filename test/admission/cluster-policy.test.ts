import t from 'tap'
import jsonpatch from 'fast-json-patch'
import { mutate, validate } from '../../src/admission/policy.js'
import { summarizePullSecret } from '../../src/cluster/pull-secret.js'
import { ClusterStore } from '../../src/cluster/store.js'
import { summarizeNamespace, summarizeServiceAccount } from '../../src/cluster/summaries.js'
import { configFrom, type Json } from '../helpers/fixtures.js'
import { namespaceObject, pullSecret, serviceAccount } from '../helpers/cluster.js'
import { inputOf, podWith } from '../helpers/review.js'

const CONFIG = `
registries:
  - match: ghcr.io/acme
    secrets: [ghcr-acme]
  - match: quay.io
    secrets: [quay-tenants]
    namespaceSelector:
      matchLabels: { tenant: "true" }
  - match: "*.azurecr.io"
    secrets: [acr-pull]
alwaysPull: private
discoverSecrets: false
`

function cluster (): ClusterStore {
  const store = new ClusterStore()
  store.setNamespace(summarizeNamespace(namespaceObject('team-a')))
  store.setNamespace(summarizeNamespace(namespaceObject('tenant-x', { tenant: 'true' })))
  store.setNamespace(summarizeNamespace(namespaceObject('discovering', { 'pullguard.dev/discover-secrets': 'true' })))
  store.setNamespace(summarizeNamespace(namespaceObject('strict', { 'pullguard.dev/always-pull': 'all' })))
  store.setNamespace(summarizeNamespace(namespaceObject('relaxed', { 'pullguard.dev/always-pull': 'off' })))
  store.setNamespace(summarizeNamespace(namespaceObject('no-inject', { 'pullguard.dev/inject': 'false' })))
  store.setNamespace(summarizeNamespace(namespaceObject('typo', { 'pullguard.dev/always-pull': 'sometimes' })))
  for (const ns of ['team-a', 'tenant-x', 'discovering', 'strict', 'relaxed', 'no-inject', 'typo']) {
    store.setSecret(summarizePullSecret(pullSecret(ns, 'ghcr-acme', ['ghcr.io']))!)
  }
  store.setSecret(summarizePullSecret(pullSecret('tenant-x', 'quay-tenants', ['quay.io']))!)
  store.setSecret(summarizePullSecret({ metadata: { namespace: 'team-a', name: 'acr-pull' }, type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': 'bm9wZQ==' } })!)
  store.setSecret(summarizePullSecret(pullSecret('discovering', 'found-quay', ['quay.io/coreos']))!)
  store.setSecret(summarizePullSecret(pullSecret('discovering', 'found-ghcr', ['ghcr.io/acme']))!)
  return store
}

const config = configFrom(CONFIG)
const names = (pod: Json): string[] => (pod.spec.imagePullSecrets ?? []).map((s: Json) => s.name)
const run = (pod: Json, namespace: string, store = cluster(), cfg = config) => {
  const outcome = mutate(inputOf(pod, { namespace }), cfg, store)
  const out = jsonpatch.applyPatch(structuredClone(pod), structuredClone(outcome.patch) as jsonpatch.Operation[], true, false).newDocument
  return { outcome, out }
}

t.test('a configured secret is injected only if it exists as a usable pull secret', async (t) => {
  const { outcome, out } = run(podWith([['a', 'ghcr.io/acme/x', 'Always'], ['b', 'x.azurecr.io/y', 'Always']]), 'team-a')
  t.same(names(out), ['ghcr-acme'])
  t.same(outcome.warnings, ['pullguard: pull secret "acr-pull" in "team-a" is not a valid docker config; not added'])
  t.same(outcome.warningReasons, ['secret-malformed'])
  const skip = configFrom(`${CONFIG}missingSecrets: skip\n`)
  const missing = run(podWith([['b', 'x.azurecr.io/y', 'Always']]), 'relaxed', cluster(), skip).outcome
  t.same(missing.warnings, ['pullguard: pull secret "acr-pull" not found in namespace "relaxed"; not added'])
  t.same(missing.patch, [])
  t.same(missing.images[0]?.secrets, [{ name: 'acr-pull', source: 'config', entry: 2, match: '*.azurecr.io', added: false, problem: 'missing' }])
})

t.test('missingSecrets: inject (the default) references a configured Secret before it exists', async (t) => {
  const { outcome, out } = run(podWith([['b', 'x.azurecr.io/y', 'Always']]), 'relaxed')
  t.same(names(out), ['acr-pull'])
  t.same(outcome.warnings, ['pullguard: pull secret "acr-pull" does not exist in "relaxed" yet; added: the kubelet uses it once it exists'])
  t.same(outcome.warningReasons, ['secret-pending'])
  t.same(outcome.images[0]?.secrets, [{ name: 'acr-pull', source: 'config', entry: 2, match: '*.azurecr.io', added: true, problem: undefined }])
  t.same(names(run(podWith([['b', 'x.azurecr.io/y', 'Always']]), 'team-a').out), [], 'a malformed Secret is still never injected')

  // The ServiceAccount rule wins: never inject what it would reject.
  const store = cluster()
  store.setServiceAccount(summarizeServiceAccount(serviceAccount('relaxed', 'builder', ['ghcr-acme'], true)))
  const strict = run(podWith([['b', 'x.azurecr.io/y', 'Always']], { spec: { serviceAccountName: 'builder' } }), 'relaxed', store)
  t.same(names(strict.out), [])
  t.same(strict.outcome.warningReasons, ['secret-not-mountable'])

  // Discovery only ever injects Secrets that exist.
  const discovering = configFrom(CONFIG.replace('discoverSecrets: false', 'discoverSecrets: true'))
  t.same(names(run(podWith([['a', 'quay.io/coreos/etcd', 'Always']]), 'relaxed', cluster(), discovering).out), [])
})

t.test('namespaceSelector entries apply by namespace labels', async (t) => {
  t.same(names(run(podWith([['a', 'quay.io/x', 'Always']]), 'tenant-x').out), ['quay-tenants'])
  t.same(names(run(podWith([['a', 'quay.io/x', 'Always']]), 'team-a').out), [])
})

t.test('discovery: per-namespace label, configured entries first, most specific first, no duplicates', async (t) => {
  const pod = podWith([['a', 'quay.io/coreos/etcd', 'Always'], ['b', 'ghcr.io/acme/x', 'Always']])
  const { outcome, out } = run(pod, 'discovering')
  t.same(names(out), ['found-quay', 'ghcr-acme', 'found-ghcr'])
  t.same(outcome.injected, [
    { name: 'found-quay', source: 'discovery', entry: undefined },
    { name: 'ghcr-acme', source: 'config', entry: 0 },
    { name: 'found-ghcr', source: 'discovery', entry: undefined },
  ])
  t.same(names(run(pod, 'team-a').out), ['ghcr-acme'], 'off without the label')
  const on = configFrom(CONFIG.replace('discoverSecrets: false', 'discoverSecrets: true'))
  const store = cluster()
  store.setSecret(summarizePullSecret(pullSecret('team-a', 'found-quay', ['quay.io']))!)
  t.same(names(run(pod, 'team-a', store, on).out), ['found-quay', 'ghcr-acme'], 'on from the config')
  store.setNamespace(summarizeNamespace(namespaceObject('team-a', { 'pullguard.dev/discover-secrets': 'false' })))
  t.same(names(run(pod, 'team-a', store, on).out), ['ghcr-acme'], 'and off again by label')
})

t.test('a discovered match makes an image private', async (t) => {
  const { out } = run(podWith([['a', 'quay.io/coreos/etcd', 'IfNotPresent'], ['b', 'registry.example.com/public/x', 'IfNotPresent']]), 'discovering')
  t.same(out.spec.containers.map((c: Json) => c.imagePullPolicy), ['Always', 'IfNotPresent'])
})

t.test('namespace labels set alwaysPull; a bad value is ignored with a warning', async (t) => {
  const pod = podWith([['a', 'docker.io/library/nginx', 'IfNotPresent'], ['b', 'ghcr.io/acme/x', 'IfNotPresent']])
  const policies = (ns: string) => run(pod, ns).out.spec.containers.map((c: Json) => c.imagePullPolicy)
  t.same(policies('strict'), ['Always', 'Always'])
  t.same(policies('relaxed'), ['IfNotPresent', 'IfNotPresent'])
  t.same(policies('team-a'), ['IfNotPresent', 'Always'])
  const typo = run(pod, 'typo').outcome
  t.same(typo.warningReasons, ['bad-label'])
  t.same(policies('typo'), ['IfNotPresent', 'Always'], 'config default')
  t.equal(validate(inputOf(pod, { namespace: 'strict' }), config, cluster()).allowed, false, 'validate uses the label too')
  t.match(validate(inputOf(pod, { namespace: 'strict' }), config, cluster()).denial?.message, /alwaysPull: all/)
})

t.test('pullguard.dev/inject: "false" turns injection off but not enforcement', async (t) => {
  const { outcome, out } = run(podWith([['a', 'ghcr.io/acme/x', 'IfNotPresent']]), 'no-inject')
  t.same(names(out), [])
  t.same(out.spec.containers[0].imagePullPolicy, 'Always')
  t.same(outcome.warnings, [])
})

t.test('pod labels and annotations never weaken enforcement', async (t) => {
  const pod = podWith([['a', 'ghcr.io/acme/x', 'IfNotPresent']], {
    metadata: { labels: { 'pullguard.dev/always-pull': 'off', 'pullguard.dev/inject': 'false' }, annotations: { 'pullguard.dev/always-pull': 'off' } },
  })
  const { out } = run(pod, 'strict')
  t.same(out.spec.containers[0].imagePullPolicy, 'Always')
  t.same(names(out), ['ghcr-acme'])
})

t.test('enforce-mountable-secrets: only secrets the ServiceAccount lists', async (t) => {
  const store = cluster()
  store.setSecret(summarizePullSecret(pullSecret('team-a', 'acr-pull', ['x.azurecr.io']))!)
  store.setServiceAccount(summarizeServiceAccount(serviceAccount('team-a', 'builder', ['ghcr-acme'], true)))
  store.setServiceAccount(summarizeServiceAccount(serviceAccount('team-a', 'default', [], false)))
  const pod = podWith([['a', 'ghcr.io/acme/x', 'Always'], ['b', 'x.azurecr.io/y', 'Always']], { spec: { serviceAccountName: 'builder' } })
  const { outcome, out } = run(pod, 'team-a', store)
  t.same(names(out), ['ghcr-acme'])
  t.same(outcome.warnings, ['pullguard: pull secret "acr-pull" not added: service account "builder" does not list it'])
  const relaxed = structuredClone(pod)
  relaxed.spec.serviceAccountName = 'default'
  t.same(names(run(relaxed, 'team-a', store).out), ['ghcr-acme', 'acr-pull'], 'without the annotation all are added')
})

t.test('a namespace not yet in the cache: config defaults and a warning', async (t) => {
  const { outcome } = run(podWith([['a', 'ghcr.io/acme/x', 'Always']]), 'brand-new')
  t.same(outcome.warningReasons, ['namespace-unknown', 'secret-pending'])
})

t.test('an ephemeral container that needs a discovered secret the pod lacks gets a warning', async (t) => {
  const old = podWith([['a', 'busybox', 'Always']])
  const pod = structuredClone(old)
  pod.spec.ephemeralContainers = [{ name: 'dbg', image: 'quay.io/coreos/debug', imagePullPolicy: 'IfNotPresent' }]
  const outcome = mutate(inputOf(pod, { namespace: 'discovering', operation: 'UPDATE', subResource: 'ephemeralcontainers', oldObject: old }), config, cluster())
  t.same(outcome.patch, [{ op: 'replace', path: '/spec/ephemeralContainers/0/imagePullPolicy', value: 'Always' }])
  t.same(outcome.warningReasons, ['secret-lacking-on-running-pod'])
})
