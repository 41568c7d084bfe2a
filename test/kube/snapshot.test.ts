import t from 'tap'
import { takeSnapshot } from '../../src/kube/snapshot.js'
import { ApiServerDouble } from '../helpers/api-server-double.js'
import { FAKE_PASSWORD, namespaceObject, pullSecret, serviceAccount } from '../helpers/cluster.js'

t.test('a LIST-only snapshot: summaries only, no credential kept', async (t) => {
  const api = new ApiServerDouble()
  await api.start()
  t.teardown(async () => { await api.stop() })
  api.create('namespaces', namespaceObject('team-a', { 'pullguard.dev/always-pull': 'all' }))
  api.create('namespaces', namespaceObject('team-b'))
  api.create('secrets', pullSecret('team-a', 'ghcr-acme', ['ghcr.io']), 'team-a')
  api.create('secrets', pullSecret('team-b', 'legacy', ['quay.io'], 'kubernetes.io/dockercfg'), 'team-b')
  api.create('secrets', { apiVersion: 'v1', kind: 'Secret', metadata: { namespace: 'team-a', name: 'broken' }, type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': 'bm90IGpzb24=' } }, 'team-a')
  api.create('serviceaccounts', serviceAccount('team-a', 'default', ['ghcr-acme'], true), 'team-a')
  api.create('serviceaccounts', serviceAccount('team-b', 'default'), 'team-b')

  const snapshot = await takeSnapshot(api.kubeConfig(), { namespaces: ['team-a', 'team-a'] })
  t.same(snapshot.counts, { namespaces: 2, secrets: 3, serviceAccounts: 1 }, 'ServiceAccounts of the namespaces asked for only')
  t.equal(snapshot.server, api.url)
  t.equal(snapshot.view.namespace('team-a')?.labels['pullguard.dev/always-pull'], 'all')
  t.same(snapshot.view.secret('team-a', 'ghcr-acme')?.keys.map((k) => k.key), ['ghcr.io'])
  t.match(snapshot.view.secret('team-a', 'broken'), { malformed: /not base64-encoded JSON|not a JSON/ })
  t.same(snapshot.view.covering('quay.io/x/y').map((s) => s.name), ['legacy'], 'pull Secrets of every namespace, for coverage')
  t.match(snapshot.view.serviceAccount('team-a', 'default'), { imagePullSecrets: ['ghcr-acme'], enforceMountableSecrets: true })
  t.notMatch(JSON.stringify({ ...snapshot, view: [snapshot.view.secret('team-a', 'ghcr-acme'), snapshot.view.secret('team-b', 'legacy')] }), FAKE_PASSWORD)
  t.same([...new Set(api.requests.map((r) => r.verb))], ['list'])
})

t.test('a refusal names the resource and what RBAC said', async (t) => {
  const api = new ApiServerDouble()
  await api.start()
  t.teardown(async () => { await api.stop() })
  api.deny('serviceaccounts', 'list')
  await t.rejects(takeSnapshot(api.kubeConfig(), { namespaces: ['team-a'] }), {
    code: 'PG_CONFIG_UNREADABLE',
    message: /^cannot list serviceaccounts in team-a: 403 Forbidden: serviceaccounts is forbidden: /,
  })
})
