import net from 'node:net'
import t from 'tap'
import { KubeConfig } from '@kubernetes/client-node'
import { ClusterStore } from '../../src/cluster/store.js'
import { startClusterInformers, type ClusterInformers } from '../../src/kube/informers.js'
import { createLogger } from '../../src/logger.js'
import { ApiServerDouble, type ApiServerDoubleOptions, type RequestRecord } from '../helpers/api-server-double.js'
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

interface SetupOptions {
  readonly api?: ApiServerDoubleOptions
  /** Objects to create before the informers start. */
  readonly populate?: (api: ApiServerDouble) => void
  readonly pageSize?: number
  /** Where the informers connect, if not to the double itself (a proxy in front of it). */
  readonly via?: (api: ApiServerDouble) => Promise<KubeConfig>
}

async function setup (t: { teardown: (fn: () => Promise<void>) => void }, options: SetupOptions = {}) {
  const api = new ApiServerDouble(options.api)
  await api.start()
  api.create('namespaces', namespaceObject('team-a'))
  api.create('namespaces', namespaceObject('team-b', { 'pullguard.dev/always-pull': 'all' }))
  api.create('secrets', pullSecret('team-a', 'ghcr-acme', ['ghcr.io']), 'team-a')
  api.create('secrets', { apiVersion: 'v1', kind: 'Secret', metadata: { namespace: 'team-a', name: 'app-config' }, type: 'Opaque', data: { password: Buffer.from(FAKE_PASSWORD).toString('base64') } }, 'team-a')
  api.create('serviceaccounts', serviceAccount('team-a', 'default'), 'team-a')
  options.populate?.(api)
  const store = new ClusterStore()
  const logs = new LogCapture()
  const log = createLogger({ level: 'debug', destination: logs })
  const kubeConfig = options.via === undefined ? api.kubeConfig() : await options.via(api)
  const informers = startClusterInformers({ kubeConfig, store, log, backoff: { initialMs: 20, maxMs: 200 }, ...(options.pageSize === undefined ? {} : { pageSize: options.pageSize }) })
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
  await waitFor(() => api.watchCount() === 4, 5000, 'four watches')
  api.dropWatches()
  api.create('secrets', pullSecret('team-a', 'after-drop', ['quay.io']), 'team-a')
  await waitFor(() => store.secret('team-a', 'after-drop') !== undefined, 5000, 'the event after a drop')
  t.equal(lists(), before, 'a dropped watch resumes without a relist')
  const secrets = () => informers.status().find((s) => s.resource === 'secrets/dockerconfigjson')
  t.match(secrets(), { relists: 0, watchRestarts: 1 })

  // Changes the informer cannot see as events: made during an outage, after
  // which the restarted API server's watch cache no longer has them.
  await api.stop()
  api.remove('secrets', 'after-drop', 'team-a')
  api.create('secrets', pullSecret('team-a', 'after-compact', ['quay.io']), 'team-a')
  await api.restart()
  await waitFor(() => store.secret('team-a', 'after-compact') !== undefined && store.secret('team-a', 'after-drop') === undefined, 5000, 'the relist')
  t.ok(lists() > before, 'the 410 made the informer relist')
  await waitFor(() => informers.status().every((s) => s.relists === 1), 5000, 'every informer to count its relist')
})

const PULL_LISTS = (r: RequestRecord): boolean => r.verb === 'list' && r.query.fieldSelector === 'type=kubernetes.io/dockerconfigjson'

t.test('lists in pages at the latest revision, then watches from the list\'s RV with bookmarks and a timeout', async (t) => {
  const populate = (api: ApiServerDouble) => { for (let i = 0; i < 5; i++) api.create('secrets', pullSecret('team-a', `pull-${i}`, ['quay.io']), 'team-a') }
  const { api, store, informers } = await setup(t, { pageSize: 2, populate })
  await synced(informers)
  t.equal(store.counts().secrets, 6)
  const lists = api.requests.filter(PULL_LISTS)
  t.same(lists.map((r) => [r.query.limit, r.query.continue !== undefined, r.query.resourceVersion, r.status]),
    [['2', false, undefined, 200], ['2', true, undefined, 200], ['2', true, undefined, 200]], 'three pages of two, consistent reads (no resourceVersion "0": the watch cache would ignore the limit)')
  const watch = await waitFor(() => api.requests.find((r) => r.verb === 'watch' && r.query.fieldSelector === 'type=kubernetes.io/dockerconfigjson'), 5000, 'the watch')
  t.match(watch.query, { watch: 'true', allowWatchBookmarks: 'true', resourceVersion: api.resourceVersion })
  t.ok(Number(watch.query.timeoutSeconds) >= 300 && Number(watch.query.timeoutSeconds) < 600, 'timeoutSeconds 5-10 minutes, as client-go')
})

t.test('a continue token that expires mid-list falls back to one full list, as client-go\'s pager', async (t) => {
  let compacted = false
  const populate = (api: ApiServerDouble) => {
    for (let i = 0; i < 3; i++) api.create('secrets', pullSecret('team-a', `pull-${i}`, ['quay.io']), 'team-a')
    api.onRequest = (r) => {
      if (compacted || r.query.continue === undefined || r.query.fieldSelector !== 'type=kubernetes.io/dockerconfigjson') return
      compacted = true
      for (let i = 0; i < 4; i++) api.create('configmaps', { metadata: { name: `churn-${i}`, namespace: 'team-a' } }, 'team-a') // the list's revision is compacted away
    }
  }
  const { api, store, informers, logs } = await setup(t, { api: { historyLimit: 3 }, pageSize: 1, populate })
  await synced(informers)
  const lists = api.requests.filter(PULL_LISTS)
  t.same(lists.map((r) => [r.query.limit, r.query.continue !== undefined, r.status]), [['1', false, 200], ['1', true, 410], [undefined, false, 200]], 'page, expired page, full list')
  t.equal(store.counts().secrets, 4, 'every Secret, once')
  t.match(informers.status().find((s) => s.resource === 'secrets/dockerconfigjson'), { synced: true, relists: 0 })
  t.match(logs.text(), /informer list continuation expired; listing in full/)
})

t.test('bookmarks move the resume point: a quiet informer resumes after a compaction without relisting', async (t) => {
  const { api, informers } = await setup(t)
  await synced(informers)
  await waitFor(() => api.watchCount() === 4, 5000, 'four watches')
  const lists = api.requests.filter((r) => r.verb === 'list').length
  for (let i = 0; i < 3; i++) api.create('configmaps', { metadata: { name: `elsewhere-${i}`, namespace: 'team-a' } }, 'team-a')
  const at = api.resourceVersion
  t.equal(api.bookmark(), 4, 'every watch allows bookmarks')
  api.compact() // nothing before `at` can be resumed from now
  api.endWatches()
  await waitFor(() => api.requests.filter((r) => r.verb === 'watch' && r.query.resourceVersion === at).length === 4, 5000, 'four watches from the bookmark')
  await waitFor(() => api.watchCount() === 4, 5000, 'the watches back')
  t.ok(informers.status().every((s) => s.relists === 0 && s.watchRestarts === 1), 'resumed, not relisted')
  t.equal(api.requests.filter((r) => r.verb === 'list').length, lists, 'no list')
  t.notOk(api.requests.some((r) => r.status === 410), 'no 410')
})

/** A TCP proxy in front of the double that cuts everything the server sends into 7-byte writes: watch lines and list bodies arrive split anywhere. */
async function rechunkingProxy (t: { teardown: (fn: () => Promise<void>) => void }, api: ApiServerDouble): Promise<KubeConfig> {
  const sockets = new Set<net.Socket>()
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(new URL(api.url).port), '127.0.0.1')
    for (const s of [client, upstream]) { sockets.add(s); s.on('close', () => sockets.delete(s)); s.on('error', () => { client.destroy(); upstream.destroy() }) }
    client.pipe(upstream)
    let writing = Promise.resolve()
    upstream.on('data', (data: Buffer) => {
      upstream.pause()
      writing = writing.then(async () => {
        for (let i = 0; i < data.length; i += 7) {
          client.write(data.subarray(i, i + 7))
          await new Promise((resolve) => setImmediate(resolve))
        }
        upstream.resume()
      })
    })
    upstream.on('end', () => { void writing.then(() => client.end()) })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(async () => { for (const s of sockets) s.destroy(); await new Promise((resolve) => server.close(resolve)) })
  const kc = new KubeConfig()
  kc.loadFromOptions({
    clusters: [{ name: 'proxy', server: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`, skipTLSVerify: true }],
    users: [{ name: 'proxy', token: 'double-token' }],
    contexts: [{ name: 'proxy', cluster: 'proxy', user: 'proxy' }],
    currentContext: 'proxy',
  })
  return kc
}

t.test('responses split anywhere (a proxy cuts them into 7-byte pieces): lists and watch events arrive whole', async (t) => {
  const { api, store, informers } = await setup(t, { pageSize: 1, via: async (api) => await rechunkingProxy(t, api) })
  await synced(informers)
  t.same(store.counts(), { namespaces: 2, secrets: 1, serviceAccounts: 1 })
  api.create('secrets', pullSecret('team-a', 'split', ['quay.io/split']), 'team-a')
  api.create('secrets', pullSecret('team-a', 'split-2', ['quay.io/split-2']), 'team-a')
  await waitFor(() => store.secret('team-a', 'split-2') !== undefined, 5000, 'the watch events')
  t.same(store.secret('team-a', 'split')?.keys.map((k) => k.raw), ['quay.io/split'])
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
  t.ok(informers.status().some((s) => s.watchRestarts > 0), 'restarted with backoff')
  t.match(logs.text(), /informer lost the API server; retrying/)
  t.notMatch(logs.text(), /double-token/, 'the bearer token is never logged')
})
