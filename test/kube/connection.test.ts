import t from 'tap'
import { clusterSource, kubeConfigFor } from '../../src/kube/connection.js'

t.test('mode selection', async (t) => {
  t.same(clusterSource(undefined, {}, false), { mode: 'local', why: 'no service account token and no kubeconfig' })
  t.same(clusterSource(undefined, { KUBERNETES_SERVICE_HOST: '10.0.0.1' }, true), { mode: 'in-cluster' })
  t.same(clusterSource(undefined, { KUBERNETES_SERVICE_HOST: '10.0.0.1' }, false).mode, 'local', 'no token, no cluster')
  t.same(clusterSource(undefined, { KUBECONFIG: '/a:/b' }, false), { mode: 'kubeconfig', file: '/a' })
  t.same(clusterSource('/flag', { KUBECONFIG: '/env' }, true), { mode: 'kubeconfig', file: '/flag' }, 'the flag wins')
  t.same(clusterSource('/flag', { PULLGUARD_CLUSTER: 'off' }, true).mode, 'local', 'forced local')
  t.throws(() => clusterSource(undefined, { PULLGUARD_CLUSTER: 'maybe' }, false), /PULLGUARD_CLUSTER="maybe"/)
})

t.test('an unreadable kubeconfig is a clear error that does not dump the file', async (t) => {
  const dir = t.testdir({ kubeconfig: 'apiVersion: v1\nusers:\n- name: u\n  user:\n    token: sekret-token\n   bad: [\n' })
  const err = t.throws(() => kubeConfigFor({ mode: 'kubeconfig', file: `${dir}/kubeconfig` }), { code: 'PG_CONFIG_UNREADABLE' }) as Error
  t.notMatch(err.message, /sekret-token/)
  t.throws(() => kubeConfigFor({ mode: 'kubeconfig', file: `${dir}/missing` }), { code: 'PG_CONFIG_UNREADABLE' })
})
