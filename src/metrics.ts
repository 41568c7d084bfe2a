/**
 * Prometheus metrics, on a Registry of their own (never prom-client's global
 * default), so every app and every test has a private set. The metrics are
 * declared in one table (metrics/table.ts); their label vocabularies and the
 * bounding of every value live in metrics/vocabulary.ts; what an answered
 * review records is metrics/admission-recording.ts. No metric carries config
 * contents (registry names, Secret names).
 *
 * The handles never throw: a metric is not worth failing an admission for.
 * On the admission path they cost one Map lookup and one addition per
 * series: counters are kept as plain numbers and handed to prom-client at
 * scrape time (metrics/pending-counts.ts), because prom-client hashes the
 * label object on every call, even through a label child; only the duration
 * histogram is observed directly, through a child made once.
 */
import { collectDefaultMetrics, Registry } from 'prom-client'
import { pendingCounts } from './metrics/pending-counts.js'
import { declare, METRICS } from './metrics/table.js'
import {
  bounded, CERTIFICATES, DECISIONS, ENDPOINTS, entryLabel, INFORMER_RESOURCES, operationLabel, OTHER, POLICY_FIELDS, RELOAD_RESULTS,
  SECRET_SOURCES, WARNING_REASONS, WEBHOOKS,
  type AdmissionDecision, type CertificateKind, type Endpoint, type InformerResource, type PolicyField, type ReloadResult,
  type SecretSource, type WarningReason, type Webhook,
} from './metrics/vocabulary.js'

export {
  CERTIFICATES, DECISIONS, ENDPOINTS, INFORMER_RESOURCES, OPERATIONS, OTHER, POLICY_FIELDS, RELOAD_RESULTS, SECRET_SOURCES,
  WARNING_REASONS, WEBHOOKS, operationLabel,
  type AdmissionDecision, type CertificateKind, type Endpoint, type InformerResource, type PolicyField, type ReloadResult,
  type SecretSource, type WarningReason, type Webhook,
} from './metrics/vocabulary.js'
export { DURATION_BUCKETS } from './metrics/table.js'

export interface AdmissionLabels {
  readonly endpoint: Endpoint
  /** `CREATE`, or `UPDATE/ephemeralcontainers`; or give the subresource apart. */
  readonly operation: string
  readonly subResource?: string | undefined
  readonly decision: AdmissionDecision
}

export interface InformerStatus {
  readonly resource: InformerResource
  readonly synced: boolean
  /** Date.now() of the last list or watch event; undefined if none yet. */
  readonly lastUpdated: number | undefined
  /** Lists after the first (each one a 410 Gone); counts since start. */
  readonly relists?: number
  /** Watches started again from a resourceVersion; counts since start. */
  readonly watchRestarts?: number
}

/** Asked at every scrape, so staleness is as of the scrape. */
export type InformerSource = () => Iterable<InformerStatus>

export interface ReloadCounter {
  inc (result: ReloadResult): void
}

export interface Metrics {
  readonly registry: Registry
  /**
   * What to call as soon as a request reaches a webhook's endpoint, before
   * its body is read (so malformed reviews count too). Get it once, when the
   * route is registered: its series are bound at creation, and a call is
   * one addition and one Map write (both reach prom-client at scrape time).
   */
  reviewReceiver (webhook: Webhook): () => void
  readonly admissionRequests: { inc (labels: AdmissionLabels): void }
  readonly admissionDuration: {
    observe (endpoint: Endpoint, seconds: number): void
    /** Call the returned function when the answer is sent. */
    startTimer (endpoint: Endpoint): () => void
  }
  /** `entry` is the registries[] index for `config`; ignored for `discovery`. */
  readonly secretsInjected: { inc (source: SecretSource, entry?: number, count?: number): void }
  readonly pullPoliciesForced: { inc (field: PolicyField, count?: number): void }
  readonly denials: { inc (endpoint: Endpoint): void }
  readonly warnings: { inc (reason: WarningReason, count?: number): void }
  readonly configReloads: ReloadCounter
  readonly certificateReloads: ReloadCounter
  /** Where the informer gauges come from; undefined: no informers. */
  setInformerSource (source: InformerSource | undefined): void
  /** Where the certificate expiry gauge comes from, asked at every scrape. */
  setCertificateSource (source: CertificateSource | undefined): void
}

export type CertificateSource = () => Partial<Record<CertificateKind, Date>>

export interface BuildInfo {
  readonly version: string
}

export interface MetricsOptions {
  /** process_* and nodejs_* metrics (prom-client's defaults). Default true. */
  readonly defaultMetrics?: boolean
  readonly informers?: InformerSource | undefined
  /** The clock for staleness and the last-review time, for tests. */
  readonly now?: () => number
  /** pullguard_build_info's version label; the Node version is this process's. */
  readonly build?: BuildInfo
  readonly certificates?: CertificateSource | undefined
}

export function createMetrics (options: MetricsOptions = {}): Metrics {
  const registry = new Registry()
  const now = options.now ?? Date.now
  let informers = options.informers
  let certificates = options.certificates

  // The admission path's counters: plain numbers, added to prom-client at
  // scrape time (metrics/pending-counts.ts).
  const receivedCounts = pendingCounts(METRICS.reviewsReceived.labels)
  const requestCounts = pendingCounts(METRICS.requests.labels)
  const secretCounts = pendingCounts(METRICS.secretsInjected.labels)
  const forcedCounts = pendingCounts(METRICS.policiesForced.labels)
  const denialCounts = pendingCounts(METRICS.denials.labels)
  const warningCounts = pendingCounts(METRICS.warnings.labels)
  const received = declare(registry, METRICS.reviewsReceived, function () { receivedCounts.flush(this) })
  // The last review's time, kept as a number and read at scrape time: a
  // gauge set per review would hash its labels per review.
  const lastSeen = new Map<string, number>()
  const lastReview = declare(registry, METRICS.lastReview, function () {
    for (const [webhook, seconds] of lastSeen) this.set({ webhook }, seconds)
  })
  declare(registry, METRICS.requests, function () { requestCounts.flush(this) })
  const duration = declare(registry, METRICS.duration)
  declare(registry, METRICS.secretsInjected, function () { secretCounts.flush(this) })
  declare(registry, METRICS.policiesForced, function () { forcedCounts.flush(this) })
  const denials = declare(registry, METRICS.denials, function () { denialCounts.flush(this) })
  declare(registry, METRICS.warnings, function () { warningCounts.flush(this) })
  const configReloads = declare(registry, METRICS.configReloads)
  const certificateReloads = declare(registry, METRICS.certificateReloads)
  declare(registry, METRICS.buildInfo).set({ version: options.build?.version ?? 'unknown', node: process.version }, 1)
  declare(registry, METRICS.certificateExpiry, function () {
    this.reset()
    let known: Partial<Record<CertificateKind, Date>> = {}
    try { known = certificates?.() ?? {} } catch { /* a metric is not worth failing a scrape for */ }
    for (const kind of CERTIFICATES) {
      const date = known[kind]
      if (date !== undefined && Number.isFinite(date.getTime())) this.set({ certificate: kind }, date.getTime() / 1000)
    }
  })
  const configGood = declare(registry, METRICS.configGood)
  const configGoodAt = declare(registry, METRICS.configGoodAt)
  configGood.set(1)
  configGoodAt.set(now() / 1000)
  declare(registry, METRICS.informerSynced, function () {
    this.reset()
    for (const s of informerStatuses(informers)) this.set({ resource: s.resource }, s.synced ? 1 : 0)
  })
  declare(registry, METRICS.informerStaleness, function () {
    this.reset()
    const at = now()
    for (const s of informerStatuses(informers)) {
      const last = s.lastUpdated
      this.set({ resource: s.resource }, typeof last === 'number' && Number.isFinite(last) ? Math.max(0, (at - last) / 1000) : Infinity)
    }
  })
  declare(registry, METRICS.informerRelists, function () {
    this.reset()
    for (const s of informerStatuses(informers)) this.inc({ resource: s.resource }, countOf(s.relists))
  })
  declare(registry, METRICS.informerWatchRestarts, function () {
    this.reset()
    for (const s of informerStatuses(informers)) this.inc({ resource: s.resource }, countOf(s.watchRestarts))
  })

  // Zero series for the small, fixed sets, so rate() and alerts on them work
  // from the first scrape instead of from the first event.
  for (const result of RELOAD_RESULTS) {
    configReloads.inc({ result }, 0)
    certificateReloads.inc({ result }, 0)
  }
  for (const endpoint of ENDPOINTS) denials.inc({ endpoint }, 0)
  // The last-review gauge starts at 0, not absent: `time() - value` is then
  // huge until the first review, so "no review for 10 minutes" holds from
  // start-up on, and the alert needs absent() only for a pullguard that is
  // not scraped at all.
  for (const webhook of WEBHOOKS) {
    received.inc({ webhook }, 0)
    lastReview.set({ webhook }, 0)
  }
  const receivers = new Map<string, () => void>()
  for (const webhook of [...WEBHOOKS, OTHER]) {
    const count = receivedCounts.series(webhook)
    receivers.set(webhook, () => {
      count.inc()
      lastSeen.set(webhook, now() / 1000)
    })
  }

  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry })

  // Label children by their (already bounded) values, made on first use.
  const durationChildren = children((endpoint) => duration.labels(endpoint))

  function observeDuration (endpoint: Endpoint, seconds: number): void {
    if (Number.isFinite(seconds) && seconds >= 0) durationChildren(bounded(endpoint, ENDPOINTS)).observe(seconds)
  }

  return {
    registry,
    reviewReceiver (webhook) {
      return receivers.get(bounded(webhook, WEBHOOKS)) ?? noop
    },
    admissionRequests: {
      inc (labels) {
        // Label order as METRICS.requests declares them: endpoint, operation, decision.
        const key = `${bounded(labels.endpoint, ENDPOINTS)}\n${operationLabel(labels.operation, labels.subResource)}\n${bounded(labels.decision, DECISIONS)}`
        requestCounts.series(key).inc()
      },
    },
    admissionDuration: {
      observe: observeDuration,
      startTimer (endpoint) {
        const started = process.hrtime.bigint()
        return () => observeDuration(endpoint, Number(process.hrtime.bigint() - started) / 1e9)
      },
    },
    secretsInjected: {
      inc (source, entry, count = 1) {
        if (!countable(count)) return
        const s = bounded(source, SECRET_SOURCES)
        secretCounts.series(`${s}\n${s === 'config' ? entryLabel(entry) : ''}`).inc(count)
      },
    },
    pullPoliciesForced: {
      inc (field, count = 1) {
        if (countable(count)) forcedCounts.series(bounded(field, POLICY_FIELDS)).inc(count)
      },
    },
    denials: {
      inc (endpoint) { denialCounts.series(bounded(endpoint, ENDPOINTS)).inc() },
    },
    warnings: {
      inc (reason, count = 1) {
        if (countable(count)) warningCounts.series(bounded(reason, WARNING_REASONS)).inc(count)
      },
    },
    configReloads: {
      inc (result) {
        const r = bounded(result, RELOAD_RESULTS)
        configReloads.inc({ result: r })
        if (r === 'success') configGoodAt.set(now() / 1000)
        configGood.set(r === 'success' ? 1 : 0)
      },
    },
    certificateReloads: { inc (result) { certificateReloads.inc({ result: bounded(result, RELOAD_RESULTS) }) } },
    setInformerSource (source) { informers = source },
    setCertificateSource (source) { certificates = source },
  }
}

/**
 * A cache of label children. Keys are bounded label values, so it holds at
 * most as many entries as the metric has series.
 */
function children<C> (make: (key: string) => C): (key: string) => C {
  const made = new Map<string, C>()
  return (key) => {
    let child = made.get(key)
    if (child === undefined) {
      child = make(key)
      made.set(key, child)
    }
    return child
  }
}

function noop (): void {}

/** A count from an informer: a finite non-negative number, else 0. */
function countOf (value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : 0
}

function countable (count: number): boolean {
  return Number.isFinite(count) && count > 0
}

/** The source's answer, filtered to known resources; a source that throws
 * yields nothing rather than failing the whole scrape. */
function informerStatuses (source: InformerSource | undefined): InformerStatus[] {
  if (source === undefined) return []
  const out = new Map<string, InformerStatus>()
  try {
    for (const s of source()) {
      if (bounded(s.resource, INFORMER_RESOURCES) === OTHER) continue
      out.set(s.resource, s)
    }
  } catch {
    return []
  }
  return [...out.values()]
}
