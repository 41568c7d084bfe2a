/**
 * withDistribution (src/distribution/view.ts): the informers' view, method
 * by method, with the distribution watches added.
 */
import t from 'tap'
import { summarizePullSecret } from '../../src/cluster/pull-secret.js'
import { ClusterStore } from '../../src/cluster/store.js'
import { summarizeNamespace, summarizeServiceAccount } from '../../src/cluster/summaries.js'
import type { DistributionView } from '../../src/distribution/observation.js'
import { withDistribution } from '../../src/distribution/view.js'
import { namespaceObject, pullSecret, serviceAccount } from '../helpers/cluster.js'

t.test('every read goes to the cluster view, live; distribution is the one given', async (t) => {
  const store = new ClusterStore()
  const distribution: DistributionView = { observe: () => 'absent' }
  const view = withDistribution(store, distribution)
  t.equal(view.distribution, distribution)
  t.equal(view.namespace('team-a'), undefined)
  // Added after the view was made: the view reads through, it does not copy.
  store.setNamespace(summarizeNamespace(namespaceObject('team-a')))
  store.setSecret(summarizePullSecret(pullSecret('team-a', 'ghcr', ['ghcr.io']))!)
  store.setServiceAccount(summarizeServiceAccount(serviceAccount('team-a', 'default', ['ghcr'])))
  t.equal(view.namespace('team-a'), store.namespace('team-a'))
  t.equal(view.secret('team-a', 'ghcr'), store.secret('team-a', 'ghcr'))
  t.ok(view.secret('team-a', 'ghcr'))
  t.same(view.discover('team-a', 'ghcr.io/acme/app'), store.discover('team-a', 'ghcr.io/acme/app'))
  t.same(view.covering('ghcr.io/acme/app').map((s) => s.name), ['ghcr'])
  t.equal(view.serviceAccount('team-a', 'default'), store.serviceAccount('team-a', 'default'))
  t.ok(view.serviceAccount('team-a', 'default'))
})
