/**
 * The cluster view admission reads, with secret distribution's watches added
 * when distribution runs: the informers' view is used as it is, method by
 * method, so nothing about it changes.
 */
import type { ClusterView } from '../cluster/types.js'
import type { DistributionView } from './observation.js'

export function withDistribution (cluster: ClusterView, distribution: DistributionView): ClusterView {
  return {
    namespace: (name) => cluster.namespace(name),
    secret: (namespace, name) => cluster.secret(namespace, name),
    discover: (namespace, imageName) => cluster.discover(namespace, imageName),
    serviceAccount: (namespace, name) => cluster.serviceAccount(namespace, name),
    covering: (imageName) => cluster.covering(imageName),
    distribution,
  }
}
