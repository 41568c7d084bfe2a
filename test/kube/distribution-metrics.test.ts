/**
 * Secret distribution's metrics: read from the distributor's status at each
 * scrape; copy and source gauges only from the leader; bounded labels only.
 */
import t from 'tap'
import { Registry } from 'prom-client'
import { registerDistributionMetrics } from '../../src/kube/distribution-metrics.js'
import type { DistributionStatus } from '../../src/kube/secret-distributor.js'

const leader: DistributionStatus = {
  leading: true,
  holder: 'pod-a',
  lastError: undefined,
  copies: { current: 3, outdated: 1, pending: 0, unmanaged: 2, 'source-missing': 0, 'source-invalid': 0, 'source-conflict': 0, unknown: 0 },
  sourceProblems: [{ entry: 1, problem: 'missing' }],
  planned: 1,
  writes: { create: 3, update: 1, delete: 0 },
  errors: { create: 0, update: 2, delete: 0, 'get-source': 0, list: 0 },
}

t.test('the leader exports copies by state, source problems by entry, writes and errors', async (t) => {
  const registry = new Registry()
  let status = leader
  registerDistributionMetrics(registry, () => status)
  const text = await registry.metrics()
  t.match(text, /pullguard_distribution_leader 1\n/)
  t.match(text, /pullguard_distribution_copies\{state="current"\} 3\n/)
  t.match(text, /pullguard_distribution_copies\{state="outdated"\} 1\n/)
  t.match(text, /pullguard_distribution_copies\{state="unmanaged"\} 2\n/)
  t.match(text, /pullguard_distribution_source_problems\{entry="1",problem="missing"\} 1\n/)
  t.match(text, /pullguard_distribution_writes_total\{operation="create"\} 3\n/)
  t.match(text, /pullguard_distribution_sync_errors_total\{operation="update"\} 2\n/)
  t.match(text, /pullguard_distribution_sync_errors_total\{operation="list"\} 0\n/, 'zero series from the start')
  t.notMatch(text, /team-|ghcr|sha256|pod-a/, 'no namespace, Secret name, hash or identity in any label')

  status = { ...leader, leading: false, copies: undefined, sourceProblems: [] }
  const follower = await registry.metrics()
  t.match(follower, /pullguard_distribution_leader 0\n/)
  t.notMatch(follower, /pullguard_distribution_copies\{/, 'a follower exports no copy gauges')
})

t.test('a status that throws fails no scrape', async (t) => {
  const registry = new Registry()
  registerDistributionMetrics(registry, () => { throw new Error('boom') })
  t.match(await registry.metrics(), /pullguard_distribution_leader 0\n/)
})
