/**
 * What secret distribution watches (src/kube/secret-watches.ts), against the
 * API server double: every Secret of each copy name cluster-wide, each
 * source not already covered by name in its namespace, nothing else; what
 * the watches see is reduced to ObservedSecret (no data); the set follows
 * the config.
 */
import t, { type Test } from 'tap'
import { COPIED_FROM_ANNOTATION, type ObservedSecret } from '../../src/distribution/copy.js'
import { MANAGED_BY, MANAGED_BY_LABEL } from '../../src/cluster/managed-by.js'
import { SecretWatches } from '../../src/kube/secret-watches.js'
import { createLogger } from '../../src/logger.js'
import { ApiServerDouble } from '../helpers/api-server-double.js'
import { FAKE_PASSWORD, pullSecret } from '../helpers/cluster.js'
import { configFrom } from '../helpers/fixtures.js'
import { LogCapture } from '../helpers/server.js'
import { waitFor } from '../helpers/wait.js'

const config = (entries: string): ReturnType<typeof configFrom> => configFrom(`registries:\n${entries}`, 'pullguard')
const COPY = `
  - match: ghcr.io
    secrets: [{ name: ghcr-copy, from: pullguard/ghcr-src }]
`
const SAME_NAME = `
  - match: quay.io
    secrets: [{ name: quay, from: pullguard/quay }]
`

async function setup (t: Test): Promise<{ api: ApiServerDouble, w: SecretWatches, changes: () => number, logs: LogCapture }> {
  const api = new ApiServerDouble()
  await api.start()
  api.create('secrets', pullSecret('pullguard', 'ghcr-src', ['ghcr.io']), 'pullguard')
  api.create('secrets', pullSecret('team-b', 'unrelated', ['ghcr.io']), 'team-b')
  let changes = 0
  const logs = new LogCapture()
  const w = new SecretWatches({ kubeConfig: api.kubeConfig(), log: createLogger({ destination: logs }), onChange: () => { changes++ }, backoff: { initialMs: 10, maxMs: 50 }, watchTimeoutSeconds: () => 300 })
  t.teardown(async () => { await w.stop(); await api.stop() })
  return { api, w, changes: () => changes, logs }
}

function copy (namespace: string, name = 'ghcr-copy', managed = true): ReturnType<typeof pullSecret> {
  const s = pullSecret(namespace, name, ['ghcr.io'])
  if (managed) {
    s.metadata.labels = { [MANAGED_BY_LABEL]: MANAGED_BY }
    s.metadata.annotations = { [COPIED_FROM_ANNOTATION]: 'pullguard/ghcr-src' }
  }
  return s
}

t.test('watches each copy name everywhere and the source by name, nothing else', async (t) => {
  const { api, w } = await setup(t)
  t.equal(w.observe('team-a', 'ghcr-copy'), 'unknown', 'before the first list')
  w.update(config(COPY).distribution)
  await waitFor(() => w.synced() && api.watchCount('secrets') === 2, 5000, 'both watches')
  const paths = api.requests.filter((q) => q.query.watch === undefined).map((q) => `${q.path}?${q.query.fieldSelector}`).sort()
  t.same(paths, ['/api/v1/namespaces/pullguard/secrets?metadata.name=ghcr-src', '/api/v1/secrets?metadata.name=ghcr-copy'])
  t.same([...w.names()], ['ghcr-copy'])
  t.equal(w.observe('team-a', 'ghcr-copy'), 'absent')
  t.match(w.observe('pullguard', 'ghcr-src'), { namespace: 'pullguard', name: 'ghcr-src', managed: false, type: 'kubernetes.io/dockerconfigjson' })
  t.equal(w.observe('team-b', 'unrelated'), 'unknown', 'a Secret of no watched name is not seen')
})

t.test('copies appear as observed, managed ones are listed, no data is kept', async (t) => {
  const { api, w, changes } = await setup(t)
  w.update(config(COPY).distribution)
  await waitFor(() => w.synced() && api.watchCount('secrets') === 2, 5000, 'watching')
  const before = changes()
  api.create('secrets', copy('team-a'), 'team-a')
  api.create('secrets', copy('team-c', 'ghcr-copy', false), 'team-c')
  await waitFor(() => typeof w.observe('team-c', 'ghcr-copy') === 'object', 5000, 'both copies seen')
  t.ok(changes() >= before + 2, 'onChange for each')
  t.match(w.observe('team-a', 'ghcr-copy'), { managed: true, copiedFrom: 'pullguard/ghcr-src' })
  t.match(w.observe('team-c', 'ghcr-copy'), { managed: false })
  t.same([...w.managed()].map((s: ObservedSecret) => s.namespace), ['team-a'])
  t.notMatch(JSON.stringify([w.observe('team-a', 'ghcr-copy'), w.observe('pullguard', 'ghcr-src')]), FAKE_PASSWORD)
  api.remove('secrets', 'ghcr-copy', 'team-a')
  await waitFor(() => w.observe('team-a', 'ghcr-copy') === 'absent', 5000, 'the deletion')
})

t.test('a source whose name is a copy name is covered by the cluster-wide watch', async (t) => {
  const { api, w } = await setup(t)
  api.create('secrets', pullSecret('pullguard', 'quay', ['quay.io']), 'pullguard')
  w.update(config(SAME_NAME).distribution)
  await waitFor(() => w.synced() && api.watchCount('secrets') === 1, 5000, 'one watch')
  t.match(w.observe('pullguard', 'quay'), { name: 'quay' })
  t.same(api.requests.filter((q) => q.query.watch === undefined).map((q) => q.path), ['/api/v1/secrets'])
})

t.test('update follows the config: new watches start, dropped ones stop', async (t) => {
  const { api, w } = await setup(t)
  w.update(config(COPY).distribution)
  await waitFor(() => w.synced() && api.watchCount('secrets') === 2, 5000, 'two watches')
  w.update(config(SAME_NAME).distribution)
  await waitFor(() => w.synced() && api.watchCount('secrets') === 1, 5000, 'the old ones stopped, the new one running')
  t.same([...w.names()], ['quay'])
  t.equal(w.observe('team-a', 'ghcr-copy'), 'unknown', 'no longer watched')
  w.update(config('  - match: x.io\n    secrets: [plain]\n').distribution)
  await waitFor(() => api.watchCount('secrets') === 0, 5000, 'no watch left')
  t.ok(w.synced(), 'nothing to watch is synced')
})

t.test('after stop(), update starts nothing', async (t) => {
  const { api, w } = await setup(t)
  await w.stop()
  w.update(config(COPY).distribution)
  t.same([...w.names()], [])
  t.equal(api.watchCount('secrets'), 0)
})
