/**
 * Helpers for the tests of PromQL that ships with pullguard (the
 * PrometheusRule of the monitoring component, the Grafana dashboard): find
 * promtool, read the vector selectors out of an expression, and hold them
 * against the real registry (src/metrics.ts): which metrics exist, which
 * labels they have, and which values those labels can take.
 */
import {
  CERTIFICATES, DECISIONS, ENDPOINTS, INFORMER_RESOURCES, OPERATIONS, OTHER, POLICY_FIELDS,
  RELOAD_RESULTS, SECRET_SOURCES, WARNING_REASONS, WEBHOOKS, createMetrics,
} from '../../src/metrics.js'
import { parseExposition, type Exposition } from '../helpers/prometheus.js'
import { firstExecutable, onPath } from '../helpers/executable.js'

export const PROMTOOL_MISSING = 'promtool not found: the PromQL is neither parsed nor unit-tested. ' +
  'Install it (Debian/Ubuntu: apt-get install prometheus) or set PROMTOOL=/path/to/promtool.'

export function findPromtool (env: NodeJS.ProcessEnv = process.env): string | undefined {
  return firstExecutable([env.PROMTOOL, ...onPath('promtool', env)])
}

export interface Matcher { label: string, op: string, value: string }
export interface Selector { metric: string, matchers: Matcher[] }

/** Vector selectors `name{label op "value", ...}` in a PromQL expression (enough for pullguard's own). */
export function selectors (expr: string): Selector[] {
  const out: Selector[] = []
  for (const m of expr.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{([^}]*)\}/g)) {
    const matchers: Matcher[] = []
    const re = /\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"\s*,?/y
    const body = m[2] ?? ''
    while (re.lastIndex < body.length) {
      const mm = re.exec(body)
      if (mm === null) throw new Error(`cannot read the matchers {${body}}`)
      matchers.push({ label: mm[1] ?? '', op: mm[2] ?? '', value: (mm[3] ?? '').replace(/\\(.)/g, '$1') })
    }
    out.push({ metric: m[1] ?? '', matchers })
  }
  return out
}

/** Label names in `by (...)`, `without (...)`, `on (...)`, `ignoring (...)`, `group_left (...)`, `group_right (...)`. */
export function groupingLabels (expr: string): string[] {
  const out: string[] = []
  for (const m of expr.matchAll(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g)) {
    out.push(...(m[1] ?? '').split(',').map((s) => s.trim()).filter(Boolean))
  }
  return out
}

/** A regex matcher's value as the literals it is made of (`a|b`), or undefined when it is a real pattern. */
export function literalAlternatives (value: string): string[] | undefined {
  const parts = value.split('|')
  return parts.every((p) => /^[A-Za-z0-9_/-]+$/.test(p)) ? parts : undefined
}

/**
 * The target labels the Prometheus Operator gives every series scraped
 * through a PodMonitor (prometheus-operator pkg/prometheus/promcfg.go:
 * `namespace`, `container`, `pod`, `job`, `endpoint` for the port; and
 * `instance` from Prometheus itself).
 */
export const POD_MONITOR_TARGET_LABELS = ['namespace', 'container', 'pod', 'job', 'endpoint', 'instance']

/**
 * The ones pullguard's series carry in Prometheus: the PodMonitor of the
 * monitoring component drops `endpoint`, which would collide with
 * pullguard's own label of that name (monitoring.test.ts checks it).
 */
export const TARGET_LABELS = POD_MONITOR_TARGET_LABELS.filter((l) => l !== 'endpoint')

/** The values each bounded label can take (src/metrics.ts), `other` included where the registry maps strangers to it. */
export const LABEL_VALUES: Record<string, readonly string[]> = {
  webhook: [...WEBHOOKS, OTHER],
  endpoint: [...ENDPOINTS, OTHER],
  operation: [...OPERATIONS, OTHER],
  decision: [...DECISIONS, OTHER],
  source: [...SECRET_SOURCES, OTHER],
  field: [...POLICY_FIELDS, OTHER],
  reason: [...WARNING_REASONS, OTHER],
  result: [...RELOAD_RESULTS, OTHER],
  resource: INFORMER_RESOURCES,
  certificate: CERTIFICATES,
}

export interface Registered {
  /** Every series name the registry exports (histograms as _bucket, _sum, _count) and its label names. */
  readonly labelNames: ReadonlyMap<string, readonly string[]>
  /** What a fresh registry exports before any traffic. */
  readonly exposition: Exposition
}

/** The real registry, with prom-client's process_ and nodejs_ defaults when asked. */
export async function registered (defaultMetrics: boolean): Promise<Registered> {
  const metrics = createMetrics({ defaultMetrics })
  const exposition = parseExposition(await metrics.registry.metrics())
  const labelNames = new Map<string, readonly string[]>()
  for (const m of metrics.registry.getMetricsAsArray() as unknown as Array<{ name: string, type: string, labelNames: readonly string[] }>) {
    labelNames.set(m.name, m.labelNames)
    if (m.type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) labelNames.set(m.name + s, [...m.labelNames, ...(s === '_bucket' ? ['le'] : [])])
  }
  return { labelNames, exposition }
}
