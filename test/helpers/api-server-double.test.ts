/**
 * Proves the API server double faithful by driving it with the real client:
 * client-node's ListWatch + CoreV1Api / AdmissionregistrationV1Api, and raw
 * HTTP for the wire format.
 */
import { once } from 'node:events'
import http, { type IncomingMessage } from 'node:http'
import net from 'node:net'
import t, { type Test } from 'tap'
import {
  AdmissionregistrationV1Api, ApiException, CoordinationV1Api, CoreV1Api, ListWatch, PatchStrategy, V1MicroTime, Watch, setHeaderOptions,
  type V1Secret,
} from '@kubernetes/client-node'
import { ApiServerDouble, type ApiServerDoubleOptions, type KObject, type StatusError } from './api-server-double.js'
import { quietFor, waitFor } from './wait.js'

type Json = any
const PULL = 'kubernetes.io/dockerconfigjson'
const PULL_SELECTOR = `type=${PULL}`

async function started (t: Test, options: ApiServerDoubleOptions = {}): Promise<ApiServerDouble> {
  const double = new ApiServerDouble(options)
  await double.start()
  t.teardown(async () => { await double.stop() })
  double.create('namespaces', { metadata: { name: 'team-a' } })
  return double
}

function pullSecret (name: string, extra: Partial<KObject> = {}): KObject {
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: 'team-a' }, type: PULL, data: { '.dockerconfigjson': 'e30=' }, ...extra }
}

/**
 * A ListWatch as pullguard builds one (client-node's makeInformer cannot pass a
 * field selector to the watch), recording what it reports. With restartOnError
 * it restarts itself on 'error' like pullguard's informers, without a relist.
 */
function secretInformer (t: Test, double: ApiServerDouble, opts: { fieldSelector?: string, labelSelector?: string, restartOnError?: boolean } = {}) {
  const kc = double.kubeConfig()
  const core = kc.makeApiClient(CoreV1Api)
  const { fieldSelector, labelSelector } = opts
  const informer = new ListWatch<V1Secret>('/api/v1/secrets', new Watch(kc),
    async () => await core.listSecretForAllNamespaces({ fieldSelector, labelSelector }), false, labelSelector, fieldSelector)
  const events: string[] = []
  const errors: unknown[] = []
  for (const verb of ['add', 'update', 'delete'] as const) {
    informer.on(verb, (o) => events.push(`${verb} ${o.metadata?.name ?? ''}@${o.metadata?.resourceVersion ?? ''}`))
  }
  let stopping = false
  informer.on('error', (err) => {
    if (stopping) return // stop() aborts the watch, which client-node reports as an error
    errors.push(err)
    if (opts.restartOnError === true) setTimeout(() => { if (!stopping) void informer.start().catch(() => {}) }, 10)
  })
  t.teardown(async () => { stopping = true; await informer.stop() })
  const names = (): string[] => informer.list().map((o) => `${o.metadata?.name ?? ''}@${o.metadata?.resourceVersion ?? ''}`).sort()
  return { informer, events, errors, names }
}

const requests = (double: ApiServerDouble, verb: string): Json[] => double.requests.filter((r) => r.verb === verb && r.resource === 'secrets')

async function apiError (promise: Promise<unknown>): Promise<{ code: number, status: Json }> {
  try {
    await promise
  } catch (err) {
    if (!(err instanceof ApiException)) throw err
    return { code: err.code, status: typeof err.body === 'string' ? JSON.parse(err.body) : err.body }
  }
  throw new Error('expected the request to fail')
}

/** A raw HTTP watch: its response and the NDJSON events as they arrive. */
async function rawWatch (double: ApiServerDouble, path: string) {
  const req = http.get(double.url + path, { headers: { authorization: 'Bearer double-token' } })
  const [res] = await once(req, 'response') as [IncomingMessage]
  const events: Json[] = []
  let buffered = ''
  res.setEncoding('utf8')
  res.on('data', (chunk: string) => {
    buffered += chunk
    for (let i = buffered.indexOf('\n'); i >= 0; i = buffered.indexOf('\n')) {
      events.push(JSON.parse(buffered.slice(0, i)))
      buffered = buffered.slice(i + 1)
    }
  })
  res.on('error', () => {}) // close() aborts it
  const ended = new Promise<void>((resolve) => { res.on('end', resolve); res.on('close', resolve) })
  return { res, events, ended, close: () => req.destroy() }
}

t.test('the initial list fills the cache, filtered by the field selector, and the watch starts at the list RV', async (t) => {
  const double = await started(t)
  double.create('secrets', pullSecret('one'))
  double.create('secrets', pullSecret('two'))
  double.create('secrets', { metadata: { name: 'opaque', namespace: 'team-a' }, data: { k: 'dg==' } })
  const { informer, names } = secretInformer(t, double, { fieldSelector: PULL_SELECTOR })
  await informer.start()
  t.same(names(), ['one@3', 'two@4'])
  const [list] = requests(double, 'list')
  const [watch] = requests(double, 'watch')
  t.equal(list.query.fieldSelector, PULL_SELECTOR)
  t.same(watch.query, { watch: 'true', resourceVersion: '5', fieldSelector: PULL_SELECTOR }, 'watches from the list RV, with the selector')
  t.equal(double.watchCount('secrets'), 1)
})

t.test('add, modify and delete arrive; an opaque secret never shows up', async (t) => {
  const double = await started(t)
  const { informer, events, names } = secretInformer(t, double, { fieldSelector: PULL_SELECTOR })
  await informer.start()
  const core = double.kubeConfig().makeApiClient(CoreV1Api)
  const created = await core.createNamespacedSecret({ namespace: 'team-a', body: pullSecret('pull') as V1Secret })
  t.equal(created.metadata?.resourceVersion, '3')
  double.create('secrets', { metadata: { name: 'opaque', namespace: 'team-a' } })
  await core.replaceNamespacedSecret({ name: 'pull', namespace: 'team-a', body: { ...created, data: { '.dockerconfigjson': 'e306' } } })
  await core.deleteNamespacedSecret({ name: 'pull', namespace: 'team-a' })
  double.create('secrets', pullSecret('sentinel'))
  await waitFor(() => events.length === 4, 2000, 'four events')
  t.same(events, ['add pull@3', 'update pull@5', 'delete pull@6', 'add sentinel@7'], 'the opaque secret (RV 4) was filtered out')
  t.same(names(), ['sentinel@7'])
})

t.test('a Secret type is immutable (422); deleting and recreating it with another type arrives as DELETED', async (t) => {
  const double = await started(t)
  double.create('secrets', pullSecret('pull'))
  const { informer, events } = secretInformer(t, double, { fieldSelector: PULL_SELECTOR })
  await informer.start()
  const core = double.kubeConfig().makeApiClient(CoreV1Api)
  const current = await core.readNamespacedSecret({ name: 'pull', namespace: 'team-a' })
  const { code, status } = await apiError(core.replaceNamespacedSecret({ name: 'pull', namespace: 'team-a', body: { ...current, type: 'Opaque' } }))
  t.equal(code, 422)
  t.match(status, {
    kind: 'Status',
    status: 'Failure',
    reason: 'Invalid',
    code: 422,
    message: 'Secret "pull" is invalid: type: Invalid value: "Opaque": field is immutable',
    details: { name: 'pull', kind: 'Secret', causes: [{ reason: 'FieldValueInvalid', field: 'type' }] },
  })
  const omitted = await apiError(core.replaceNamespacedSecret({ name: 'pull', namespace: 'team-a', body: { ...current, type: undefined } }))
  t.equal(omitted.code, 422, 'an omitted type defaults to Opaque, which is a change too')
  double.remove('secrets', 'pull', 'team-a')
  double.create('secrets', { metadata: { name: 'pull', namespace: 'team-a' }, type: 'Opaque' })
  double.create('secrets', pullSecret('sentinel'))
  await waitFor(() => events.length === 3, 2000, 'three events')
  t.same(events, ['add pull@3', 'delete pull@4', 'add sentinel@6'])
})

t.test('an object that stops matching the selector arrives as DELETED, one that starts matching as ADDED', async (t) => {
  const double = await started(t)
  const labelled = (value: string): KObject => pullSecret('pull', { metadata: { name: 'pull', namespace: 'team-a', labels: { 'pullguard.io/pull': value } } })
  double.create('secrets', labelled('yes'))
  const { informer, events } = secretInformer(t, double, { labelSelector: 'pullguard.io/pull in (yes,true)' })
  await informer.start()
  const raw = await rawWatch(double, '/api/v1/namespaces/team-a/secrets?watch=1&resourceVersion=3&labelSelector=pullguard.io%2Fpull%3Dyes')
  double.update('secrets', labelled('no'))
  double.update('secrets', labelled('true'))
  double.update('secrets', labelled('yes'))
  await waitFor(() => events.length === 4 && raw.events.length === 2, 2000, 'the transitions')
  t.same(events, ['add pull@3', 'delete pull@4', 'add pull@5', 'update pull@6'])
  t.same(raw.events.map((e: Json) => [e.type, e.object.metadata.resourceVersion, e.object.metadata.labels['pullguard.io/pull']]),
    [['DELETED', '4', 'yes'], ['ADDED', '6', 'yes']],
    'DELETED carries the old content with the event RV')
  raw.close()
})

t.test('after dropWatches() the informer re-watches from its last RV without a relist and misses nothing', async (t) => {
  const double = await started(t)
  double.create('secrets', pullSecret('kept'))
  double.create('secrets', pullSecret('gone'))
  const { informer, errors, names } = secretInformer(t, double, { fieldSelector: PULL_SELECTOR, restartOnError: true })
  await informer.start()
  double.create('secrets', { metadata: { name: 'opaque', namespace: 'team-a' } })
  const last = informer.latestResourceVersion()
  t.equal(last, '4')
  t.equal(double.dropWatches(), 1)
  double.remove('secrets', 'gone', 'team-a')
  double.update('secrets', pullSecret('kept', { data: { '.dockerconfigjson': 'e306' } }))
  double.create('secrets', pullSecret('new'))
  await waitFor(() => names().join() === 'kept@7,new@8', 2000, 'the cache to catch up')
  t.ok(errors.length >= 1, 'client-node reports the mid-stream drop as an error')
  t.equal(requests(double, 'list').length, 1, 'no relist')
  t.equal(requests(double, 'watch')[1].query.resourceVersion, last, 're-watched from the last RV it had')
})

t.test('endWatches() ends the stream cleanly (as a watch timeout does): client-node re-watches by itself', async (t) => {
  const double = await started(t)
  const { informer, errors, names } = secretInformer(t, double, { fieldSelector: PULL_SELECTOR })
  await informer.start()
  t.equal(double.endWatches(), 1)
  double.create('secrets', pullSecret('after'))
  await waitFor(() => names().join() === 'after@3', 2000, 'the event after the re-watch')
  t.same(errors, [])
  t.same(requests(double, 'watch').map((r) => r.query.resourceVersion), ['2', '2'])
  t.equal(requests(double, 'list').length, 1)
})

for (const mode of ['event', 'http'] as const) {
  t.test(`after compact() and a drop, the 410 (${mode}) makes the informer relist; deletions meanwhile are seen`, async (t) => {
    const double = await started(t, { expiredWatch: mode })
    double.create('secrets', pullSecret('a'))
    double.create('secrets', pullSecret('b'))
    const { informer, events, names } = secretInformer(t, double, { fieldSelector: PULL_SELECTOR, restartOnError: true })
    await informer.start()
    double.dropWatches()
    double.remove('secrets', 'a', 'team-a')
    double.update('secrets', pullSecret('b', { data: {} }))
    double.create('secrets', pullSecret('c'))
    double.compact()
    await waitFor(() => requests(double, 'watch').length === 3 && names().join() === 'b@6,c@7', 2000, 'the relist and the watch after it')
    const watches = requests(double, 'watch')
    t.equal(requests(double, 'list').length, 2, 'relisted once')
    t.equal(watches[1].query.resourceVersion, '4')
    t.equal(watches[1].status, mode === 'event' ? 200 : 410)
    t.equal(watches[2].query.resourceVersion, '7', 'then watches from the new list RV')
    t.same(events.slice(2).sort(), ['add c@7', 'delete a@3', 'update b@6'], 'the relist reports the deletion (of what it had cached)')
  })
}

t.test('after stop() the informer reports errors; after restart() it catches up (relisting, as the watch cache is new)', async (t) => {
  const double = await started(t)
  double.create('secrets', pullSecret('a'))
  const { informer, errors, names } = secretInformer(t, double, { fieldSelector: PULL_SELECTOR, restartOnError: true })
  await informer.start()
  const { url } = await double.start()
  await double.stop()
  await waitFor(() => errors.length >= 2, 2000, 'errors while the server is down')
  t.match(String(errors.at(-1)), /ECONNREFUSED/, 'the server is really gone')
  double.remove('secrets', 'a', 'team-a')
  double.create('secrets', pullSecret('b'))
  t.same((await double.restart()).url, url, 'same port')
  await waitFor(() => names().join() === 'b@5', 3000, 'the cache to catch up')
  t.equal(requests(double, 'list').length, 2, 'the old RV expired with the restart, so it relisted')
})

t.test('restart({ keepHistory: true }) lets the informer resume from its RV without a relist', async (t) => {
  const double = await started(t)
  const { informer, names } = secretInformer(t, double, { fieldSelector: PULL_SELECTOR, restartOnError: true })
  await informer.start()
  await double.stop()
  double.create('secrets', pullSecret('b'))
  await double.restart({ keepHistory: true })
  await waitFor(() => names().join() === 'b@3', 3000, 'the event missed during the outage')
  t.equal(requests(double, 'list').length, 1)
})

t.test('wire format: chunked NDJSON, kinds on events but not on list items, BOOKMARK, clean end', async (t) => {
  const double = await started(t)
  double.create('secrets', pullSecret('a'))
  const list = await (await fetch(`${double.url}/api/v1/namespaces/team-a/secrets`, { headers: { authorization: 'Bearer double-token' } })).json() as Json
  t.same(Object.keys(list), ['kind', 'apiVersion', 'metadata', 'items'])
  t.same([list.kind, list.apiVersion, list.metadata], ['SecretList', 'v1', { resourceVersion: '3' }])
  t.notOk('kind' in list.items[0] || 'apiVersion' in list.items[0], 'list items are kind-less, as the real server sends them')

  const socket = net.connect(Number(new URL(double.url).port), '127.0.0.1')
  let raw = ''
  socket.setEncoding('utf8').on('data', (d: string) => { raw += d })
  socket.write('GET /api/v1/secrets?watch=true&resourceVersion=3&allowWatchBookmarks=true HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer double-token\r\n\r\n')
  await waitFor(() => raw.includes('\r\n\r\n'), 2000, 'the headers, before any event')
  t.match(raw, /^HTTP\/1\.1 200 OK\r\n/)
  t.match(raw, /\r\nContent-Type: application\/json\r\n/i)
  t.match(raw, /\r\nTransfer-Encoding: chunked\r\n/i)
  double.create('secrets', pullSecret('b'))
  // Writes in one tick may share a chunk (Node 22+ coalesces them); the API
  // server flushes each event as it happens, so let the first one go out.
  await waitFor(() => raw.includes('"ADDED"'), 2000, 'the ADDED event')
  t.equal(double.bookmark(), 1)
  await waitFor(() => raw.includes('"BOOKMARK"'), 2000, 'the BOOKMARK event')
  double.endWatches()
  await waitFor(() => raw.endsWith('\r\n0\r\n\r\n'), 2000, 'the terminating chunk')
  const body = raw.slice(raw.indexOf('\r\n\r\n') + 4)
  const chunks: string[] = []
  for (let rest = body; ;) {
    const size = parseInt(rest.slice(0, rest.indexOf('\r\n')), 16)
    if (size === 0) break
    const start = rest.indexOf('\r\n') + 2
    chunks.push(rest.slice(start, start + size))
    rest = rest.slice(start + size + 2)
  }
  t.equal(chunks.length, 2, 'one chunk per event')
  t.ok(chunks.every((c) => c.endsWith('}\n')), 'each a JSON line')
  const [added, bookmark] = chunks.map((c) => JSON.parse(c))
  t.match(added, { type: 'ADDED', object: { kind: 'Secret', apiVersion: 'v1', metadata: { name: 'b', resourceVersion: '4' } } })
  t.same(bookmark, { type: 'BOOKMARK', object: { kind: 'Secret', apiVersion: 'v1', metadata: { resourceVersion: '4' } } })
  socket.destroy()
})

t.test('wire format: a compacted RV gets a 200 stream with one ERROR Status 410 event, or HTTP 410', async (t) => {
  const double = await started(t)
  double.create('secrets', pullSecret('a'))
  double.compact()
  const expired = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'too old resource version: 2 (3)', reason: 'Expired', code: 410 }
  const watch = await rawWatch(double, '/api/v1/secrets?watch=true&resourceVersion=2')
  await watch.ended
  t.equal(watch.res.statusCode, 200)
  t.same(watch.events, [{ type: 'ERROR', object: expired }])
  t.equal(double.watchCount(), 0)
  double.expiredWatch = 'http'
  const res = await fetch(`${double.url}/api/v1/secrets?watch=true&resourceVersion=2`, { headers: { authorization: 'Bearer double-token' } })
  t.equal(res.status, 410)
  t.same(await res.json(), expired)
  const fresh = await rawWatch(double, '/api/v1/secrets?watch=true&resourceVersion=3')
  await waitFor(() => double.watchCount() === 1, 2000, 'a watch from the compaction point')
  fresh.close()
})

t.test('wire format: a watch without RV starts with the current state; bookmarks only when allowed; timeoutSeconds ends it', async (t) => {
  const double = await started(t, { bookmarkIntervalMs: 20 })
  double.create('secrets', pullSecret('b'))
  double.create('secrets', pullSecret('a'))
  const plain = await rawWatch(double, '/api/v1/namespaces/team-a/secrets?watch=true&timeoutSeconds=1')
  const withBookmarks = await rawWatch(double, '/api/v1/secrets?watch=true&allowWatchBookmarks=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan')
  await waitFor(() => withBookmarks.events.length >= 4, 2000, 'a periodic bookmark')
  t.same(withBookmarks.events.slice(0, 3).map((e: Json) => [e.type, e.object.metadata.name ?? e.object.metadata.annotations]),
    [['ADDED', 'a'], ['ADDED', 'b'], ['BOOKMARK', { 'k8s.io/initial-events-end': 'true' }]])
  t.equal(withBookmarks.events[3].type, 'BOOKMARK')
  await plain.ended
  t.same(plain.events.map((e: Json) => e.type), ['ADDED', 'ADDED'], 'no bookmarks unless allowed; ended by its timeout')
  withBookmarks.close()
})

t.test('a watch from a future RV gets "Too large resource version" after the 3 s wait', async (t) => {
  const double = await started(t)
  const watch = await rawWatch(double, '/api/v1/secrets?watch=true&resourceVersion=99')
  await watch.ended
  t.match(watch.events, [{ type: 'ERROR', object: { reason: 'Timeout', code: 504, message: 'Timeout: Too large resource version: 99, current: 2', details: { causes: [{ reason: 'ResourceVersionTooLarge' }] } } }])
})

t.test('writes over HTTP: 201, 409 AlreadyExists, 409 Conflict, no-op update, 404, 405, 500 on create with RV, delete Status', async (t) => {
  const double = await started(t)
  const core = double.kubeConfig().makeApiClient(CoreV1Api)
  const created = await core.createNamespacedSecret({ namespace: 'team-a', body: { metadata: { name: 's' }, stringData: { token: 'abc' } } })
  t.match(created, { kind: 'Secret', apiVersion: 'v1', type: 'Opaque', data: { token: 'YWJj' }, metadata: { namespace: 'team-a', resourceVersion: '3' } })
  t.notOk('stringData' in created)
  t.match(created.metadata?.uid, /^[0-9a-f-]{36}$/)
  t.equal(double.requests.at(-1)?.status, 201)
  t.match(await apiError(core.createNamespacedSecret({ namespace: 'team-a', body: { metadata: { name: 's' } } })), {
    code: 409, status: { reason: 'AlreadyExists', message: 'secrets "s" already exists', details: { name: 's', kind: 'secrets' } },
  })
  const updated = await core.replaceNamespacedSecret({ name: 's', namespace: 'team-a', body: { ...created, data: { token: 'eHl6' } } })
  t.equal(updated.metadata?.resourceVersion, '4')
  t.match(await apiError(core.replaceNamespacedSecret({ name: 's', namespace: 'team-a', body: { ...created, data: { token: 'c3RhbGU=' } } })), {
    code: 409,
    status: { reason: 'Conflict', message: 'Operation cannot be fulfilled on secrets "s": the object has been modified; please apply your changes to the latest version and try again' },
  })
  const noop = await core.replaceNamespacedSecret({ name: 's', namespace: 'team-a', body: updated })
  t.equal(noop.metadata?.resourceVersion, '4', 'a no-op update writes nothing')
  t.equal(double.resourceVersion, '4')
  t.match(await apiError(core.readNamespacedSecret({ name: 'nope', namespace: 'team-a' })), {
    code: 404, status: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason: 'NotFound', message: 'secrets "nope" not found', code: 404 },
  })
  t.match(await apiError(core.createNamespacedSecret({ namespace: 'team-a', body: { metadata: { name: 'x', resourceVersion: '4' } } })), {
    code: 500, status: { reason: 'InternalError', message: 'Internal error occurred: resourceVersion should not be set on objects to be created' },
  })
  const post = await fetch(`${double.url}/api/v1/secrets`, { method: 'POST', headers: { authorization: 'Bearer double-token' }, body: '{}' })
  t.match([post.status, await post.json()], [405, { reason: 'MethodNotAllowed' }])
  const deleted = await core.deleteNamespacedSecret({ name: 's', namespace: 'team-a' })
  t.match(deleted, { kind: 'Status', status: 'Success', details: { name: 's', kind: 'secrets', uid: created.metadata?.uid } })
  t.same(double.list('secrets'), [])
})

t.test('webhook configurations: defaults, merge and JSON patch with optimistic concurrency, generation', async (t) => {
  const double = await started(t)
  const admission = double.kubeConfig().makeApiClient(AdmissionregistrationV1Api)
  const created = await admission.createMutatingWebhookConfiguration({
    body: {
      metadata: { name: 'pullguard' },
      webhooks: [{ name: 'pullguard.example.com', sideEffects: 'None', admissionReviewVersions: ['v1'], clientConfig: { service: { name: 'pullguard', namespace: 'pullguard' } }, rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] }] }],
    },
  })
  t.match(created, { metadata: { generation: 1 }, webhooks: [{ failurePolicy: 'Fail', matchPolicy: 'Equivalent', timeoutSeconds: 10, reinvocationPolicy: 'Never', namespaceSelector: {}, clientConfig: { service: { port: 443 } }, rules: [{ scope: '*' }] }] })
  const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch)
  const caBundle = Buffer.from('ca').toString('base64')
  const hooks = [{ ...created.webhooks?.[0], clientConfig: { ...created.webhooks?.[0]?.clientConfig, caBundle } }]
  const patched = await admission.patchMutatingWebhookConfiguration({ name: 'pullguard', body: { metadata: { resourceVersion: created.metadata?.resourceVersion }, webhooks: hooks } }, merge)
  t.match(patched, { metadata: { generation: 2, resourceVersion: '4' }, webhooks: [{ clientConfig: { caBundle } }] })
  t.match(await apiError(admission.patchMutatingWebhookConfiguration({ name: 'pullguard', body: { metadata: { resourceVersion: '3' }, webhooks: [] } }, merge)), { code: 409, status: { reason: 'Conflict' } })
  const jsonPatch = [{ op: 'test', path: '/metadata/resourceVersion', value: '4' }, { op: 'replace', path: '/webhooks/0/timeoutSeconds', value: 5 }]
  t.match(await admission.patchMutatingWebhookConfiguration({ name: 'pullguard', body: jsonPatch }), { metadata: { generation: 3 }, webhooks: [{ timeoutSeconds: 5 }] })
  t.match(await apiError(admission.patchMutatingWebhookConfiguration({ name: 'pullguard', body: jsonPatch })), { code: 422, status: { reason: 'Invalid' } })
  const strategic = await fetch(`${double.url}/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/pullguard`, {
    method: 'PATCH', headers: { authorization: 'Bearer double-token', 'content-type': 'application/strategic-merge-patch+json' }, body: '{}',
  })
  t.equal(strategic.status, 415)
  t.match(await apiError(admission.readValidatingWebhookConfiguration({ name: 'pullguard' })), { code: 404, status: { message: 'validatingwebhookconfigurations.admissionregistration.k8s.io "pullguard" not found' } })
})

t.test('ConfigMaps: optimistic concurrency, config keys, the 1 MiB limit, immutability, RBAC', async (t) => {
  const double = await started(t)
  const core = double.kubeConfig().makeApiClient(CoreV1Api)
  const created = await core.createNamespacedConfigMap({ namespace: 'team-a', body: { metadata: { name: 'cm' }, data: { private: '^x', public: '' } } })
  t.match(created, { kind: 'ConfigMap', apiVersion: 'v1', data: { private: '^x', public: '' }, metadata: { namespace: 'team-a', resourceVersion: '3' } })
  t.match(await apiError(core.createNamespacedConfigMap({ namespace: 'team-a', body: { metadata: { name: 'cm' } } })), { code: 409, status: { reason: 'AlreadyExists', message: 'configmaps "cm" already exists' } })
  const updated = await core.replaceNamespacedConfigMap({ name: 'cm', namespace: 'team-a', body: { ...created, data: { private: '^y' } } })
  t.equal(updated.metadata?.resourceVersion, '4')
  t.match(await apiError(core.replaceNamespacedConfigMap({ name: 'cm', namespace: 'team-a', body: { ...created, data: {} } })), { code: 409, status: { reason: 'Conflict' } })
  t.match(await apiError(core.createNamespacedConfigMap({ namespace: 'team-a', body: { metadata: { name: 'bad' }, data: { 'a/b': 'x' } } })), {
    code: 422, status: { reason: 'Invalid', details: { causes: [{ field: 'data[a/b]', reason: 'FieldValueInvalid' }] } },
  })
  t.match(await apiError(core.createNamespacedConfigMap({ namespace: 'team-a', body: { metadata: { name: 'big' }, data: { a: 'x'.repeat(600_000), b: 'y'.repeat(600_000) } } })), {
    // field.TooLong on the root path (the wording differs a little between releases).
    code: 422, status: { reason: 'Invalid', message: /^ConfigMap "big" is invalid: .*Too long: must have at most 1048576 bytes$/ },
  })
  const frozen = await core.createNamespacedConfigMap({ namespace: 'team-a', body: { metadata: { name: 'frozen' }, immutable: true, data: { a: '1' } } })
  t.match(await apiError(core.replaceNamespacedConfigMap({ name: 'frozen', namespace: 'team-a', body: { ...frozen, data: { a: '2' } } })), { code: 422, status: { details: { causes: [{ field: 'data' }] } } })
  double.deny('configmaps', 'update')
  t.match(await apiError(core.replaceNamespacedConfigMap({ name: 'cm', namespace: 'team-a', body: updated })), {
    code: 403, status: { message: 'configmaps "cm" is forbidden: User "system:serviceaccount:pullguard:pullguard" cannot update resource "configmaps" in API group "" in the namespace "team-a"' },
  })
})

t.test('Leases: MicroTime decoded with exactly six fraction digits, written back in UTC; validation; RBAC wording', async (t) => {
  const double = await started(t)
  const coordination = double.kubeConfig().makeApiClient(CoordinationV1Api)
  const at = new V1MicroTime(Date.UTC(2030, 0, 2, 3, 4, 5, 678))
  const created = await coordination.createNamespacedLease({
    namespace: 'team-a',
    body: { metadata: { name: 'l' }, spec: { holderIdentity: 'a', leaseDurationSeconds: 15, acquireTime: at, renewTime: at, leaseTransitions: 0 } },
  })
  t.match(created, { kind: 'Lease', apiVersion: 'coordination.k8s.io/v1', spec: { holderIdentity: 'a', renewTime: '2030-01-02T03:04:05.678000Z' } })
  const raw = async (renewTime: string, name = 'l2'): Promise<{ status: number, body: Json }> => {
    const res = await fetch(`${double.url}/apis/coordination.k8s.io/v1/namespaces/team-a/leases`, {
      method: 'POST',
      headers: { authorization: 'Bearer double-token', 'content-type': 'application/json' },
      body: JSON.stringify({ metadata: { name }, spec: { holderIdentity: 'b', renewTime } }),
    })
    return { status: res.status, body: await res.json() }
  }
  t.match(await raw('2030-01-02T03:04:05.678Z', 'l'), { status: 400, body: { reason: 'BadRequest', message: /cannot parse "\.678Z" as "\.000000"/ } }, 'a JavaScript toISOString() is refused, before the 409')
  t.match(await raw('2030-01-02T03:04:05Z'), { status: 400, body: { message: /cannot parse "Z" as "\.000000"/ } })
  t.match(await raw('2030-01-02T05:04:05.000001+02:00'), { status: 201, body: { spec: { renewTime: '2030-01-02T03:04:05.000001Z' } } }, 'an offset is written back as UTC')
  t.match(await apiError(coordination.replaceNamespacedLease({ name: 'l', namespace: 'team-a', body: { ...created, spec: { ...created.spec, leaseDurationSeconds: 0 } } })), {
    code: 422, status: { message: 'Lease.coordination.k8s.io "l" is invalid: spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0' },
  })
  double.deny('leases', 'get')
  t.match(await apiError(coordination.readNamespacedLease({ name: 'l', namespace: 'team-a' })), {
    code: 403, status: { message: 'leases.coordination.k8s.io "l" is forbidden: User "system:serviceaccount:pullguard:pullguard" cannot get resource "leases" in API group "coordination.k8s.io" in the namespace "team-a"' },
  })
})

t.test('authentication, RBAC denial and selector errors are Status objects', async (t) => {
  const double = await started(t)
  const wrong = double.kubeConfig('wrong').makeApiClient(CoreV1Api)
  t.match(await apiError(wrong.listNamespace()), { code: 401 })
  t.match(double.requests.at(-1), { path: '/api/v1/namespaces', status: 401 })
  double.deny('secrets', 'list')
  const { informer, errors, names } = secretInformer(t, double, { fieldSelector: PULL_SELECTOR, restartOnError: true })
  void informer.start()
  await waitFor(() => errors.length >= 1, 2000, 'the informer to be refused')
  const core = double.kubeConfig().makeApiClient(CoreV1Api)
  t.match(await apiError(core.listSecretForAllNamespaces()), {
    code: 403,
    status: { reason: 'Forbidden', message: 'secrets is forbidden: User "system:serviceaccount:pullguard:pullguard" cannot list resource "secrets" in API group "" at the cluster scope' },
  })
  double.create('secrets', pullSecret('a'))
  double.allow()
  await waitFor(() => names().join() === 'a@3', 2000, 'the informer to recover')
  t.match(await apiError(core.listSecretForAllNamespaces({ fieldSelector: 'data=x' })), { code: 400, status: { reason: 'BadRequest', message: 'field label not supported: data' } })
  double.create('secrets', { metadata: { name: 'b', namespace: 'team-a' } })
  double.create('secrets', pullSecret('c'))
  const selected = await core.listNamespacedSecret({ namespace: 'team-a', fieldSelector: 'metadata.name!=a,type!=Opaque' })
  t.same(selected.items.map((s) => s.metadata?.name), ['c'], 'field selector terms are ANDed')
})

t.test('deleting a namespace deletes its contents, which informers see', async (t) => {
  const double = await started(t)
  double.create('secrets', pullSecret('a'))
  double.create('serviceaccounts', { metadata: { name: 'default', namespace: 'team-a' } })
  const { informer, events } = secretInformer(t, double)
  await informer.start()
  // A Namespace DELETE answers the Namespace itself (client-node types it as V1Status, so read it raw).
  const res = await fetch(`${double.url}/api/v1/namespaces/team-a`, { method: 'DELETE', headers: { authorization: 'Bearer double-token' } })
  t.match([res.status, await res.json()], [200, { kind: 'Namespace', metadata: { name: 'team-a', deletionTimestamp: String }, status: { phase: 'Terminating' } }])
  await waitFor(() => events.length === 2, 2000, 'the delete')
  t.same(events, ['add a@3', 'delete a@6'])
  t.same([double.list('namespaces'), double.list('serviceaccounts')], [[], []])
  await quietFor(20)
  t.equal(events.length, 2, 'nothing more')
})

async function getJson (double: ApiServerDouble, path: string): Promise<{ status: number, body: Json }> {
  const res = await fetch(double.url + path, { headers: { authorization: 'Bearer double-token' } })
  return { status: res.status, body: await res.json() }
}
const token = (continueToken: string): Json => JSON.parse(Buffer.from(continueToken, 'base64url').toString('utf8'))

t.test('paging as etcd: limit and continue, every page at the first page\'s revision, remainingItemCount without selectors', async (t) => {
  const double = await started(t)
  double.create('namespaces', { metadata: { name: 'team-b' } })
  for (const name of ['p1', 'p2', 'p3', 'p4']) double.create('secrets', pullSecret(name))
  double.create('secrets', { metadata: { name: 'q-opaque', namespace: 'team-a' }, data: { k: 'dg==' } })
  double.create('secrets', { ...pullSecret('p5'), metadata: { name: 'p5', namespace: 'team-b' } })
  const rv = double.resourceVersion // 9

  const first = await getJson(double, '/api/v1/secrets?limit=2')
  t.same(first.body.items.map((i: Json) => i.metadata.name), ['p1', 'p2'], 'key order: namespace, then name')
  t.same(first.body.metadata.resourceVersion, rv)
  t.equal(first.body.metadata.remainingItemCount, 4)
  t.same(token(first.body.metadata.continue), { v: 'meta.k8s.io/v1', rv: Number(rv), start: 'team-a/p2\u0000' }, 'storage/continue.go: the key after the last, relative to the prefix')

  // Writes between pages do not show: the rest of the list is read at the same revision.
  double.remove('secrets', 'p3', 'team-a')
  double.update('secrets', { ...double.get('secrets', 'p4', 'team-a'), data: { '.dockerconfigjson': 'e306' } }, 'team-a')
  double.create('secrets', pullSecret('p0'))
  const second = await getJson(double, `/api/v1/secrets?limit=2&continue=${first.body.metadata.continue as string}`)
  t.same(second.body.items.map((i: Json) => [i.metadata.name, i.metadata.resourceVersion, i.data['.dockerconfigjson']]), [['p3', '6', 'e30='], ['p4', '7', 'e30=']], 'deleted and modified since: as they were')
  t.same(second.body.metadata.resourceVersion, rv)
  t.equal(second.body.metadata.remainingItemCount, 2)
  const third = await getJson(double, `/api/v1/secrets?limit=2&continue=${second.body.metadata.continue as string}`)
  t.same(third.body.items.map((i: Json) => i.metadata.name), ['q-opaque', 'p5'])
  t.same(third.body.metadata, { resourceVersion: rv }, 'the last page: no continue, no count')

  // A selector: pages are filled with matches; the count is left out; a page can end on the last match with keys to spare.
  const pulls = await getJson(double, `/api/v1/namespaces/team-a/secrets?limit=4&fieldSelector=${encodeURIComponent(PULL_SELECTOR)}`)
  t.same(pulls.body.items.map((i: Json) => i.metadata.name), ['p0', 'p1', 'p2', 'p4'])
  t.notOk('remainingItemCount' in pulls.body.metadata)
  t.same(token(pulls.body.metadata.continue).start, 'p4\u0000', 'in a namespace, keys are relative to it')
  const rest = await getJson(double, `/api/v1/namespaces/team-a/secrets?limit=4&fieldSelector=${encodeURIComponent(PULL_SELECTOR)}&continue=${pulls.body.metadata.continue as string}`)
  t.same([rest.body.items, rest.body.metadata.continue], [[], undefined], 'only the opaque Secret was left: an empty last page')

  // The real client reads the tokens.
  const core = double.kubeConfig().makeApiClient(CoreV1Api)
  const names: string[] = []
  let next: string | undefined
  do {
    const page = await core.listSecretForAllNamespaces({ limit: 3, _continue: next })
    names.push(...page.items.map((i) => i.metadata?.name ?? ''))
    next = page.metadata?._continue
  } while (next !== undefined && next !== '')
  t.same(names, ['p0', 'p1', 'p2', 'p4', 'q-opaque', 'p5'])
})

t.test('paging: "0" with a limit is the watch cache (limit ignored); an exact RV is read at that revision; expired continue tokens', async (t) => {
  const double = await started(t, { historyLimit: 3 })
  for (const name of ['a', 'b', 'c']) double.create('secrets', pullSecret(name)) // RVs 3..5
  const cached = await getJson(double, '/api/v1/secrets?limit=1&resourceVersion=0')
  t.same([cached.body.items.length, cached.body.metadata], [3, { resourceVersion: '5' }], 'cacher.go shouldDelegateList: RV "0" never pages')
  const exact = await getJson(double, '/api/v1/secrets?limit=5&resourceVersion=3')
  t.same([exact.body.items.map((i: Json) => i.metadata.name), exact.body.metadata.resourceVersion], [['a'], '3'], 'the legacy exact match: the list as of RV 3')
  const first = await getJson(double, '/api/v1/secrets?limit=1')
  const continued = first.body.metadata.continue as string
  t.equal(token(continued).rv, 5)
  t.same((await getJson(double, `/api/v1/secrets?limit=1&continue=${continued}&resourceVersion=5`)).body.message, 'specifying resource version is not allowed when using continue')
  t.equal((await getJson(double, '/api/v1/secrets?limit=1&continue=bm9wZQ')).status, 400, 'a token that is not one')

  // Four more writes push the events after RV 5 out of the history (etcd's compaction, here): the token has expired.
  for (const name of ['d', 'e', 'f', 'g']) double.create('secrets', pullSecret(name))
  const gone = await getJson(double, `/api/v1/secrets?limit=1&continue=${continued}`)
  t.equal(gone.status, 410)
  t.match(gone.body, { kind: 'Status', status: 'Failure', reason: 'Expired', code: 410, message: /^The provided continue parameter is too old to display a consistent list result\. You can start a new list without the continue parameter, or use the continue token in this response/ })
  t.same(token(gone.body.metadata.continue), { v: 'meta.k8s.io/v1', rv: -1, start: 'team-a/a\u0000' }, 'a token at rv -1: continue inconsistently')
  const inconsistent = await getJson(double, `/api/v1/secrets?limit=10&continue=${gone.body.metadata.continue as string}`)
  t.same([inconsistent.body.items.map((i: Json) => i.metadata.name), inconsistent.body.metadata.resourceVersion], [['b', 'c', 'd', 'e', 'f', 'g'], '9'], 'the rest, at the latest revision')
  const tooOld = await getJson(double, '/api/v1/secrets?limit=5&resourceVersion=3')
  t.match([tooOld.status, tooOld.body], [410, { reason: 'Expired', message: 'The resourceVersion for the provided list is too old.' }])
})

t.test('a watch that allows bookmarks gets one 2 s before timeoutSeconds ends it (cacheWatcher.nextBookmarkTime)', async (t) => {
  const double = await started(t)
  const watch = await rawWatch(double, '/api/v1/secrets?watch=true&resourceVersion=2&allowWatchBookmarks=true&timeoutSeconds=3')
  double.create('configmaps', { metadata: { name: 'elsewhere', namespace: 'team-a' } })
  await watch.ended
  t.same(watch.events, [{ type: 'BOOKMARK', object: { kind: 'Secret', apiVersion: 'v1', metadata: { resourceVersion: '3' } } }], 'the RV to resume from, past changes the watch did not see')
})

t.test('the history is bounded: a watch from before the last historyLimit events gets 410', async (t) => {
  const double = await started(t, { historyLimit: 2 }) // the namespace is RV 2
  for (const name of ['a', 'b', 'c']) double.create('secrets', pullSecret(name)) // RVs 3..5; 2 and 3 fall out
  const old = await rawWatch(double, '/api/v1/secrets?watch=true&resourceVersion=2')
  await old.ended
  t.match(old.events, [{ type: 'ERROR', object: { code: 410, message: 'too old resource version: 2 (3)' } }])
  const kept = await rawWatch(double, '/api/v1/secrets?watch=true&resourceVersion=3')
  await waitFor(() => kept.events.length === 2, 2000, 'the retained events')
  t.same(kept.events.map((e: Json) => e.object.metadata.name), ['b', 'c'])
  kept.close()
})

t.test('selectors, watching one object, generateName, immutable Secrets, NamespaceLifecycle', async (t) => {
  const double = await started(t, { namespaceLifecycle: true })
  const core = double.kubeConfig().makeApiClient(CoreV1Api)
  for (const [name, labels] of [['x', { app: 'x' }], ['y', { app: 'y', tier: 'web' }], ['z', {}]] as const) {
    double.create('serviceaccounts', { metadata: { name, namespace: 'team-a', labels } })
  }
  const names = async (labelSelector: string): Promise<string[]> =>
    (await core.listNamespacedServiceAccount({ namespace: 'team-a', labelSelector })).items.map((s) => s.metadata?.name ?? '')
  t.same(await names('app'), ['x', 'y'])
  t.same(await names('!app'), ['z'])
  t.same(await names('app!=x'), ['y', 'z'], '!= matches objects without the label too')
  t.same(await names('app notin (x),tier'), ['y'])
  t.same(await names('app in (x, y),tier!=web'), ['x'])
  t.match(await apiError(names('app in x')), { code: 400 })
  t.same((await core.listNamespace({ fieldSelector: 'status.phase=Active' })).items.map((n) => n.metadata?.labels), [{ 'kubernetes.io/metadata.name': 'team-a' }])

  const one = await rawWatch(double, '/api/v1/namespaces/team-a/serviceaccounts/y?watch=true')
  await waitFor(() => one.events.length === 1, 2000, 'the one object')
  t.equal(one.events[0].object.metadata.name, 'y')
  one.close()

  const generated = double.create('secrets', { metadata: { generateName: 'pull-', namespace: 'team-a' }, immutable: true, data: { k: 'dg==' } })
  t.match(generated.metadata.name, /^pull-[bcdfghjklmnpqrstvwxz2456789]{5}$/)
  const statusOf = (write: () => unknown): Json => { try { write() } catch (err) { return (err as StatusError).status } }
  t.match(statusOf(() => double.update('secrets', { ...generated, data: { k: 'eA==' } })), { code: 422, message: /data: Forbidden: field is immutable when `immutable` is set/ })
  t.match(statusOf(() => double.create('secrets', { metadata: { namespace: 'team-a' } })), { code: 422, message: 'Secret "" is invalid: metadata.name: Required value: name or generateName is required' })
  t.match(await apiError(core.createNamespacedSecret({ namespace: 'nowhere', body: { metadata: { name: 's' } } })), { code: 404, status: { message: 'namespaces "nowhere" not found' } })
})

t.test('DELETE with DeleteOptions.preconditions: uid and resourceVersion must match (409 Conflict as storage.Preconditions.Check)', async (t) => {
  const double = await started(t)
  const core = double.kubeConfig().makeApiClient(CoreV1Api)
  const created = double.create('secrets', pullSecret('copy'))
  const { uid, resourceVersion } = created.metadata
  const stale = await apiError(core.deleteNamespacedSecret({ name: 'copy', namespace: 'team-a', body: { preconditions: { uid: 'other-uid' } } }))
  t.match(stale, {
    code: 409,
    status: {
      reason: 'Conflict',
      message: `Operation cannot be fulfilled on secrets "copy": StorageError: invalid object, Code: 4, Key: /registry/secrets/team-a/copy, ResourceVersion: 0, AdditionalErrorMsg: Precondition failed: UID in precondition: other-uid, UID in object meta: ${uid}`,
      details: { name: 'copy', kind: 'secrets' },
    },
  })
  double.update('secrets', { ...double.get('secrets', 'copy', 'team-a'), data: { '.dockerconfigjson': 'e30K' } })
  t.match(await apiError(core.deleteNamespacedSecret({ name: 'copy', namespace: 'team-a', body: { preconditions: { uid, resourceVersion } } })), {
    code: 409,
    status: { message: new RegExp(`Precondition failed: ResourceVersion in precondition: ${resourceVersion}, ResourceVersion in object meta: \\d+$`) },
  }, 'changed since: refused')
  t.ok(double.get('secrets', 'copy', 'team-a'), 'still there')
  const current = double.get('secrets', 'copy', 'team-a').metadata
  await core.deleteNamespacedSecret({ name: 'copy', namespace: 'team-a', body: { preconditions: { uid: current.uid, resourceVersion: current.resourceVersion } } })
  t.throws(() => double.get('secrets', 'copy', 'team-a'), /not found/, 'matching preconditions: deleted')
  double.create('secrets', pullSecret('plain'))
  await core.deleteNamespacedSecret({ name: 'plain', namespace: 'team-a' })
  t.throws(() => double.get('secrets', 'plain', 'team-a'), /not found/, 'no body: unconditional')
})
