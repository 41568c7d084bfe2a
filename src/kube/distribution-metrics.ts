/**
 * Secret distribution's metrics, read from the distributor's status at every
 * scrape and registered on pullguard's registry (src/metrics.ts); declared
 * in the metrics table (metrics/table.ts, DISTRIBUTION_METRICS). Label
 * values are fixed sets and config entry indexes: never a namespace, a
 * Secret name, a hash or anything from a Secret's data.
 *
 * The copy and source gauges come from the leader's last plan: a follower
 * exports none of them (it writes nothing and plans nothing), so `sum` over
 * replicas counts each copy once. The leader gauge is on every replica.
 */
import type { Registry } from 'prom-client'
import { COPY_STATES } from '../distribution/plan.js'
import { declare, DISTRIBUTION_METRICS as M } from '../metrics/table.js'
import type { DistributionStatus } from './secret-distributor.js'

const OPERATIONS = ['create', 'update', 'delete'] as const
const ERROR_OPERATIONS = ['create', 'update', 'delete', 'get-source', 'list'] as const

export function registerDistributionMetrics (registry: Registry, status: () => DistributionStatus): void {
  const read = (): DistributionStatus | undefined => {
    try { return status() } catch { return undefined }
  }
  declare(registry, M.leader, function () { this.set(read()?.leading === true ? 1 : 0) })
  declare(registry, M.copies, function () {
    this.reset()
    const copies = read()?.copies
    if (copies !== undefined) for (const state of COPY_STATES) this.set({ state }, copies[state])
  })
  declare(registry, M.sourceProblems, function () {
    this.reset()
    for (const p of read()?.sourceProblems ?? []) this.inc({ entry: String(p.entry), problem: p.problem })
  })
  declare(registry, M.writes, function () {
    this.reset()
    const writes = read()?.writes
    for (const operation of OPERATIONS) this.inc({ operation }, writes?.[operation] ?? 0)
  })
  declare(registry, M.syncErrors, function () {
    this.reset()
    const errors = read()?.errors
    for (const operation of ERROR_OPERATIONS) this.inc({ operation }, errors?.[operation] ?? 0)
  })
}
