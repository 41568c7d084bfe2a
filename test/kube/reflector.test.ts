/**
 * One resource's list/watch loop (src/kube/reflector.ts) with client-go's
 * reflector semantics, against the API server double's real list/watch
 * protocol: paged lists, watch events into the sink, a clean watch end
 * resumed without a relist, 410 Expired relisting and removing what the
 * list no longer names, and an outage reported in status() and survived.
 */
import t, { type Test } from 'tap'
import type { RawObject } from '../../src/kube/api-get.js'
import { Reflector, type ReflectorSink } from '../../src/kube/reflector.js'
import { createLogger } from '../../src/logger.js'
import { ApiServerDouble } from '../helpers/api-server-double.js'
import { FAKE_PASSWORD, pullSecret } from '../helpers/cluster.js'
import { LogCapture } from '../helpers/server.js'
import { waitFor } from '../helpers/wait.js'

interface Kept { readonly namespace: string, readonly name: string, readonly type: string }

/** A sink that keeps name and type, and drops Secrets whose type is Opaque (summarize → undefined). */
function sink (): ReflectorSink<Kept> & { items: Map<string, Kept> } {
  const items = new Map<string, Kept>()
  return {
    items,
    summarize: (obj: RawObject) => obj.type === 'Opaque' ? undefined : { namespace: obj.metadata?.namespace ?? '', name: obj.metadata?.name ?? '', type: String(obj.type) },
    set: (s) => { items.set(`${s.namespace}/${s.name}`, s) },
    remove: (namespace, name) => { items.delete(`${namespace}/${name}`) },
    held: () => items.values(),
  }
}

async function setup (t: Test, count = 5, pageSize = 2, backoff = { initialMs: 10, maxMs: 50 }): Promise<{ api: ApiServerDouble, s: ReturnType<typeof sink>, r: Reflector<Kept>, logs: LogCapture }> {
  const api = new ApiServerDouble()
  await api.start()
  for (let i = 0; i < count; i++) api.create('secrets', pullSecret('team-a', `s${i}`, ['ghcr.io']), 'team-a')
  const s = sink()
  const logs = new LogCapture()
  const r = new Reflector<Kept>({
    kubeConfig: api.kubeConfig(),
    path: '/api/v1/secrets',
    sink: s,
    log: createLogger({ destination: logs }),
    backoff,
    now: Date.now,
    pageSize,
    watchTimeoutSeconds: () => 300,
  })
  t.teardown(async () => { await r.stop(); await api.stop() })
  return { api, s, r, logs }
}

const names = (s: ReturnType<typeof sink>): string[] => [...s.items.keys()].sort()

t.test('lists in pages into the sink, then watches from the list\'s resourceVersion', async (t) => {
  const { api, s, r } = await setup(t)
  t.same(r.status(), { synced: false, connected: false, disconnectedAt: r.status().disconnectedAt, relists: 0, watchRestarts: 0 })
  r.start()
  await waitFor(() => r.status().synced && api.watchCount('secrets') === 1, 5000, 'synced and watching')
  t.same(names(s), ['team-a/s0', 'team-a/s1', 'team-a/s2', 'team-a/s3', 'team-a/s4'])
  const lists = api.requests.filter((q) => q.path === '/api/v1/secrets' && q.query.watch === undefined)
  t.same(lists.map((q) => q.query.limit), ['2', '2', '2'], 'three pages of 2')
  t.equal(lists[0]?.query.resourceVersion, undefined, 'a consistent read, not the watch cache\'s "0"')
  const watch = api.requests.find((q) => q.query.watch === 'true')
  t.match(watch?.query, { allowWatchBookmarks: 'true', timeoutSeconds: '300', resourceVersion: /^\d+$/ })
  t.match(r.status(), { synced: true, connected: true, relists: 0, watchRestarts: 0 })
})

t.test('watch events: added, modified, deleted; a summary of undefined removes', async (t) => {
  const { api, s, r } = await setup(t, 1)
  r.start()
  await waitFor(() => api.watchCount('secrets') === 1, 5000, 'watching')
  api.create('secrets', pullSecret('team-b', 'new', ['quay.io']), 'team-b')
  await waitFor(() => s.items.has('team-b/new'), 5000, 'ADDED')
  api.remove('secrets', 's0', 'team-a')
  await waitFor(() => !s.items.has('team-a/s0'), 5000, 'DELETED')
  api.create('secrets', pullSecret('team-b', 'turns-opaque', ['quay.io']), 'team-b')
  await waitFor(() => s.items.has('team-b/turns-opaque'), 5000, 'ADDED')
  // type is immutable in the API; delete and re-create as Opaque under the same name.
  api.remove('secrets', 'turns-opaque', 'team-b')
  api.create('secrets', { metadata: { namespace: 'team-b', name: 'turns-opaque' }, type: 'Opaque', data: {} }, 'team-b')
  await waitFor(() => api.watchCount('secrets') === 1 && !s.items.has('team-b/turns-opaque'), 5000, 'gone')
  t.same(names(s), ['team-b/new'])
})

t.test('a watch the server ends is resumed from where it was, without a relist', async (t) => {
  const { api, s, r } = await setup(t, 1)
  r.start()
  await waitFor(() => api.watchCount('secrets') === 1, 5000, 'watching')
  api.create('secrets', pullSecret('team-a', 'x', ['ghcr.io']), 'team-a') // an event first: an empty watch that ends at once counts as a failure
  await waitFor(() => s.items.has('team-a/x'), 5000, 'the event')
  api.endWatches()
  await waitFor(() => r.status().watchRestarts === 1 && api.watchCount('secrets') === 1, 5000, 'a new watch')
  const watches = api.requests.filter((q) => q.query.watch === 'true')
  t.not(watches[1]?.query.resourceVersion, watches[0]?.query.resourceVersion, 'resumed at the event\'s resourceVersion')
  t.equal(r.status().relists, 0)
  t.equal(api.requests.filter((q) => q.query.watch === undefined).length, 1, 'one list only')
})

t.test('410 Expired: relist, and what the list no longer names is removed', async (t) => {
  const { api, s, r, logs } = await setup(t, 3)
  r.start()
  await waitFor(() => api.watchCount('secrets') === 1, 5000, 'watching')
  // An outage during which s1 was deleted and the history compacted away.
  await api.stop()
  api.remove('secrets', 's1', 'team-a')
  api.create('secrets', pullSecret('team-a', 'later', ['ghcr.io']), 'team-a')
  await api.restart()
  await waitFor(() => r.status().relists === 1 && r.status().connected, 10_000, 'relisted')
  t.same(names(s), ['team-a/later', 'team-a/s0', 'team-a/s2'])
  t.ok(logs.records().some((l) => l.msg === 'informer resourceVersion expired; relisting'))
  t.notMatch(logs.text(), FAKE_PASSWORD, 'no credential in any log line')
})

t.test('an outage: status says disconnected since when, and the loop carries on', async (t) => {
  const { api, r, logs } = await setup(t, 1)
  r.start()
  await waitFor(() => r.status().connected, 5000, 'connected')
  const before = Date.now()
  await api.stop()
  await waitFor(() => !r.status().connected, 5000, 'disconnected')
  t.ok(r.status().disconnectedAt >= before)
  t.ok(r.status().synced, 'still synced: the view is kept')
  await api.restart({ keepHistory: true })
  await waitFor(() => r.status().connected, 10_000, 'reconnected')
  t.equal(r.status().relists, 0, 'the history was kept: no relist needed')
  t.ok(logs.records().some((l) => l.msg === 'informer lost the API server; retrying'))
})

t.test('stop() ends the loop at once, also while it waits ten minutes to retry', async (t) => {
  const { api, r, logs } = await setup(t, 1, 2, { initialMs: 600_000, maxMs: 600_000 })
  await api.stop()
  r.start()
  await waitFor(() => logs.records().some((l) => l.msg === 'informer lost the API server; retrying'), 5000, 'a failed list')
  await r.stop() // tap's timeout fails this test if stop() waits for the backoff
  t.notOk(r.status().synced)
})
