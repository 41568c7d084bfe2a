/**
 * Admission with secret distribution: the decision says, per Secret, whether
 * it is a distributed copy, from where, in which state and whether the copy
 * exists yet (what /preview shows); a Secret of the copy's name that
 * pullguard does not manage draws a warning; nothing else changes (the
 * patch is what it would be for a plain Secret name).
 */
import t from 'tap'
import { buildApp } from '../../src/app.js'
import { mutate } from '../../src/admission/policy.js'
import { summarizePullSecret } from '../../src/cluster/pull-secret.js'
import { ClusterStore } from '../../src/cluster/store.js'
import { summarizeNamespace } from '../../src/cluster/summaries.js'
import { COPIED_FROM_ANNOTATION, DATA_HASH_ANNOTATION, dataHash, observeSecret, type ObservedSecret } from '../../src/distribution/copy.js'
import { MANAGED_BY_LABEL } from '../../src/cluster/managed-by.js'
import type { DistributionView } from '../../src/distribution/observation.js'
import { withDistribution } from '../../src/distribution/view.js'
import { namespaceObject, pullSecret } from '../helpers/cluster.js'
import { configFrom } from '../helpers/fixtures.js'
import { inputOf, podWith } from '../helpers/review.js'

const CONFIG = configFrom(`
registries:
  - match: ghcr.io/acme
    secrets: [{name: ghcr-acme, from: pullguard/ghcr-acme}]
    namespaces: [team-a, team-b, team-c]
  - match: quay.io
    secrets: [quay-pull]
`, 'pullguard')

function copyOf (namespace: string, source: { type: string, data: Record<string, string> }, managed = true): ObservedSecret {
  return observeSecret({
    metadata: {
      namespace,
      name: 'ghcr-acme',
      uid: 'u',
      resourceVersion: '2',
      ...(managed ? { labels: { [MANAGED_BY_LABEL]: 'pullguard' }, annotations: { [COPIED_FROM_ANNOTATION]: 'pullguard/ghcr-acme', [DATA_HASH_ANNOTATION]: dataHash(source.type, source.data) } } : {}),
    },
    type: source.type,
    data: source.data,
  })
}

/** team-a: pullguard's copy; team-b: a tenant's own Secret of that name; team-c: none yet. */
function setup (): { store: ClusterStore, view: DistributionView } {
  const store = new ClusterStore()
  const src = pullSecret('pullguard', 'ghcr-acme', ['ghcr.io'])
  for (const ns of ['pullguard', 'team-a', 'team-b', 'team-c']) store.setNamespace(summarizeNamespace(namespaceObject(ns)))
  store.setSecret(summarizePullSecret(src)!)
  store.setSecret(summarizePullSecret(pullSecret('team-a', 'ghcr-acme', ['ghcr.io']))!)
  store.setSecret(summarizePullSecret(pullSecret('team-b', 'ghcr-acme', ['ghcr.io']))!)
  const secrets = [observeSecret(src), copyOf('team-a', src), copyOf('team-b', { type: src.type, data: { '.dockerconfigjson': 'e30=' } }, false)]
  const view: DistributionView = { observe: (namespace, name) => secrets.find((s) => s.namespace === namespace && s.name === name) ?? 'absent' }
  return { store, view }
}

const pod = podWith([['app', 'ghcr.io/acme/app:1', 'Always'], ['side', 'quay.io/x/y:1', 'Always']])

t.test('the decision says where each Secret comes from and whether the copy exists', async (t) => {
  const { store, view } = setup()
  const cluster = withDistribution(store, view)
  const present = mutate(inputOf(pod, { namespace: 'team-a' }), CONFIG, cluster)
  t.same(present.images[0]?.secrets, [{ name: 'ghcr-acme', source: 'config', entry: 0, match: 'ghcr.io/acme', added: true, problem: undefined, copy: { from: 'pullguard/ghcr-acme', state: 'current', exists: true } }])
  t.same(present.images[1]?.secrets, [{ name: 'quay-pull', source: 'config', entry: 1, match: 'quay.io', added: true, problem: undefined }], 'a plain name: no copy field')
  t.same(present.warningReasons, ['secret-pending'], 'quay-pull is merely missing')

  const pending = mutate(inputOf(pod, { namespace: 'team-c' }), CONFIG, cluster)
  t.same(pending.images[0]?.secrets[0]?.copy, { from: 'pullguard/ghcr-acme', state: 'pending', exists: false }, 'not created yet')
  t.match(pending.warnings, [/pull secret "ghcr-acme" does not exist in "team-c" yet; added/], 'injected anyway (missingSecrets: inject): the copy follows')
  t.same(pending.patch[0], { op: 'add', path: '/spec/imagePullSecrets', value: [{ name: 'ghcr-acme' }, { name: 'quay-pull' }] })
})

t.test('a Secret of the copy\'s name that pullguard does not manage: a warning, the same patch', async (t) => {
  const { store, view } = setup()
  const outcome = mutate(inputOf(pod, { namespace: 'team-b' }), CONFIG, withDistribution(store, view))
  t.same(outcome.images[0]?.secrets[0]?.copy, { from: 'pullguard/ghcr-acme', state: 'unmanaged', exists: false })
  t.ok(outcome.warnings.includes('pullguard: Secret "ghcr-acme" in "team-b" is not pullguard\'s copy; it is left as it is'))
  t.ok(outcome.warningReasons.includes('secret-unmanaged'))
  const plain = mutate(inputOf(pod, { namespace: 'team-b' }), CONFIG, store)
  t.same(outcome.patch, plain.patch, 'what is injected does not depend on distribution')
  const listed = podWith([['app', 'ghcr.io/acme/app:1', 'Always']], { spec: { imagePullSecrets: [{ name: 'ghcr-acme' }] } })
  t.notOk(mutate(inputOf(listed, { namespace: 'team-b' }), CONFIG, withDistribution(store, view)).warningReasons.includes('secret-unmanaged'), 'the pod names it itself: no warning')
})

t.test('without the watches (distribution off on this replica, local mode): state unknown', async (t) => {
  const { store } = setup()
  t.same(mutate(inputOf(pod, { namespace: 'team-a' }), CONFIG, store).images[0]?.secrets[0]?.copy, { from: 'pullguard/ghcr-acme', state: 'unknown', exists: false })
  t.same(mutate(inputOf(pod, { namespace: 'team-a' }), CONFIG).images[0]?.secrets[0]?.copy, { from: 'pullguard/ghcr-acme', state: 'unknown', exists: false })
})

t.test('/preview passes the copy through', async (t) => {
  const { store, view } = setup()
  const app = buildApp({ config: CONFIG, cluster: withDistribution(store, view) })
  t.teardown(() => app.close())
  const res = await app.inject({ method: 'POST', url: '/preview?namespace=team-c', payload: pod })
  t.equal(res.statusCode, 200)
  t.same(res.json().images[0].secrets[0].copy, { from: 'pullguard/ghcr-acme', state: 'pending', exists: false })
})
