import t from 'tap'
import { kubeConfigFor } from '../../src/kube/connection.js'

// Which cluster (local, in-cluster, kubeconfig) is settings.ts's decision: test/settings.test.ts.

t.test('an unreadable kubeconfig is a clear error that does not dump the file', async (t) => {
  const dir = t.testdir({ kubeconfig: 'apiVersion: v1\nusers:\n- name: u\n  user:\n    token: sekret-token\n   bad: [\n' })
  const err = t.throws(() => kubeConfigFor({ mode: 'kubeconfig', file: `${dir}/kubeconfig` }), { code: 'PG_CONFIG_UNREADABLE' }) as Error
  t.notMatch(err.message, /sekret-token/)
  t.throws(() => kubeConfigFor({ mode: 'kubeconfig', file: `${dir}/missing` }), { code: 'PG_CONFIG_UNREADABLE' })
})
