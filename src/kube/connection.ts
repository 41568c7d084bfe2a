/**
 * Local or cluster mode. Cluster mode turns on in a pod (the service account
 * token is mounted and KUBERNETES_SERVICE_HOST is set, as client-go's
 * rest.InClusterConfig checks) or when a kubeconfig is named with
 * --kubeconfig or KUBECONFIG. PULLGUARD_CLUSTER=off forces local mode (say,
 * on a laptop whose shell has KUBECONFIG set).
 */
import { existsSync } from 'node:fs'
import { KubeConfig } from '@kubernetes/client-node'
import { PullguardError } from '../errors.js'

const SERVICE_ACCOUNT_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token'

export type ClusterSource =
  | { readonly mode: 'local', readonly why: string }
  | { readonly mode: 'in-cluster' }
  | { readonly mode: 'kubeconfig', readonly file: string }

export function clusterSource (kubeconfigFlag: string | undefined, env: Readonly<Record<string, string | undefined>>, tokenExists = existsSync(SERVICE_ACCOUNT_TOKEN)): ClusterSource {
  const forced = env.PULLGUARD_CLUSTER
  if (forced !== undefined && forced !== '' && forced !== 'auto' && forced !== 'off') {
    throw new PullguardError('PG_CONFIG_INVALID', `PULLGUARD_CLUSTER=${JSON.stringify(forced)} is not one of auto, off`)
  }
  if (forced === 'off') return { mode: 'local', why: 'PULLGUARD_CLUSTER=off' }
  if (kubeconfigFlag !== undefined && kubeconfigFlag !== '') return { mode: 'kubeconfig', file: kubeconfigFlag }
  if (tokenExists && env.KUBERNETES_SERVICE_HOST !== undefined && env.KUBERNETES_SERVICE_HOST !== '') return { mode: 'in-cluster' }
  const fromEnv = env.KUBECONFIG
  if (fromEnv !== undefined && fromEnv !== '') return { mode: 'kubeconfig', file: fromEnv.split(':')[0] ?? fromEnv }
  return { mode: 'local', why: 'no service account token and no kubeconfig' }
}

export function kubeConfigFor (source: Exclude<ClusterSource, { mode: 'local' }>): KubeConfig {
  const kc = new KubeConfig()
  try {
    if (source.mode === 'in-cluster') kc.loadFromCluster()
    else kc.loadFromFile(source.file)
  } catch (err) {
    const where = source.mode === 'in-cluster' ? 'the in-cluster service account' : `kubeconfig ${source.file}`
    throw new PullguardError('PG_CONFIG_UNREADABLE', `cannot load ${where}: ${(err as Error).message.split('\n')[0] ?? ''}`)
  }
  if (kc.getCurrentCluster() === null) throw new PullguardError('PG_CONFIG_INVALID', 'the kubeconfig has no current cluster')
  return kc
}
