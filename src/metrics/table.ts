/**
 * Every metric pullguard exports, one row each: name, help, type and label
 * names, declared once here and registered by src/metrics.ts (and
 * kube/distribution-metrics.ts) through `declare`. Names follow
 * https://prometheus.io/docs/practices/naming/ (`pullguard_` prefix, base
 * units, `_total` on counters); no label carries config contents or anything
 * from a request beyond a bounded vocabulary (metrics/vocabulary.ts).
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client'

export type MetricType = 'counter' | 'gauge' | 'histogram'

export interface MetricRow {
  readonly name: string
  readonly help: string
  readonly type: MetricType
  readonly labels: readonly string[]
  /** Histograms only. */
  readonly buckets?: readonly number[]
}

/**
 * A webhook answers in well under a millisecond to a few milliseconds; the
 * API server gives it at most 30 s (timeoutSeconds) but a healthy one never
 * gets near 1 s. Buckets are dense where the answers are, so a p99 shift
 * from 1 ms to 5 ms is visible; slower ones land in +Inf.
 */
export const DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1]

export const METRICS = {
  // "Is the API server calling us at all?": a webhook that is never called
  // (an untrusted caBundle, a wrong Service, a namespaceSelector that matches
  // nothing) answers nothing wrong and looks healthy, and with
  // failurePolicy: Ignore the API server admits every pod unmutated. These two
  // series make the silence visible (the PullguardNotCalled alert,
  // manifests/components/monitoring).
  reviewsReceived: {
    name: 'pullguard_admission_reviews_received_total',
    help: 'AdmissionReviews received, counted on arrival (malformed ones too), by endpoint: webhook="mutate" is the MutatingWebhookConfiguration, "validate" the ValidatingWebhookConfiguration (a review does not name its webhook).',
    type: 'counter',
    labels: ['webhook'],
  },
  lastReview: {
    name: 'pullguard_admission_last_review_timestamp_seconds',
    help: 'Unix time of the last AdmissionReview received, by webhook endpoint (mutate, validate); 0 until the first one.',
    type: 'gauge',
    labels: ['webhook'],
  },
  requests: { name: 'pullguard_admission_requests_total', help: 'Admission requests answered, by endpoint, operation and decision.', type: 'counter', labels: ['endpoint', 'operation', 'decision'] },
  duration: { name: 'pullguard_admission_duration_seconds', help: 'Time from request to answer, by endpoint.', type: 'histogram', labels: ['endpoint'], buckets: DURATION_BUCKETS },
  secretsInjected: {
    name: 'pullguard_secrets_injected_total',
    help: 'imagePullSecrets added to pods, by where the rule came from (entry: registries[] index for config).',
    type: 'counter',
    labels: ['source', 'entry'],
  },
  policiesForced: { name: 'pullguard_pull_policies_forced_total', help: 'Pull policies set to Always, by pod spec field.', type: 'counter', labels: ['field'] },
  denials: { name: 'pullguard_denials_total', help: 'Admission requests denied, by endpoint.', type: 'counter', labels: ['endpoint'] },
  warnings: { name: 'pullguard_warnings_total', help: 'Admission warnings returned, by reason.', type: 'counter', labels: ['reason'] },
  configReloads: { name: 'pullguard_config_reloads_total', help: 'Config file reloads, by result (a failure keeps the last good config).', type: 'counter', labels: ['result'] },
  certificateReloads: { name: 'pullguard_certificate_reloads_total', help: 'Serving certificate reloads, by result (a failure keeps the old certificate).', type: 'counter', labels: ['result'] },
  // Prometheus' own convention (prometheus_build_info): a constant 1, the
  // facts in labels, so `count by (version)` shows a rollout's progress.
  buildInfo: { name: 'pullguard_build_info', help: 'Always 1; the labels say which pullguard version runs on which Node.js.', type: 'gauge', labels: ['version', 'node'] },
  // An expiring certificate fails every handshake, and with failurePolicy:
  // Ignore every pod is then admitted unmutated: alert well before.
  certificateExpiry: {
    name: 'pullguard_certificate_expiry_timestamp_seconds',
    help: 'notAfter of the certificate in use, as Unix time: certificate="serving" (what the webhook presents), "ca" (the CA the caBundle holds, when pullguard knows it).',
    type: 'gauge',
    labels: ['certificate'],
  },
  // As prometheus_config_last_reload_successful: the config that runs is the
  // last good one; 0 means the file on disk was rejected and is NOT in effect.
  configGood: {
    name: 'pullguard_config_last_reload_successful',
    help: '1 when the last config load or reload succeeded, 0 when the file was rejected and the last good config keeps running.',
    type: 'gauge',
    labels: [],
  },
  configGoodAt: { name: 'pullguard_config_last_reload_success_timestamp_seconds', help: 'Unix time of the last successful config load (start-up) or reload.', type: 'gauge', labels: [] },
  informerSynced: { name: 'pullguard_informer_synced', help: '1 when the informer has completed its initial list, else 0.', type: 'gauge', labels: ['resource'] },
  informerStaleness: { name: 'pullguard_informer_staleness_seconds', help: 'Seconds since the informer last heard from the API server (+Inf: never).', type: 'gauge', labels: ['resource'] },
  // Counters the informers keep themselves (kube/reflector.ts), read at
  // scrape time. A relist means a watch could not resume (410 Gone: the API
  // server's watch cache or etcd no longer had its resourceVersion) and the
  // whole resource was listed again; a watch restart is routine (every watch
  // ends after 5-10 minutes) unless its rate climbs, which means the API
  // server keeps dropping the connection.
  informerRelists: {
    name: 'pullguard_informer_relists_total',
    help: 'Complete lists of a resource after the first, each forced by a 410 Gone (the watch could not resume from its resourceVersion).',
    type: 'counter',
    labels: ['resource'],
  },
  informerWatchRestarts: {
    name: 'pullguard_informer_watch_restarts_total',
    help: 'Watches of a resource started again from its last resourceVersion: after the API server ended one (timeoutSeconds, 5-10 min) or it failed.',
    type: 'counter',
    labels: ['resource'],
  },
} as const satisfies Record<string, MetricRow>

/**
 * Secret distribution's metrics (kube/distribution-metrics.ts), registered
 * only when distribution runs. The copy and source gauges come from the
 * leader's last plan: a follower exports none of them, so `sum` over
 * replicas counts each copy once. The leader gauge is on every replica.
 */
export const DISTRIBUTION_METRICS = {
  leader: {
    name: 'pullguard_distribution_leader',
    help: '1 on the replica that writes the distributed Secret copies (it holds the Lease pullguard-secret-distribution), else 0.',
    type: 'gauge',
    labels: [],
  },
  copies: {
    name: 'pullguard_distribution_copies',
    help: 'Copies that belong in a namespace, by state as the leader last saw them: current, outdated (rotation not written yet), pending (not created yet), ' +
      'unmanaged (a Secret of that name pullguard does not manage: conflict, left alone), source-missing, source-invalid, source-conflict (two sources), unknown. Leader only.',
    type: 'gauge',
    labels: ['state'],
  },
  sourceProblems: {
    name: 'pullguard_distribution_source_problems',
    help: 'Distributed Secrets whose source is missing or not a pull Secret, by registries[] entry and problem (missing, not-a-pull-secret). Leader only.',
    type: 'gauge',
    labels: ['entry', 'problem'],
  },
  writes: { name: 'pullguard_distribution_writes_total', help: 'Secret copies created, updated and deleted by this replica.', type: 'counter', labels: ['operation'] },
  syncErrors: {
    name: 'pullguard_distribution_sync_errors_total',
    help: 'Failed API calls of secret distribution, by operation (create, update, delete, get-source, list); a 409 Conflict counts and is retried.',
    type: 'counter',
    labels: ['operation'],
  },
} as const satisfies Record<string, MetricRow>

type Declared<T extends MetricType> = T extends 'counter' ? Counter : T extends 'gauge' ? Gauge : Histogram

/** prom-client calls it at every scrape with the metric as `this`. */
export type Collect<T extends MetricType> = (this: Declared<T>) => void

/**
 * Registers one row on `registry`. `collect` makes it a metric computed at
 * scrape time from state kept elsewhere (prom-client's collect hook).
 */
export function declare<R extends MetricRow> (registry: Registry, row: R, collect?: Collect<R['type']>): Declared<R['type']> {
  const common = {
    name: row.name,
    help: row.help,
    labelNames: row.labels,
    registers: [registry],
    ...(collect === undefined ? {} : { collect }),
    ...(row.buckets === undefined ? {} : { buckets: [...row.buckets] }),
  }
  switch (row.type) {
    case 'counter': return new Counter(common as ConstructorParameters<typeof Counter>[0]) as Declared<R['type']>
    case 'gauge': return new Gauge(common as ConstructorParameters<typeof Gauge>[0]) as Declared<R['type']>
    case 'histogram': return new Histogram(common as ConstructorParameters<typeof Histogram>[0]) as Declared<R['type']>
  }
}
