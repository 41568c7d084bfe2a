/**
 * The Kubernetes client's configuration for the cluster settings.ts chose
 * (local or cluster mode is decided there, so that local mode never loads
 * @kubernetes/client-node).
 */
import { KubeConfig } from '@kubernetes/client-node'
import { PullguardError } from '../errors.js'
import type { ClusterSource } from '../settings.js'

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
