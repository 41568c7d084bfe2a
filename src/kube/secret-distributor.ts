/**
 * Secret distribution: for every `registries[].secrets[]` given with `from`,
 * keep a copy of the source Secret in every namespace where its entry
 * applies (config/distribution.ts), current within seconds of a rotation,
 * and nowhere else.
 *
 * A controller loop in the webhook's process, outside the admission path:
 * admission only reads what the watches saw (DistributionView) and never
 * writes, so the webhook keeps `sideEffects: None`.
 *
 * - Every replica watches the copies' names and the sources (secret-watches.ts),
 *   so any replica can tell admission and /preview whether a copy exists.
 * - One replica writes: the holder of the Lease pullguard-secret-distribution
 *   (leader-lease.ts, client-go's rules), checked again before every write.
 *   A round runs every retry period (2 s), and on the leader also 200 ms
 *   after any change its watches see; the leader plans from the config, the
 *   namespaces (the informers' view) and the watches (distribution/plan.ts)
 *   and writes what differs. Because the plan is made from the live view at
 *   every round, a copy deleted or edited by hand is restored at the next
 *   one; the managed copies of names no entry distributes any more (a config
 *   reload dropped the entry) are found by a labelled list when leadership
 *   starts, after every config change and every gcIntervalMs.
 * - Writes are paced (write-pacing.ts: 10/s, burst 20) and conditional
 *   (secret-copies.ts); a write that fails (a 409 Conflict, the namespace
 *   refusing) is retried with exponential backoff per object.
 * - Nothing is decided before the namespaces and every watch have listed:
 *   a partial view would delete copies that belong.
 *
 * Problems are logged once each, until they go away: a source that is
 * missing or not a pull Secret, a Secret of a copy's name that pullguard does
 * not manage, two sources for one name in a namespace, RBAC refusing.
 * Logs name Secrets and entries, never data or hashes.
 *
 * Over 300 lines, one closure on purpose: a round's steps (the Lease, the
 * plan, the paced writes, the search for orphaned copies) share the leader
 * state, the backoff and the counters status() reports, and read in the
 * order they run. Every part that stands alone lives beside it:
 * distribution/plan.ts, secret-copies.ts, secret-watches.ts,
 * write-pacing.ts, distribution-problems.ts, leader-lease.ts.
 */
import { randomUUID } from 'node:crypto'
import { hostname } from 'node:os'
import { CoordinationV1Api, type KubeConfig } from '@kubernetes/client-node'
import type { Logger } from 'pino'
import type { NamespaceInfo } from '../cluster/types.js'
import type { Config } from '../config/compile.js'
import type { Distribution } from '../config/distribution.js'
import { PullguardError } from '../errors.js'
import type { ObservedSecret } from '../distribution/copy.js'
import type { DistributionView } from '../distribution/observation.js'
import { planDistribution, type CopyAction, type CopyState, type DistributionPlan } from '../distribution/plan.js'
import { leaseFailure, ProblemLog } from './distribution-problems.js'
import { LeaderLease } from './leader-lease.js'
import { CopyApiError, SecretCopies, type CopyOperation, type SourceReads } from './secret-copies.js'
import { SecretWatches } from './secret-watches.js'
import { Backoff, TokenBucket } from './write-pacing.js'

/** The Lease (manifests/components/secret-distribution: the Role's resourceNames). */
export const DISTRIBUTION_LEASE = 'pullguard-secret-distribution'

const DEFAULTS = {
  retryPeriodMs: 2_000,
  kickDelayMs: 200,
  gcIntervalMs: 600_000,
  backoffInitialMs: 1_000,
  backoffMaxMs: 300_000,
  writesPerSecond: 10,
  writeBurst: 20,
}
const JITTER = 0.2

export interface SecretDistributorOptions {
  readonly kubeConfig: KubeConfig
  /** Where the Lease lives: pullguard's namespace. */
  readonly namespace: string
  readonly leaseName?: string
  /** Unique per replica; default hostname (the pod name) + '_' + a UUID, as client-go. */
  readonly identity?: string
  readonly config: () => Config
  /** Every namespace with its labels; undefined until the namespace informer has listed. */
  readonly namespaces: () => Iterable<NamespaceInfo> | undefined
  readonly log: Logger
  readonly timings?: Partial<typeof DEFAULTS> & { leaseDurationSeconds?: number, renewDeadlineMs?: number }
  /** The watches' reconnect backoff (tests shorten it). */
  readonly watchBackoff?: { readonly initialMs: number, readonly maxMs: number }
  readonly now?: () => Date
}

type WriteCounts = Readonly<Record<'create' | 'update' | 'delete', number>>

export interface DistributionStatus {
  readonly leading: boolean
  readonly holder: string | undefined
  /** Why the last round failed as a whole (RBAC, the Lease); undefined when it did not. */
  readonly lastError: string | undefined
  /** Every copy that belongs somewhere, by state, as the leader last planned; undefined on a follower. */
  readonly copies: Readonly<Record<CopyState, number>> | undefined
  /** Entries whose source is missing or not a pull Secret (leader only). */
  readonly sourceProblems: DistributionPlan['sourceProblems']
  /** Writes the leader's last plan called for (0: everything as it should be, or a follower). */
  readonly planned: number
  /** Successful writes by this replica since it started. */
  readonly writes: WriteCounts
  /** Failed API calls by this replica since it started. */
  readonly errors: Readonly<Record<CopyOperation, number>>
}

export interface SecretDistributor {
  /** What the watches see, for admission and /preview. */
  readonly view: DistributionView
  /** One round now, after any running one; never rejects. */
  sync (): Promise<void>
  status (): DistributionStatus
  /** Stops the loop and the watches, and hands the Lease back. */
  stop (): Promise<void>
}

/** A failure that ends a round, worded for the operator (status() and one log line). */
class RoundError extends PullguardError {
  constructor (message: string) {
    super('PG_DISTRIBUTION_ROUND_FAILED', message)
    this.name = 'RoundError'
  }
}

export function startSecretDistributor (options: SecretDistributorOptions): SecretDistributor {
  const t = { ...DEFAULTS, ...options.timings }
  const now = options.now ?? (() => new Date())
  const leaseName = options.leaseName ?? DISTRIBUTION_LEASE
  const log = options.log.child({ component: 'secret-distribution' })
  const copies = new SecretCopies(options.kubeConfig)
  const lease = new LeaderLease({
    api: options.kubeConfig.makeApiClient(CoordinationV1Api),
    namespace: options.namespace,
    name: leaseName,
    identity: options.identity ?? `${hostname()}_${randomUUID()}`,
    leaseDurationSeconds: options.timings?.leaseDurationSeconds,
    renewDeadlineMs: options.timings?.renewDeadlineMs,
    now,
  })
  const bucket = new TokenBucket(t.writesPerSecond, t.writeBurst)
  const backoff = new Backoff(t.backoffInitialMs, t.backoffMaxMs)
  // Only the leader acts on a change at once; followers keep their round.
  const watches = new SecretWatches({ kubeConfig: options.kubeConfig, log, onChange: () => { if (leading) kick(t.kickDelayMs) }, ...(options.watchBackoff === undefined ? {} : { backoff: options.watchBackoff }) })
  // A round soon after a change need not renew the Lease again (a write to the API server): client-go renews once per retry period.
  const renewEveryMs = Math.min(t.retryPeriodMs, DEFAULTS.retryPeriodMs)
  let steppedAt: number | undefined
  /** Why the last Lease step failed; kept until the next step. */
  let leaseError: string | undefined

  let distribution: Distribution | undefined
  let leading = false
  let lastError: string | undefined
  let plan: DistributionPlan | undefined
  let gcDueAt = 0
  let orphans = new Map<string, ObservedSecret>()
  let waiting = false
  const problems = new ProblemLog(log)
  const writes = { create: 0, update: 0, delete: 0 }
  const errors: Record<CopyOperation, number> = { create: 0, update: 0, delete: 0, 'get-source': 0, list: 0 }

  const follow = (config: Config): void => {
    if (config.distribution === distribution) return
    distribution = config.distribution
    watches.update(distribution)
    gcDueAt = 0 // names may have been dropped: look for their copies
  }
  follow(options.config())

  const fail = (message: string): void => {
    if (lastError !== message) log.error({ error: message }, 'secret distribution failing; existing copies stay as they are')
    lastError = message
  }

  /** The round's outcome: an error is logged once until it changes; none clears it. */
  const settle = (error: string | undefined): void => {
    if (error !== undefined) fail(error)
    else lastError = undefined
  }

  /** Steps the Lease: every round while following, every renewEveryMs while leading. */
  const stepLease = async (): Promise<void> => {
    const started = now().getTime()
    if (leading && steppedAt !== undefined && started - steppedAt < renewEveryMs) return
    const step = await lease.step()
    steppedAt = started
    leaseError = !step.leading && step.error !== undefined ? leaseFailure(options.namespace, leaseName, step.error.code, step.error.message) : undefined
  }

  /** Not leading: forget the plan and the orphans, so a new term starts from a fresh list. */
  const standDown = (): void => {
    plan = undefined
    orphans = new Map()
    gcDueAt = 0
    settle(leaseError)
  }

  const round = async (): Promise<void> => {
    follow(options.config())
    await stepLease()
    const wasLeading = leading
    leading = lease.isLeader()
    if (leading !== wasLeading) log.info({ holder: lease.holder() }, leading ? 'leading: this replica writes the distributed Secret copies' : 'no longer leading secret distribution')
    if (!leading) {
      standDown()
      return
    }
    const namespaces = options.namespaces()
    if (namespaces === undefined || !watches.synced() || distribution === undefined) {
      if (!waiting) log.info('waiting for the namespaces and the Secret watches to list before distributing')
      waiting = true
      return
    }
    waiting = false
    const at = now().getTime()
    // A failed list only delays removing copies of dropped names; the rest goes on.
    const listError = at >= gcDueAt ? await collectOrphans(at) : undefined
    plan = planDistribution(distribution, namespaces, watches, [...watches.managed(), ...orphans.values()])
    problems.report(plan.problems, distribution)
    const wanted = new Set(plan.actions.map(keyOf))
    backoff.retain((key) => wanted.has(key))
    const more = await execute(plan.actions)
    settle(leaseError ?? listError)
    if (more) kick(bucket.wait())
  }

  /** Lists the managed copies of names no longer watched; returns why it failed, if it did. */
  const collectOrphans = async (at: number): Promise<string | undefined> => {
    try {
      const names = watches.names()
      orphans = new Map((await copies.listManaged()).filter((c) => !names.has(c.name)).map((c) => [keyOf(c), c]))
      gcDueAt = at + t.gcIntervalMs
      return undefined
    } catch (err) {
      errors.list++
      gcDueAt = at + t.retryPeriodMs * 5
      return err instanceof CopyApiError ? err.message : 'cannot list the managed Secret copies'
    }
  }

  /** Writes what the bucket allows; true when some work was left for later. */
  const execute = async (actions: readonly CopyAction[]): Promise<boolean> => {
    const reads: SourceReads = new Map()
    try {
      for (const action of actions) {
        const key = keyOf(action)
        const at = now().getTime()
        if (backoff.blocked(key, at)) continue
        if (!lease.isLeader()) return false
        if (!bucket.take(at)) return true
        try {
          if (await perform(action, reads) === 'written') writes[action.kind]++
          backoff.succeed(key)
          if (action.kind === 'delete') orphans.delete(key)
        } catch (err) {
          if (!(err instanceof CopyApiError)) throw err
          errors[err.operation]++
          const retryInMs = Math.round(backoff.fail(key, at))
          // RBAC refuses every write alike: one message, and no point in trying the rest now
          // (this object waits its backoff, so the next round starts with another).
          if (err.forbidden) throw new RoundError(`${err.message} (the secret-distribution component grants create, update and delete on secrets)`)
          const line = { secret: key, operation: err.operation, retryInMs, error: err.message }
          if (err.conflict) log.info(line, 'the Secret changed while pullguard wrote it; retrying')
          else log.warn(line, 'cannot write a Secret copy; retrying')
        }
      }
      return false
    } finally {
      reads.clear() // the sources' data goes here, and only for this round
    }
  }

  const perform = async (action: CopyAction, reads: SourceReads): Promise<'written' | 'skipped'> => {
    if (action.kind === 'delete') {
      const outcome = await copies.delete(action.current)
      if (outcome === 'written') log.info({ secret: keyOf(action), why: action.why }, 'Secret copy deleted')
      return outcome
    }
    const source = await copies.source(action.from, reads)
    if (source === undefined) return 'skipped' // gone or retyped since the watch saw it: the next round knows
    const outcome = action.kind === 'create'
      ? await copies.create(action, action.from, source)
      : await copies.update(action, action.from, source)
    if (outcome === 'written') log.info({ secret: keyOf(action), from: `${action.from.namespace}/${action.from.name}` }, action.kind === 'create' ? 'Secret copy created' : 'Secret copy updated')
    return outcome
  }

  let chain: Promise<void> = Promise.resolve()
  const sync = async (): Promise<void> => {
    const run = chain.then(async () => {
      try {
        await round()
      } catch (err) {
        fail(err instanceof RoundError || err instanceof CopyApiError ? err.message : 'unexpected error in secret distribution')
        if (!(err instanceof RoundError || err instanceof CopyApiError)) log.error({ err }, 'secret distribution round failed')
      }
    })
    chain = run
    await run
  }

  let stopped = false
  let timer: NodeJS.Timeout | undefined
  let due = Infinity
  /** The next round in `ms` (or at its regular time, if that is sooner). */
  function kick (ms: number): void {
    if (stopped) return
    const at = Date.now() + ms
    if (at >= due) return
    clearTimeout(timer)
    due = at
    timer = setTimeout(() => {
      due = Infinity
      void sync().then(() => kick(Math.round(t.retryPeriodMs * (1 + Math.random() * JITTER))))
    }, ms)
    timer.unref()
  }
  kick(Math.round(t.retryPeriodMs * (1 + Math.random() * JITTER)))

  return {
    view: watches,
    sync,
    status: () => ({
      leading: lease.isLeader(),
      holder: lease.holder(),
      lastError,
      copies: leading ? plan?.copies : undefined,
      sourceProblems: leading ? plan?.sourceProblems ?? [] : [],
      planned: leading ? plan?.actions.length ?? 0 : 0,
      writes: { ...writes },
      errors: { ...errors },
    }),
    stop: async () => {
      stopped = true
      clearTimeout(timer)
      await chain
      await watches.stop()
      try {
        await lease.release()
      } catch {
        // The Lease then expires on its own.
      }
    },
  }
}

function keyOf (x: { namespace: string, name: string }): string {
  return `${x.namespace}/${x.name}`
}
