/**
 * Leader election over a coordination.k8s.io/v1 Lease, as client-go's
 * tools/leaderelection does it (leaderelection.go tryAcquireOrRenew and
 * release, resourcelock/leaselock.go), so that exactly one pullguard replica
 * writes a shared object at a time.
 *
 * One step (tryAcquireOrRenew), called every retry period:
 * - the leader first renews optimistically with the Lease it last saw;
 * - otherwise get the Lease; create it if absent (409 AlreadyExists: someone
 *   was first, so not us this time);
 * - a Lease held by another identity is respected until leaseDurationSeconds
 *   have passed on OUR clock since we last saw its record change (client-go's
 *   observedTime): renewTime is never compared across machines, so clock
 *   skew between replicas does not matter;
 * - take it over or renew it with an update carrying the resourceVersion it
 *   was read at (409 Conflict: someone else wrote first). acquireTime and
 *   leaseTransitions are kept on a renewal; a takeover sets acquireTime and
 *   counts a transition.
 * A replica leads while its last successful step is younger than the renew
 * deadline, which is shorter than the lease duration: it stops before any
 * other replica may take over. release() hands the Lease back on shutdown
 * (holder cleared, leaseDurationSeconds 1), as client-go's ReleaseOnCancel.
 *
 * Times are metav1.MicroTime: the API server only decodes exactly six
 * fraction digits, which is what client-node's V1MicroTime writes.
 */
import { V1MicroTime, type CoordinationV1Api, type V1Lease, type V1LeaseSpec } from '@kubernetes/client-node'
import { apiErrorOf, type ApiErrorInfo } from './api-error.js'

export interface LeaderLeaseOptions {
  readonly api: CoordinationV1Api
  readonly namespace: string
  readonly name: string
  /** Unique per replica: client-go uses hostname + '_' + a UUID. */
  readonly identity: string
  /** client-go default 15 s. */
  readonly leaseDurationSeconds?: number
  /** client-go default 10 s; must be shorter than the lease duration. */
  readonly renewDeadlineMs?: number
  readonly now?: () => Date
}

const DEFAULT_LEASE_DURATION_SECONDS = 15
const DEFAULT_RENEW_DEADLINE_MS = 10_000

export type LeaseStep =
  | { readonly leading: true }
  | { readonly leading: false, readonly holder: string | undefined, readonly error?: ApiErrorInfo }

export class LeaderLease {
  private readonly durationSeconds: number
  private readonly renewDeadlineMs: number
  private readonly now: () => Date
  private lease: V1Lease | undefined
  private observed: V1LeaseSpec | undefined
  private observedRaw = ''
  private observedAt = 0
  private renewedAt: number | undefined

  constructor (private readonly options: LeaderLeaseOptions) {
    this.durationSeconds = options.leaseDurationSeconds ?? DEFAULT_LEASE_DURATION_SECONDS
    this.renewDeadlineMs = options.renewDeadlineMs ?? DEFAULT_RENEW_DEADLINE_MS
    this.now = options.now ?? (() => new Date())
    if (!(this.renewDeadlineMs < this.durationSeconds * 1000)) {
      throw new RangeError(`renewDeadlineMs ${this.renewDeadlineMs} must be shorter than the lease duration (${this.durationSeconds} s)`)
    }
  }

  /** Leading now: the last successful step is younger than the renew deadline. */
  isLeader (): boolean {
    return this.holdsObserved() && this.renewedAt !== undefined && this.now().getTime() - this.renewedAt < this.renewDeadlineMs
  }

  /** Who holds the Lease, as last seen. */
  holder (): string | undefined {
    return this.observed?.holderIdentity === '' ? undefined : this.observed?.holderIdentity
  }

  /** One client-go tryAcquireOrRenew. Never rejects: API errors come back in the result. */
  async step (): Promise<LeaseStep> {
    const now = this.now()
    const desired: V1LeaseSpec = {
      holderIdentity: this.options.identity,
      leaseDurationSeconds: this.durationSeconds,
      acquireTime: new V1MicroTime(now.getTime()),
      renewTime: new V1MicroTime(now.getTime()),
      leaseTransitions: 0,
    }
    // 1. Fast path: the leader renews with the Lease it last wrote.
    if (this.holdsObserved() && this.valid(now) && this.lease !== undefined) {
      this.keepTerm(desired)
      if (await this.write(desired, now) === undefined) return { leading: true }
    }
    // 2. Read it, or create it.
    const current = await this.readOrCreate(desired, now)
    if ('leading' in current) return current
    // 3. A record that changed restarts our count of its duration.
    this.noteRecord(current, now)
    if (this.holder() !== undefined && this.valid(now) && !this.holdsObserved()) return { leading: false, holder: this.holder() }
    // 4. Renew (keeping acquireTime) or take over (a new term).
    if (this.holdsObserved()) {
      this.keepTerm(desired)
    } else {
      desired.leaseTransitions = (this.observed?.leaseTransitions ?? 0) + 1
    }
    const error = await this.write(desired, now)
    return error === undefined ? { leading: true } : this.lost(error)
  }

  /** Hands the Lease back if we hold it, so another replica need not wait for it to expire. */
  async release (): Promise<void> {
    if (!this.holdsObserved() || this.lease === undefined) return
    const now = this.now()
    const at = new V1MicroTime(now.getTime())
    await this.write({ holderIdentity: '', leaseDurationSeconds: 1, acquireTime: at, renewTime: at, leaseTransitions: this.observed?.leaseTransitions ?? 0 }, now)
    this.renewedAt = undefined
  }

  /** The Lease as the API server holds it; when there is none, the outcome of creating it (client-go: Get, then Create on NotFound). */
  private async readOrCreate (desired: V1LeaseSpec, now: Date): Promise<V1Lease | LeaseStep> {
    try {
      return await this.options.api.readNamespacedLease({ name: this.options.name, namespace: this.options.namespace })
    } catch (err) {
      const error = apiErrorOf(err)
      if (error.code !== 404) return this.lost(error)
    }
    try {
      this.lease = await this.options.api.createNamespacedLease({ namespace: this.options.namespace, body: this.body(desired) })
    } catch (createErr) {
      return this.lost(apiErrorOf(createErr))
    }
    this.observe(desired, now)
    this.renewedAt = now.getTime()
    return { leading: true }
  }

  /** Keeps the Lease just read; a record unlike the last one seen restarts observedAt (client-go's observedTime). */
  private noteRecord (current: V1Lease, now: Date): void {
    this.lease = current
    const raw = JSON.stringify(current.spec ?? {})
    if (raw !== this.observedRaw) {
      this.observed = current.spec ?? {}
      this.observedRaw = raw
      this.observedAt = now.getTime()
    }
  }

  /** A renewal keeps the term: the observed acquireTime and transition count. */
  private keepTerm (desired: V1LeaseSpec): void {
    desired.acquireTime = this.observed?.acquireTime
    desired.leaseTransitions = this.observed?.leaseTransitions ?? 0
  }

  private holdsObserved (): boolean {
    return this.observed?.holderIdentity === this.options.identity
  }

  private valid (now: Date): boolean {
    return this.observedAt + (this.observed?.leaseDurationSeconds ?? 0) * 1000 > now.getTime()
  }

  /** PUT with the resourceVersion last read; undefined on success. */
  private async write (spec: V1LeaseSpec, now: Date): Promise<ApiErrorInfo | undefined> {
    try {
      this.lease = await this.options.api.replaceNamespacedLease({ name: this.options.name, namespace: this.options.namespace, body: this.body(spec) })
    } catch (err) {
      return apiErrorOf(err)
    }
    this.observe(spec, now)
    if (spec.holderIdentity === this.options.identity) this.renewedAt = now.getTime()
    return undefined
  }

  private observe (spec: V1LeaseSpec, now: Date): void {
    this.observed = spec
    this.observedRaw = JSON.stringify(this.lease?.spec ?? spec)
    this.observedAt = now.getTime()
  }

  private lost (error: ApiErrorInfo): LeaseStep {
    return { leading: false, holder: this.holder(), error }
  }

  private body (spec: V1LeaseSpec): V1Lease {
    return {
      ...this.lease,
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { ...this.lease?.metadata, name: this.options.name, namespace: this.options.namespace, managedFields: undefined },
      spec,
    }
  }
}
