import t from 'tap'
import { ClusterStore } from '../../src/cluster/store.js'
import { startClusterInformers, type ClusterInformers } from '../../src/kube/informers.js'
import { createLogger } from '../../src/logger.js'
import { ApiServerDouble } from '../helpers/api-server-double.js'
import { FAKE_PASSWORD, namespaceObject, pullSecret, serviceAccount } from '../helpers/cluster.js'
import { configFrom, fixture, type Json } from '../helpers/fixtures.js'
import { LogCapture, startServer } from '../helpers/server.js'
import { waitFor } from '../helpers/wait.js'

const CONFIG = configFrom(`
registries:
  - match: ghcr.io/acme
    secrets: [ghcr-acme]
alwaysPull: private
discoverSecrets: true
missingSecrets: skip
`)

async function setup (t: { teardown: (fn: () => Promise<void>) => void }) {
  const api = new ApiServerDouble()
  await api.start()
  api.create('namespaces', namespaceObject('team-a'))
  api.create('namespaces', namespaceObject('team-b', { 'pullguard.dev/always-pull': 'all' }))
  api.create('secrets', pullSecret('team-a', 'ghcr-acme', ['ghcr.io']), 'team-a')
  api.create('secrets', { apiVersion: 'v1', kind: 'Secret', metadata: { namespace: 'team-a', name: 'app-config' }, type: 'Opaque', data: { password: Buffer.from(FAKE_PASSWORD).toString('base64') } }, 'team-a')
  api.create('serviceaccounts', serviceAccount('team-a', 'default'), 'team-a')
  const store = new ClusterStore()
  const logs = new LogCapture()
  const log = createLogger({ level: 'debug', destination: logs })
  const informers = startClusterInformers({ kubeConfig: api.kubeConfig(), store, log, backoff: { initialMs: 20, maxMs: 200 } })
  const server = await startServer(CONFIG, { cluster: store })
  t.teardown(async () => { await informers.stop(); await server.close(); await api.stop() })
  return { api, store, logs, informers, server }
}

function mutateReview (namespace: string, images: string[]): Json {
  const review = fixture('review-create.json')
  review.request.namespace = namespace
  review.request.object.metadata.namespace = namespace
  review.request.object.spec.containers = images.map((image, i) => ({ name: `c${i}`, image, imagePullPolicy: 'IfNotPresent' }))
  return review
}

async function injected (server: Awaited<ReturnType<typeof setup>>['server'], namespace: string, images: string[]): Promise<string[]> {
  const res = await server.post('/mutate', mutateReview(namespace, images))
  const patch = res.json.response.patch === undefined ? [] : JSON.parse(Buffer.from(res.json.response.patch, 'base64').toString())
  return patch.filter((op: Json) => op.path.startsWith('/spec/imagePullSecrets')).flatMap((op: Json) => Array.isArray(op.value) ? op.value.map((v: Json) => v.name) : [op.value.name])
}

const synced = async (informers: ClusterInformers) => await waitFor(() => informers.synced(), 5000, 'informers to sync')

t.test('lists, then follows add/modify/delete; admission answers follow', async (t) => {
  const { api, store, informers, server } = await setup(t)
  await synced(informers)
  t.same(store.counts(), { namespaces: 2, secrets: 1, serviceAccounts: 1 }, 'the opaque secret is never seen')
  t.same(await injected(server, 'team-a', ['ghcr.io/acme/app']), ['ghcr-acme'])

  // A secret that does not exist yet is not injected; once created, it is.
  t.same(await injected(server, 'team-b', ['ghcr.io/acme/app']), [])
  api.create('secrets', pullSecret('team-b', 'ghcr-acme', ['ghcr.io']), 'team-b')
  await waitFor(async () => (await injected(server, 'team-b', ['ghcr.io/acme/app'])).length === 1, 5000, 'the new secret to be injected')

  // Discovery sees a new pull secret, and a modification of its keys.
  api.create('secrets', pullSecret('team-a', 'quay-team', ['quay.io/team']), 'team-a')
  await waitFor(async () => (await injected(server, 'team-a', ['quay.io/team/x'])).includes('quay-team'), 5000, 'discovery')
  const quay = api.get('secrets', 'quay-team', 'team-a')
  quay.data = pullSecret('team-a', 'quay-team', ['quay.io/other']).data
  api.update('secrets', quay, 'team-a')
  await waitFor(async () => (await injected(server, 'team-a', ['quay.io/team/x'])).length === 0, 5000, 'the modified keys')

  // Deleting the configured secret stops its injection.
  api.remove('secrets', 'ghcr-acme', 'team-a')
  await waitFor(async () => (await injected(server, 'team-a', ['ghcr.io/acme/app'])).length === 0, 5000, 'the deletion')

  // A namespace label change changes the policy.
  const ns = api.get('namespaces', 'team-a')
  ns.metadata.labels = { ...ns.metadata.labels, 'pullguard.dev/inject': 'false' }
  api.update('namespaces', ns)
  await waitFor(() => store.namespace('team-a')?.labels['pullguard.dev/inject'] === 'false', 5000, 'the label')
})

t.test('no secret data is kept or logged', async (t) => {
  const { store, informers, logs } = await setup(t)
  await synced(informers)
  const everything = JSON.stringify([store.secret('team-a', 'ghcr-acme'), store.discover('team-a', 'ghcr.io/x')])
  t.notMatch(everything, new RegExp(FAKE_PASSWORD))
  t.notMatch(everything, /cm9ib3Q6/)
  t.notMatch(logs.text(), new RegExp(FAKE_PASSWORD))
})

t.test('dropped watch connections resume; 410 Gone relists; nothing is missed', async (t) => {
  const { api, store, informers } = await setup(t)
  await synced(informers)
  const lists = () => api.requests.filter((r) => r.verb === 'list').length
  const before = lists()
  api.dropWatches()
  api.create('secrets', pullSecret('team-a', 'after-drop', ['quay.io']), 'team-a')
  await waitFor(() => store.secret('team-a', 'after-drop') !== undefined, 5000, 'the event after a drop')
  t.equal(lists(), before, 'a dropped watch resumes without a relist')

  // Changes the informer cannot see as events: made during an outage, after
  // which the restarted API server's watch cache no longer has them.
  await api.stop()
  api.remove('secrets', 'after-drop', 'team-a')
  api.create('secrets', pullSecret('team-a', 'after-compact', ['quay.io']), 'team-a')
  await api.restart()
  await waitFor(() => store.secret('team-a', 'after-compact') !== undefined && store.secret('team-a', 'after-drop') === undefined, 5000, 'the relist')
  t.ok(lists() > before, 'the 410 made the informer relist')
})

t.test('outage: admission keeps answering from the cache, staleness grows, the view recovers', async (t) => {
  const { api, store, informers, server, logs } = await setup(t)
  await synced(informers)
  await api.stop()
  await waitFor(() => informers.status().every((s) => !s.connected), 5000, 'the informers to notice the outage')
  t.same(await injected(server, 'team-a', ['ghcr.io/acme/app']), ['ghcr-acme'], 'decisions from the last known state')
  await waitFor(() => informers.status().every((s) => s.stalenessSeconds > 0), 5000, 'staleness')
  t.ok(informers.synced(), 'still counts as synced: readiness does not flap during an outage')
  await api.restart()
  api.create('secrets', pullSecret('team-a', 'after-outage', ['quay.io']), 'team-a')
  await waitFor(() => store.secret('team-a', 'after-outage') !== undefined, 10_000, 'recovery after the restart')
  await waitFor(() => informers.status().every((s) => s.connected && s.stalenessSeconds === 0), 5000, 'reconnection')
    .catch((err: Error) => { throw new Error(`${err.message}: ${JSON.stringify(informers.status())}`) })
  t.ok(informers.status().some((s) => s.restarts > 0), 'restarted with backoff')
  t.match(logs.text(), /informer lost the API server; retrying/)
  t.notMatch(logs.text(), /double-token/, 'the bearer token is never logged')
})
