/**
 * Secret distribution's metrics, read from the distributor's status at every
 * scrape and registered on pullguard's registry (src/metrics.ts). Label
 * values are fixed sets and config entry indexes: never a namespace, a
 * Secret name, a hash or anything from a Secret's data.
 *
 * The copy and source gauges come from the leader's last plan: a follower
 * exports none of them (it writes nothing and plans nothing), so `sum` over
 * replicas counts each copy once. The leader gauge is on every replica.
 */
import { Counter, Gauge, type Registry } from 'prom-client'
import { COPY_STATES } from '../distribution/plan.js'
import type { DistributionStatus } from './secret-distributor.js'

const OPERATIONS = ['create', 'update', 'delete'] as const
const ERROR_OPERATIONS = ['create', 'update', 'delete', 'get-source', 'list'] as const

export function registerDistributionMetrics (registry: Registry, status: () => DistributionStatus): void {
  const registers = [registry]
  const read = (): DistributionStatus | undefined => {
    try { return status() } catch { return undefined }
  }
  new Gauge({
    name: 'pullguard_distribution_leader',
    help: '1 on the replica that writes the distributed Secret copies (it holds the Lease pullguard-secret-distribution), else 0.',
    registers,
    collect () { this.set(read()?.leading === true ? 1 : 0) },
  })
  new Gauge({
    name: 'pullguard_distribution_copies',
    help: 'Copies that belong in a namespace, by state as the leader last saw them: current, outdated (rotation not written yet), pending (not created yet), ' +
      'unmanaged (a Secret of that name pullguard does not manage: conflict, left alone), source-missing, source-invalid, source-conflict (two sources), unknown. Leader only.',
    labelNames: ['state'] as const,
    registers,
    collect () {
      this.reset()
      const copies = read()?.copies
      if (copies !== undefined) for (const state of COPY_STATES) this.set({ state }, copies[state])
    },
  })
  new Gauge({
    name: 'pullguard_distribution_source_problems',
    help: 'Distributed Secrets whose source is missing or not a pull Secret, by registries[] entry and problem (missing, not-a-pull-secret). Leader only.',
    labelNames: ['entry', 'problem'] as const,
    registers,
    collect () {
      this.reset()
      for (const p of read()?.sourceProblems ?? []) this.inc({ entry: String(p.entry), problem: p.problem })
    },
  })
  new Counter({
    name: 'pullguard_distribution_writes_total',
    help: 'Secret copies created, updated and deleted by this replica.',
    labelNames: ['operation'] as const,
    registers,
    collect () {
      this.reset()
      const writes = read()?.writes
      for (const operation of OPERATIONS) this.inc({ operation }, writes?.[operation] ?? 0)
    },
  })
  new Counter({
    name: 'pullguard_distribution_sync_errors_total',
    help: 'Failed API calls of secret distribution, by operation (create, update, delete, get-source, list); a 409 Conflict counts and is retried.',
    labelNames: ['operation'] as const,
    registers,
    collect () {
      this.reset()
      const errors = read()?.errors
      for (const operation of ERROR_OPERATIONS) this.inc({ operation }, errors?.[operation] ?? 0)
    },
  })
}
