/**
 * alwaysPull: private covers every image that ANY known credential applies
 * to (coverage.ts): config entries whatever their namespace scope, pull
 * Secrets of any namespace, the same registry spelled with other case or
 * :443; publicImages exempts. Table first (the pure decision), then the
 * example config through the real HTTPS server's /preview and /mutate, then
 * pull Secrets arriving and leaving through the API server double.
 */
import t from 'tap'
import jsonpatch from 'fast-json-patch'
import { mutate, validate } from '../../src/admission/policy.js'
import { summarizePullSecret } from '../../src/cluster/pull-secret.js'
import { ClusterStore } from '../../src/cluster/store.js'
import { summarizeNamespace } from '../../src/cluster/summaries.js'
import { startClusterInformers } from '../../src/kube/informers.js'
import { createLogger } from '../../src/logger.js'
import { loadConfig } from '../../src/config/compile.js'
import { ApiServerDouble } from '../helpers/api-server-double.js'
import { namespaceObject, pullSecret } from '../helpers/cluster.js'
import { configFrom, fixtureText, type Json } from '../helpers/fixtures.js'
import { inputOf, podWith } from '../helpers/review.js'
import { startServer } from '../helpers/server.js'
import { waitFor } from '../helpers/wait.js'
import { readFileSync } from 'node:fs'

const CONFIG = configFrom(`
registries:
  - match: ghcr.io/acme
    secrets: [ghcr-acme]
    namespaces: [team-a, "team-b*"]
  - match: quay.io/tenants
    secrets: [quay-tenants]
    namespaceSelector: { matchLabels: { tenant: "true" } }
  - match: https://index.docker.io/v1/
    secrets: [dockerhub-pull]
alwaysPull: private
publicImages: [docker.io/library/, ghcr.io/acme/public/]
`)

function cluster (): ClusterStore {
  const store = new ClusterStore()
  for (const ns of ['team-a', 'team-b1', 'team-c']) store.setNamespace(summarizeNamespace(namespaceObject(ns)))
  store.setSecret(summarizePullSecret(pullSecret('team-a', 'ghcr-acme', ['ghcr.io']))!)
  // A tenant's own pull Secret for their own registry.
  store.setSecret(summarizePullSecret(pullSecret('team-b1', 'private-reg', ['registry.team-b.example']))!)
  return store
}

interface Row {
  image: string
  namespace: string
  covered: boolean
  because?: RegExp
  warning?: RegExp
  local?: true // no cluster view
}

const rows: Row[] = [
  // Config entries: namespace scope decides injection, never coverage.
  { image: 'ghcr.io/acme/web:2.1.0', namespace: 'team-a', covered: true, because: /^private: matches registries\[0\] \(ghcr.io\/acme\)$/ },
  { image: 'ghcr.io/acme/web:2.1.0', namespace: 'team-c', covered: true, because: /matches registries\[0\] \(ghcr.io\/acme\), not allowed in team-c/ },
  { image: 'ghcr.io/acme/web:2.1.0', namespace: 'team-c', covered: true, local: true, because: /not allowed in team-c/ },
  { image: 'quay.io/tenants/app', namespace: 'team-c', covered: true, because: /registries\[1\].*not allowed in team-c/ },
  { image: 'quay.io/other/app', namespace: 'team-c', covered: false },
  { image: 'ghcr.io/other/app', namespace: 'team-a', covered: true, because: /^private: matches a pull Secret in this namespace$/ },
  { image: 'ghcr.io/other/app', namespace: 'team-a', covered: false, local: true },
  // The kubelet's path prefix is a plain string prefix.
  { image: 'ghcr.io/acme-labs/app', namespace: 'team-c', covered: true },
  // Pull Secrets of any namespace; the answer never names them.
  { image: 'registry.team-b.example/app', namespace: 'team-b1', covered: true, because: /^private: matches a pull Secret in this namespace$/ },
  { image: 'registry.team-b.example/app', namespace: 'team-c', covered: true, because: /^private: matches a pull Secret in another namespace$/ },
  { image: 'registry.team-b.example/app', namespace: 'team-c', covered: false, local: true },
  { image: 'ghcr.io/someone/app', namespace: 'team-c', covered: true, because: /pull Secret in another namespace/ },
  // Same registry, other spelling: covered, and warned about.
  { image: 'GHCR.IO/acme/app:1', namespace: 'team-c', covered: true, because: /registries\[0\].*other case or :443/, warning: /registry host spelled with other case or :443/ },
  { image: 'Ghcr.io/acme/app', namespace: 'team-a', covered: true, warning: /other case or :443/ },
  { image: 'ghcr.io:443/acme/app:1', namespace: 'team-a', covered: true, warning: /other case or :443/ },
  { image: 'REGISTRY.team-b.example/x', namespace: 'team-c', covered: true, because: /pull Secret in another namespace \(registry spelled/, warning: /other case or :443/ },
  { image: 'ghcr.io:8443/acme/app', namespace: 'team-a', covered: false },
  // Docker Hub: the index.docker.io key covers every Docker Hub image ...
  { image: 'bitnami/redis', namespace: 'team-c', covered: true, because: /registries\[2\]/ },
  { image: 'INDEX.DOCKER.IO/bitnami/redis', namespace: 'team-c', covered: true, warning: /other case or :443/ },
  // ... except what publicImages exempts, however it is spelled.
  { image: 'nginx', namespace: 'team-c', covered: false, because: /^listed in publicImages \(docker.io\/library\/\)/ },
  { image: 'docker.io/library/nginx:1.27', namespace: 'team-c', covered: false, because: /publicImages/ },
  { image: 'ghcr.io/acme/public/tool', namespace: 'team-c', covered: false, because: /publicImages \(ghcr.io\/acme\/public\/\)/ },
  // An image that does not parse: Always costs nothing.
  { image: 'ghcr.io/acme/Web', namespace: 'team-c', covered: true },
]

t.test('what alwaysPull: private covers, and why', async (t) => {
  for (const row of rows) {
    const label = `${row.image} in ${row.namespace}${row.local === true ? ' (local mode)' : ''}`
    const pod = podWith([['c', row.image, 'IfNotPresent']])
    const store = row.local === true ? undefined : cluster()
    const outcome = mutate(inputOf(pod, { namespace: row.namespace }), CONFIG, store)
    const out = jsonpatch.applyPatch(structuredClone(pod), structuredClone(outcome.patch) as jsonpatch.Operation[], true, false).newDocument
    t.equal(out.spec.containers[0].imagePullPolicy, row.covered ? 'Always' : 'IfNotPresent', `${label}: pull policy`)
    t.equal(outcome.images[0]?.covered, row.covered, `${label}: covered`)
    if (row.because !== undefined) t.match(outcome.images[0]?.coveredBecause, row.because, `${label}: because`)
    if (row.warning !== undefined) t.ok(outcome.warnings.some((w) => row.warning?.test(w)), `${label}: warned`)
    else t.notOk(outcome.warningReasons.includes('registry-spelling'), `${label}: no spelling warning`)
    // The validating webhook agrees: it denies exactly what mutate would force.
    t.equal(validate(inputOf(pod, { namespace: row.namespace }), CONFIG, store).allowed, !row.covered, `${label}: validate`)
    t.notMatch(JSON.stringify(outcome), /private-reg|ghcr-acme"?,"source":"discovery/, `${label}: no other namespace's Secret named`)
  }
})

t.test('injection stays kubelet-exact: a respelled or out-of-scope image gets no Secret', async (t) => {
  for (const [image, ns] of [['GHCR.IO/acme/app', 'team-a'], ['ghcr.io:443/acme/app', 'team-a'], ['ghcr.io/acme/app', 'team-c']] as const) {
    const outcome = mutate(inputOf(podWith([['c', image, 'IfNotPresent']]), { namespace: ns }), CONFIG, cluster())
    t.same(outcome.injected, [], `${image} in ${ns}`)
  }
  const ok = mutate(inputOf(podWith([['c', 'ghcr.io/acme/app', 'IfNotPresent']]), { namespace: 'team-a' }), CONFIG, cluster())
  t.same(ok.injected.map((i) => i.name), ['ghcr-acme'])
})

t.test('publicImages is validated', async (t) => {
  for (const bad of ['nginx', 'index.docker.io/library/', 'Docker.io/library/', 'docker.io/library/ x', '']) {
    t.throws(() => configFrom(`publicImages: [${JSON.stringify(bad)}]\n`), { message: /publicImages\[0\]/ }, JSON.stringify(bad))
  }
  t.same(configFrom('publicImages: [docker.io/library/, "registry.example:5000/base/"]\n').publicImages, ['docker.io/library/', 'registry.example:5000/base/'])
  t.throws(() => configFrom('missingSecrets: sometimes\n'), { message: /missingSecrets/ })
})

t.test('the example config, as a new user tries it: /preview for team-c forces Always on team-a\'s image', async (t) => {
  const example = loadConfig(readFileSync(new URL('../../manifests/example-config.yaml', import.meta.url), 'utf8'), { origin: 'example' })
  const server = await startServer(example)
  t.teardown(() => server.close())
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web' }, spec: { containers: [{ name: 'web', image: 'ghcr.io/acme/web:2.1.0', imagePullPolicy: 'IfNotPresent' }] } }
  const res = await server.post('/preview?namespace=team-c', pod)
  t.equal(res.status, 200)
  t.same(res.json.patch, [{ op: 'replace', path: '/spec/containers/0/imagePullPolicy', value: 'Always' }])
  t.equal(res.json.images[0].covered, true)
  t.match(res.json.images[0].coveredBecause, /not allowed in team-c/)
  t.same(res.json.images[0].secrets, [], 'and no Secret: team-c may not use it')
  const nginx = await server.post('/preview?namespace=team-c', { ...pod, spec: { containers: [{ name: 'n', image: 'nginx:1.27', imagePullPolicy: 'IfNotPresent' }] } })
  t.equal(nginx.json.images[0].covered, false, 'docker.io/library/ is in publicImages')
})

t.test('cluster mode: a pull Secret created in team-a makes its registry private for team-c; deleting it ends that', async (t) => {
  const api = new ApiServerDouble()
  await api.start()
  api.create('namespaces', namespaceObject('team-a'))
  api.create('namespaces', namespaceObject('team-c'))
  const store = new ClusterStore()
  const informers = startClusterInformers({ kubeConfig: api.kubeConfig(), store, log: createLogger({ level: 'silent' }), backoff: { initialMs: 20, maxMs: 200 } })
  const server = await startServer(configFrom('alwaysPull: private\n'), { cluster: store })
  t.teardown(async () => { await informers.stop(); await server.close(); await api.stop() })
  await waitFor(() => informers.synced(), 5000, 'informers to sync')

  const policyIn = async (namespace: string): Promise<string> => {
    const review = JSON.parse(fixtureText('review-create.json')) as Json
    review.request.namespace = namespace
    review.request.object.metadata.namespace = namespace
    review.request.object.spec = { containers: [{ name: 'c', image: 'registry.team-a.example/app:1', imagePullPolicy: 'IfNotPresent' }] }
    const res = await server.post('/mutate', review)
    const patch = res.json.response.patch === undefined ? [] : JSON.parse(Buffer.from(res.json.response.patch, 'base64').toString())
    return jsonpatch.applyPatch(review.request.object, patch).newDocument.spec.containers[0].imagePullPolicy
  }
  t.equal(await policyIn('team-c'), 'IfNotPresent', 'nobody holds a credential yet')
  api.create('secrets', pullSecret('team-a', 'reg', ['registry.team-a.example']), 'team-a')
  await waitFor(async () => (await policyIn('team-c')) === 'Always', 5000, 'the new Secret to make the registry private')
  t.pass('team-c must now ask the registry')
  api.remove('secrets', 'reg', 'team-a')
  await waitFor(async () => (await policyIn('team-c')) === 'IfNotPresent', 5000, 'the deletion to end it')
  t.pass('deleting the Secret ends it')
})
