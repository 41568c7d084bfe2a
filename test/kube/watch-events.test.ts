/**
 * Reading a watch (src/kube/watch-events.ts): newline-delimited JSON events
 * over a chunked body, from the API server double's real watch and from a
 * server that writes the bytes in awkward pieces (a line split across
 * reads, several in one, a line that is not JSON).
 */
import { createServer, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import t, { type Test } from 'tap'
import { KubeConfig } from '@kubernetes/client-node'
import { openGet, type RawObject } from '../../src/kube/api-get.js'
import { readWatch, type WatchEventType } from '../../src/kube/watch-events.js'
import { ApiServerDouble } from '../helpers/api-server-double.js'
import { FAKE_PASSWORD, namespaceObject } from '../helpers/cluster.js'
import { waitFor } from '../helpers/wait.js'

type Seen = Array<[WatchEventType, string | undefined]>
const collect = (seen: Seen) => (type: WatchEventType, obj: RawObject): void => { seen.push([type, obj.metadata?.name]) }

async function double (t: Test): Promise<ApiServerDouble> {
  const api = new ApiServerDouble()
  await api.start()
  t.teardown(async () => { await api.stop() })
  return api
}

/** A server that writes `pieces` one socket write at a time, then ends (or not). */
async function writer (t: Test, pieces: Array<string | Buffer>, end = true): Promise<KubeConfig> {
  const server = createServer((_req, res: ServerResponse) => {
    res.writeHead(200, { 'content-type': 'application/json' })
    let i = 0
    const next = (): void => {
      if (i < pieces.length) { res.write(pieces[i++]); setImmediate(next) } else if (end) res.end()
    }
    next()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()) }))
  const kc = new KubeConfig()
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, skipTLSVerify: true }],
    users: [{ name: 'u' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  })
  return kc
}

const watch = async (kc: KubeConfig, query: Record<string, string | boolean>, each: (type: WatchEventType, obj: RawObject) => void): Promise<void> =>
  await readWatch(await openGet(kc, '/api/v1/namespaces', { watch: true, ...query }, new AbortController().signal), '/api/v1/namespaces', each)

t.test('events of a real watch in order, bookmarks included; a clean end resolves', async (t) => {
  const api = await double(t)
  const rv = api.create('namespaces', namespaceObject('a')).metadata.resourceVersion as string
  const seen: Seen = []
  const done = watch(api.kubeConfig(), { resourceVersion: rv, allowWatchBookmarks: true }, collect(seen))
  await waitFor(() => api.watchCount('namespaces') === 1, 5000, 'the watch to open')
  api.create('namespaces', namespaceObject('b'))
  api.patch('namespaces', 'b', { metadata: { labels: { x: 'y' } } })
  api.remove('namespaces', 'b')
  api.bookmark()
  await waitFor(() => seen.some(([type]) => type === 'BOOKMARK'), 5000, 'the bookmark')
  api.endWatches()
  await done
  t.same(seen, [['ADDED', 'b'], ['MODIFIED', 'b'], ['MODIFIED', 'b'], ['DELETED', 'b'], ['BOOKMARK', undefined]], 'a Namespace turns Terminating, then goes')
  t.equal(seen.at(-1)?.[0], 'BOOKMARK')
})

t.test('an ERROR event rejects with its Status: 410 Expired for a compacted resourceVersion', async (t) => {
  const api = await double(t)
  const rv = api.create('namespaces', namespaceObject('a')).metadata.resourceVersion as string
  api.create('namespaces', namespaceObject('b'))
  api.compact()
  const err = await watch(api.kubeConfig(), { resourceVersion: rv }, () => {}).catch((e: unknown) => e)
  t.match(err, { name: 'ApiGetError', status: 410, reason: 'Expired', message: /too old resource version/ })
})

t.test('a dropped connection rejects (the socket\'s error, or: closed mid-stream), never resolves as a clean end', async (t) => {
  const api = await double(t)
  const rv = api.create('namespaces', namespaceObject('a')).metadata.resourceVersion as string
  const done = watch(api.kubeConfig(), { resourceVersion: rv }, () => {})
  await waitFor(() => api.watchCount('namespaces') === 1, 5000, 'the watch to open')
  api.dropWatches()
  const err = await done.then(() => 'resolved', (e: unknown) => e)
  t.type(err, Error)
})

const event = (type: string, name: string): string => JSON.stringify({ type, object: { metadata: { name } } }) + '\n'

t.test('lines split across reads, several in one read, empty lines: every event once', async (t) => {
  const a = event('ADDED', 'a')
  const b = event('MODIFIED', 'b')
  const c = event('DELETED', 'ü-c') // a multi-byte character split between reads
  const bytes = Buffer.from(c)
  const cut = bytes.indexOf(0xbc) // the second byte of 'ü'
  const kc = await writer(t, [a.slice(0, 5), a.slice(5) + b + '\n', bytes.subarray(0, cut), bytes.subarray(cut)])
  const seen: Seen = []
  await watch(kc, {}, collect(seen))
  t.same(seen, [['ADDED', 'a'], ['MODIFIED', 'b'], ['DELETED', 'ü-c']])
})

t.test('events of other types and events without an object are skipped', async (t) => {
  const kc = await writer(t, [
    JSON.stringify({ type: 'ADDED' }) + '\n',
    JSON.stringify({ type: 'SOMETHING', object: {} }) + '\n',
    JSON.stringify({ type: 'ADDED', object: null }) + '\n',
    event('ADDED', 'kept'),
  ])
  const seen: Seen = []
  await watch(kc, {}, collect(seen))
  t.same(seen, [['ADDED', 'kept']])
})

t.test('a line that is not JSON rejects without quoting it', async (t) => {
  const kc = await writer(t, [event('ADDED', 'a'), `{"type":"ADDED","object":{"data":{"password":"${FAKE_PASSWORD}"}}` + 'oops\n', event('ADDED', 'never')], false)
  const seen: Seen = []
  const err = await watch(kc, {}, collect(seen)).catch((e: unknown) => e)
  t.match(err, { name: 'ApiGetError', message: 'a watch event of /api/v1/namespaces is not JSON' })
  t.notMatch(String((err as Error).message), FAKE_PASSWORD)
  t.same(seen, [['ADDED', 'a']], 'nothing after the bad line')
})
