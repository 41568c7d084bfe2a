import t from 'tap'
import { summarizePullSecret } from '../../src/cluster/pull-secret.js'
import { ClusterStore } from '../../src/cluster/store.js'
import { pullSecret } from '../helpers/cluster.js'

const info = (ns: string, name: string, registries: string[]) => summarizePullSecret(pullSecret(ns, name, registries))!

t.test('discovery follows the kubelet rules within one namespace and follows changes', async (t) => {
  const store = new ClusterStore()
  store.setSecret(info('team-a', 'quay-all', ['quay.io']))
  store.setSecret(info('team-a', 'quay-coreos', ['quay.io/coreos']))
  store.setSecret(info('team-a', 'hub', ['https://index.docker.io/v1/']))
  store.setSecret(info('team-b', 'quay-b', ['quay.io']))
  const names = (ns: string, image: string) => store.discover(ns, image).map((s) => s.name)
  t.same(names('team-a', 'quay.io/coreos/etcd'), ['quay-coreos', 'quay-all'], 'most specific first')
  t.same(names('team-a', 'docker.io/library/nginx'), ['hub'], 'Docker Hub fallback')
  t.same(names('team-a', 'ghcr.io/x'), [])
  t.same(names('team-b', 'quay.io/coreos/etcd'), ['quay-b'], 'other namespaces are separate')
  store.deleteSecret('team-a', 'quay-coreos')
  t.same(names('team-a', 'quay.io/coreos/etcd'), ['quay-all'], 'a deletion is seen')
  store.setSecret(info('team-a', 'quay-all', ['ghcr.io']))
  t.same(names('team-a', 'quay.io/coreos/etcd'), [], 'a modification is seen')
  t.same(store.counts(), { namespaces: 0, secrets: 3, serviceAccounts: 0 })
})

t.test('a secret with several keys is discovered once', async (t) => {
  const store = new ClusterStore()
  store.setSecret(info('n', 'multi', ['quay.io', 'quay.io/coreos']))
  t.same(store.discover('n', 'quay.io/coreos/etcd').map((s) => s.name), ['multi'])
})

t.test('malformed secrets are never discovered', async (t) => {
  const store = new ClusterStore()
  store.setSecret(summarizePullSecret({ metadata: { namespace: 'n', name: 'bad' }, type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': 'x' } })!)
  t.same(store.discover('n', 'quay.io/x'), [])
  t.ok(store.secret('n', 'bad')?.malformed)
})
