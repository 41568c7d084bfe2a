/**
 * Prometheus metrics, on a Registry of their own (never prom-client's global
 * default), so every app and every test has a private set.
 *
 * Every label value goes through a fixed allow-list before it reaches
 * prom-client: a time series exists per distinct label set, and a value taken
 * from a request (an operation, a subresource) could otherwise create series
 * without bound (https://prometheus.io/docs/practices/naming/#labels: "Do not
 * use labels to store dimensions with high cardinality"). Anything outside a
 * list is counted as `other`, so totals stay right. No metric carries config
 * contents (registry names, Secret names) for the same reason.
 *
 * The handles never throw: a metric is not worth failing an admission for.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import { WARNING_REASONS } from './admission/warnings.js'

export const OTHER = 'other'

export const ENDPOINTS = ['mutate', 'validate', 'preview'] as const
/**
 * The admission endpoints the API server calls, as the `webhook` label:
 * `mutate` is the MutatingWebhookConfiguration, `validate` the
 * ValidatingWebhookConfiguration of the validating-webhook component. Named
 * by endpoint because an AdmissionReview does not say which webhook sent it.
 */
export const WEBHOOKS = ['mutate', 'validate'] as const
export const OPERATIONS = ['CREATE', 'UPDATE', 'UPDATE/ephemeralcontainers', 'DELETE', 'CONNECT'] as const
export const DECISIONS = ['patched', 'allowed', 'skipped', 'denied', 'error'] as const
export const SECRET_SOURCES = ['config', 'discovery'] as const
export const POLICY_FIELDS = ['initContainers', 'containers', 'ephemeralContainers', 'volumes'] as const
/** Why a warning was returned (admission/warnings.ts); the text itself is never a label. */
export { WARNING_REASONS }
export const RELOAD_RESULTS = ['success', 'failure'] as const
/** The informers pullguard runs in cluster mode (kube/informers.ts). */
export const INFORMER_RESOURCES = ['namespaces', 'secrets/dockerconfigjson', 'secrets/dockercfg', 'serviceaccounts'] as const

export type Endpoint = typeof ENDPOINTS[number]
export type Webhook = typeof WEBHOOKS[number]
export type AdmissionDecision = typeof DECISIONS[number]
export type SecretSource = typeof SECRET_SOURCES[number]
export type PolicyField = typeof POLICY_FIELDS[number]
export type WarningReason = typeof WARNING_REASONS[number]
export type ReloadResult = typeof RELOAD_RESULTS[number]
export type InformerResource = typeof INFORMER_RESOURCES[number]

/**
 * A webhook answers in well under a millisecond to a few milliseconds; the
 * API server gives it at most 30 s (timeoutSeconds) but a healthy one never
 * gets near 1 s. Buckets are dense where the answers are, so a p99 shift
 * from 1 ms to 5 ms is visible; slower ones land in +Inf.
 */
export const DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1]

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
   * route is registered: the label children are bound at creation, and a
   * call is one counter increment and one gauge set.
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

export const CERTIFICATES = ['serving', 'ca'] as const
export type CertificateKind = typeof CERTIFICATES[number]
/** notAfter of the certificates in use; a kind left out is not known (e.g. a CA pullguard was not given). */
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
  const registers = [registry]
  const now = options.now ?? Date.now
  let informers = options.informers
  let certificates = options.certificates

  // "Is the API server calling us at all?": a webhook that is never called
  // (an untrusted caBundle, a wrong Service, a namespaceSelector that matches
  // nothing) answers nothing wrong and looks healthy, and with
  // failurePolicy: Ignore the API server admits every pod unmutated. These two
  // series make the silence visible (the PullguardNotCalled alert,
  // manifests/components/monitoring).
  const received = new Counter({
    name: 'pullguard_admission_reviews_received_total',
    help: 'AdmissionReviews received, counted on arrival (malformed ones too), by endpoint: webhook="mutate" is the MutatingWebhookConfiguration, "validate" the ValidatingWebhookConfiguration (a review does not name its webhook).',
    labelNames: ['webhook'] as const,
    registers,
  })
  const lastReview = new Gauge({
    name: 'pullguard_admission_last_review_timestamp_seconds',
    help: 'Unix time of the last AdmissionReview received, by webhook endpoint (mutate, validate); 0 until the first one.',
    labelNames: ['webhook'] as const,
    registers,
  })
  const requests = new Counter({
    name: 'pullguard_admission_requests_total',
    help: 'Admission requests answered, by endpoint, operation and decision.',
    labelNames: ['endpoint', 'operation', 'decision'] as const,
    registers,
  })
  const duration = new Histogram({
    name: 'pullguard_admission_duration_seconds',
    help: 'Time from request to answer, by endpoint.',
    labelNames: ['endpoint'] as const,
    buckets: DURATION_BUCKETS,
    registers,
  })
  const secrets = new Counter({
    name: 'pullguard_secrets_injected_total',
    help: 'imagePullSecrets added to pods, by where the rule came from (entry: registries[] index for config).',
    labelNames: ['source', 'entry'] as const,
    registers,
  })
  const forced = new Counter({
    name: 'pullguard_pull_policies_forced_total',
    help: 'Pull policies set to Always, by pod spec field.',
    labelNames: ['field'] as const,
    registers,
  })
  const denials = new Counter({
    name: 'pullguard_denials_total',
    help: 'Admission requests denied, by endpoint.',
    labelNames: ['endpoint'] as const,
    registers,
  })
  const warnings = new Counter({
    name: 'pullguard_warnings_total',
    help: 'Admission warnings returned, by reason.',
    labelNames: ['reason'] as const,
    registers,
  })
  const configReloads = new Counter({
    name: 'pullguard_config_reloads_total',
    help: 'Config file reloads, by result (a failure keeps the last good config).',
    labelNames: ['result'] as const,
    registers,
  })
  const certificateReloads = new Counter({
    name: 'pullguard_certificate_reloads_total',
    help: 'Serving certificate reloads, by result (a failure keeps the old certificate).',
    labelNames: ['result'] as const,
    registers,
  })
  // Prometheus' own convention (prometheus_build_info): a constant 1, the
  // facts in labels, so `count by (version)` shows a rollout's progress.
  new Gauge({
    name: 'pullguard_build_info',
    help: 'Always 1; the labels say which pullguard version runs on which Node.js.',
    labelNames: ['version', 'node'] as const,
    registers,
  }).set({ version: options.build?.version ?? 'unknown', node: process.version }, 1)
  // An expiring certificate fails every handshake, and with failurePolicy:
  // Ignore every pod is then admitted unmutated: alert well before.
  new Gauge({
    name: 'pullguard_certificate_expiry_timestamp_seconds',
    help: 'notAfter of the certificate in use, as Unix time: certificate="serving" (what the webhook presents), "ca" (the CA the caBundle holds, when pullguard knows it).',
    labelNames: ['certificate'] as const,
    registers,
    collect () {
      this.reset()
      let known: Partial<Record<CertificateKind, Date>> = {}
      try { known = certificates?.() ?? {} } catch { /* a metric is not worth failing a scrape for */ }
      for (const kind of CERTIFICATES) {
        const date = known[kind]
        if (date !== undefined && Number.isFinite(date.getTime())) this.set({ certificate: kind }, date.getTime() / 1000)
      }
    },
  })
  // As prometheus_config_last_reload_successful: the config that runs is the
  // last good one; 0 means the file on disk was rejected and is NOT in effect.
  const configGood = new Gauge({
    name: 'pullguard_config_last_reload_successful',
    help: '1 when the last config load or reload succeeded, 0 when the file was rejected and the last good config keeps running.',
    registers,
  })
  const configGoodAt = new Gauge({
    name: 'pullguard_config_last_reload_success_timestamp_seconds',
    help: 'Unix time of the last successful config load (start-up) or reload.',
    registers,
  })
  configGood.set(1)
  configGoodAt.set(now() / 1000)
  new Gauge({
    name: 'pullguard_informer_synced',
    help: '1 when the informer has completed its initial list, else 0.',
    labelNames: ['resource'] as const,
    registers,
    collect () {
      this.reset()
      for (const s of informerStatuses(informers)) this.set({ resource: s.resource }, s.synced ? 1 : 0)
    },
  })
  new Gauge({
    name: 'pullguard_informer_staleness_seconds',
    help: 'Seconds since the informer last heard from the API server (+Inf: never).',
    labelNames: ['resource'] as const,
    registers,
    collect () {
      this.reset()
      const at = now()
      for (const s of informerStatuses(informers)) {
        const last = s.lastUpdated
        this.set({ resource: s.resource }, typeof last === 'number' && Number.isFinite(last) ? Math.max(0, (at - last) / 1000) : Infinity)
      }
    },
  })

  // Counters the informers keep themselves (kube/reflector.ts), read at
  // scrape time like the gauges above. A relist means a watch could not
  // resume (410 Gone: the API server's watch cache or etcd no longer had its
  // resourceVersion) and the whole resource was listed again; a watch
  // restart is routine (every watch ends after 5-10 minutes) unless its rate
  // climbs, which means the API server keeps dropping the connection.
  new Counter({
    name: 'pullguard_informer_relists_total',
    help: 'Complete lists of a resource after the first, each forced by a 410 Gone (the watch could not resume from its resourceVersion).',
    labelNames: ['resource'] as const,
    registers,
    collect () {
      this.reset()
      for (const s of informerStatuses(informers)) this.inc({ resource: s.resource }, countOf(s.relists))
    },
  })
  new Counter({
    name: 'pullguard_informer_watch_restarts_total',
    help: 'Watches of a resource started again from its last resourceVersion: after the API server ended one (timeoutSeconds, 5-10 min) or it failed.',
    labelNames: ['resource'] as const,
    registers,
    collect () {
      this.reset()
      for (const s of informerStatuses(informers)) this.inc({ resource: s.resource }, countOf(s.watchRestarts))
    },
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
    const count = received.labels(webhook)
    const last = lastReview.labels(webhook)
    receivers.set(webhook, () => {
      count.inc()
      last.set(now() / 1000)
    })
  }

  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry })

  function observeDuration (endpoint: Endpoint, seconds: number): void {
    if (Number.isFinite(seconds) && seconds >= 0) duration.observe({ endpoint: bounded(endpoint, ENDPOINTS) }, seconds)
  }

  return {
    registry,
    reviewReceiver (webhook) {
      return receivers.get(bounded(webhook, WEBHOOKS)) ?? noop
    },
    admissionRequests: {
      inc (labels) {
        requests.inc({
          endpoint: bounded(labels.endpoint, ENDPOINTS),
          operation: operationLabel(labels.operation, labels.subResource),
          decision: bounded(labels.decision, DECISIONS),
        })
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
        secrets.inc({ source: s, entry: s === 'config' ? entryLabel(entry) : '' }, count)
      },
    },
    pullPoliciesForced: {
      inc (field, count = 1) {
        if (countable(count)) forced.inc({ field: bounded(field, POLICY_FIELDS) }, count)
      },
    },
    denials: {
      inc (endpoint) { denials.inc({ endpoint: bounded(endpoint, ENDPOINTS) }) },
    },
    warnings: {
      inc (reason, count = 1) {
        if (countable(count)) warnings.inc({ reason: bounded(reason, WARNING_REASONS) }, count)
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
 * The operation label: `CREATE`, `UPDATE`, `UPDATE/ephemeralcontainers`,
 * `DELETE`, `CONNECT`, else `other` (the `status` and `binding`
 * subresources, operations a future API server may add, and garbage).
 */
export function operationLabel (operation: unknown, subResource?: unknown): string {
  if (typeof operation !== 'string') return OTHER
  const full = typeof subResource === 'string' && subResource !== '' ? `${operation}/${subResource}` : operation
  return bounded(full, OPERATIONS)
}

function bounded (value: unknown, allowed: readonly string[]): string {
  return typeof value === 'string' && allowed.includes(value) ? value : OTHER
}

/** registries[] indexes: bounded by the length of the operator's config. */
function entryLabel (entry: unknown): string {
  return typeof entry === 'number' && Number.isSafeInteger(entry) && entry >= 0 ? String(entry) : OTHER
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
