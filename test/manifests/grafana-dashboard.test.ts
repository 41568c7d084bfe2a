/**
 * The Grafana dashboard (manifests/components/grafana-dashboard/pullguard.json)
 * and the component that ships it as a ConfigMap for the Grafana sidecar.
 * Checked: the component adds that one ConfigMap, labelled for the sidecar,
 * holding the file as it is; the JSON is a dashboard the sidecar can load
 * (a `datasource` variable, no `__inputs`, panels on the grid without
 * overlaps); it has the panels an SRE asks for; every metric, label and
 * label value its queries use exists in the real registry (src/metrics.ts,
 * prom-client's defaults included), every query follows the namespace and
 * pod variables, and promtool, when installed, parses every query (as
 * recording rules, with Grafana's variables filled in).
 */
import t, { type Test } from 'tap'
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { composedOverlay, describe, findKubectl, KUBECTL_MISSING, kustomize, one, validateObject, type KObject } from './k8s.js'
import {
  findPromtool, groupingLabels, LABEL_VALUES, literalAlternatives, PROMTOOL_MISSING, registered, selectors, TARGET_LABELS,
} from './promql.js'

const execFileAsync = promisify(execFile)
const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const MANIFESTS = join(ROOT, 'manifests')
const COMPONENT = join(MANIFESTS, 'components', 'grafana-dashboard')
const FILE = 'pullguard.json'
const NS = 'pullguard'
const CONFIGMAP = 'pullguard-grafana-dashboard'
// Grafana's own variable syntax (https://grafana.com/docs/grafana/latest/dashboards/variables/variable-syntax/):
// the literal text `${datasource}` in the JSON, which Grafana fills in, not a JavaScript template.
// eslint-disable-next-line no-template-curly-in-string -- the literal Grafana variable is what is asserted
const CHOSEN_DATASOURCE = { type: 'prometheus', uid: '${datasource}' }

/**
 * What Grafana puts in place of its variables before a query reaches
 * Prometheus: the built-in intervals, and a value each template variable
 * can take (`$pod` with "All" selected is its allValue).
 */
const SUBSTITUTES: Record<string, string> = {
  __rate_interval: '4m',
  __interval: '1m',
  __range: '6h',
  namespace: 'pullguard',
  pod: '.+',
}

/** What the issue asks the dashboard to show, as the metric each panel must read. */
const REQUIRED = [
  ['requests by decision', /sum by \([^)]*\bdecision\b[^)]*\) \(rate\(pullguard_admission_requests_total\{/],
  ['latency p50', /histogram_quantile\(0\.5, sum by \([^)]*\ble\b[^)]*\) \(rate\(pullguard_admission_duration_seconds_bucket\{/],
  ['latency p99', /histogram_quantile\(0\.99, sum by \([^)]*\ble\b[^)]*\) \(rate\(pullguard_admission_duration_seconds_bucket\{/],
  ['latency histogram', /sum by \(le\) \(increase\(pullguard_admission_duration_seconds_bucket\{/],
  ['secrets injected', /pullguard_secrets_injected_total\{/],
  ['policies forced', /pullguard_pull_policies_forced_total\{/],
  ['warnings by reason', /sum by \(reason\) \(rate\(pullguard_warnings_total\{/],
  ['informer staleness', /pullguard_informer_staleness_seconds\{/],
  ['certificate expiry in days', /pullguard_certificate_expiry_timestamp_seconds\{[^}]*\}\) - time\(\)\) \/ 86400/],
  ['last review age', /time\(\) - max by \(webhook\) \(pullguard_admission_last_review_timestamp_seconds\{/],
  ['config reload state', /pullguard_config_last_reload_successful\{/],
  ['build info', /pullguard_build_info\{/],
] as const

interface Query { where: string, expr: string, legendFormat?: string }

function panelsOf (dashboard: KObject): KObject[] {
  return (dashboard.panels as KObject[]).flatMap((p) => [p, ...((p.panels ?? []) as KObject[])])
}

function queriesOf (dashboard: KObject): Query[] {
  return panelsOf(dashboard).flatMap((p) => ((p.targets ?? []) as KObject[]).map((q) => ({
    where: `panel ${p.id} "${p.title}" ${q.refId}`,
    expr: String(q.expr),
    legendFormat: q.legendFormat,
  })))
}

/** The expression as Grafana sends it; throws on a variable this test does not know. */
function substituted (expr: string): string {
  return expr.replace(/\$\{?(\w+)\}?/g, (all, name: string) => {
    const value = SUBSTITUTES[name]
    if (value === undefined) throw new Error(`unknown variable ${all} in ${expr}`)
    return value
  })
}

const text = await readFile(join(COMPONENT, FILE), 'utf8')
let dashboard: KObject = {}

t.test('the file is JSON', async (t) => {
  t.doesNotThrow(() => { dashboard = JSON.parse(text) as KObject }, `${FILE} parses`)
})

t.test('a dashboard the Grafana sidecar can load as it is', async (t) => {
  t.equal(dashboard.uid, 'pullguard', 'a fixed uid, so links and the sidecar\'s file keep it')
  t.equal(dashboard.title, 'pullguard')
  t.type(dashboard.schemaVersion, 'number', 'schemaVersion')
  t.notOk('__inputs' in dashboard, 'no __inputs: nothing fills them when the sidecar provisions a file')
  t.notOk('id' in dashboard && dashboard.id !== null, 'no instance-specific id')
  const variables = dashboard.templating?.list as KObject[]
  const ds = variables.find((v) => v.name === 'datasource')
  t.same({ type: ds?.type, query: ds?.query }, { type: 'datasource', query: 'prometheus' }, 'a datasource variable over Prometheus data sources')
  t.same(variables.map((v) => v.name), ['datasource', 'namespace', 'pod'], 'variables: datasource, namespace, pod')
  for (const v of variables.filter((x) => x.type === 'query')) {
    t.same(v.datasource, CHOSEN_DATASOURCE, `variable ${v.name} queries the chosen data source`)
  }

  const panels = panelsOf(dashboard)
  t.equal(new Set(panels.map((p) => p.id)).size, panels.length, 'panel ids unique')
  const cells = new Map<string, string>()
  for (const p of panels) {
    const where = `panel ${p.id} "${p.title}"`
    const { x = -1, y = -1, w = 0, h = 0 } = p.gridPos as Partial<Record<'x' | 'y' | 'w' | 'h', number>>
    t.ok([x, y, w, h].every((n) => Number.isInteger(n) && n >= 0) && w > 0 && h > 0 && x + w <= 24, `${where}: on the 24-column grid`)
    for (let i = x; i < x + w; i++) {
      for (let j = y; j < y + h; j++) {
        const other = cells.get(`${i},${j}`)
        if (other !== undefined) t.fail(`${where} overlaps ${other}`)
        cells.set(`${i},${j}`, where)
      }
    }
    if (p.type === 'row') continue
    t.ok(typeof p.title === 'string' && p.title !== '', `${where}: a title`)
    t.ok(typeof p.description === 'string' && p.description.length > 20, `${where}: a description`)
    t.same(p.datasource, CHOSEN_DATASOURCE, `${where}: the chosen data source`)
    const targets = (p.targets ?? []) as KObject[]
    t.ok(targets.length > 0, `${where}: queries`)
    for (const q of targets) {
      t.same(q.datasource, p.datasource, `${where} ${q.refId}: the panel's data source`)
      t.ok(typeof q.expr === 'string' && q.expr !== '', `${where} ${q.refId}: an expression`)
    }
    t.equal(new Set(targets.map((q) => q.refId)).size, targets.length, `${where}: refIds unique`)
  }
})

t.test('it shows what an SRE asks for', async (t) => {
  const exprs = queriesOf(dashboard).map((q) => q.expr)
  for (const [what, re] of REQUIRED) t.ok(exprs.some((e) => re.test(e)), `a query for ${what}`)
})

t.test('every metric, label and label value it uses exists in src/metrics.ts; every query follows the variables', async (t) => {
  const { labelNames } = await registered(true)
  for (const q of queriesOf(dashboard)) {
    const names = q.expr.match(/\b(?:pullguard|process|nodejs)_[a-zA-Z0-9_:]+/g) ?? []
    t.ok(names.length > 0, `${q.where}: reads pullguard's metrics`)
    for (const n of names) t.ok(labelNames.has(n), `${q.where}: ${n} is registered`)
    const found = selectors(q.expr)
    t.same(found.map((s) => s.metric).sort(), [...names].sort(), `${q.where}: every metric is a selector with matchers`)
    for (const s of found) {
      const labels = labelNames.get(s.metric) ?? []
      const scope = s.matchers.filter((m) => TARGET_LABELS.includes(m.label)).map((m) => `${m.label}${m.op}"${m.value}"`)
      t.same(scope, ['namespace="$namespace"', 'pod=~"$pod"'], `${q.where}: ${s.metric} follows $namespace and $pod`)
      for (const m of s.matchers.filter((x) => !TARGET_LABELS.includes(x.label))) {
        t.ok(labels.includes(m.label), `${q.where}: ${s.metric} has the label ${m.label}`)
        const values = m.op === '=' ? [m.value] : m.op === '=~' ? literalAlternatives(m.value) : undefined
        t.ok(values !== undefined, `${q.where}: ${m.label}${m.op}"${m.value}" is a list of values`)
        for (const v of values ?? []) t.ok(LABEL_VALUES[m.label]?.includes(v), `${q.where}: ${m.label}="${v}" is a value pullguard exports`)
      }
    }
    const known = new Set([...names.flatMap((n) => labelNames.get(n) ?? []), ...TARGET_LABELS])
    for (const l of groupingLabels(q.expr)) t.ok(known.has(l), `${q.where}: groups by ${l}, a label of its series`)
    // A legend can only name labels the result keeps.
    const grouped = /\b(?:sum|max|min|count|avg) by \(([^)]*)\)/.exec(q.expr)?.[1]?.split(',').map((s) => s.trim())
    for (const m of (q.legendFormat ?? '').matchAll(/\{\{\s*(\w+)\s*\}\}/g)) {
      const l = m[1] ?? ''
      t.ok(grouped === undefined ? known.has(l) : grouped.includes(l) || l === 'le', `${q.where}: the legend's {{${l}}} is a label of the result`)
    }
  }
  for (const v of (dashboard.templating.list as KObject[]).filter((x) => x.type === 'query')) {
    const m = /^label_values\(([a-z_]+)(?:\{[^}]*\})?, (\w+)\)$/.exec(v.query?.query)
    t.ok(m !== null && v.definition === v.query.query, `variable ${v.name}: label_values(metric, label)`)
    t.ok(labelNames.has(m?.[1] ?? ''), `variable ${v.name}: ${m?.[1]} is registered`)
    t.equal(m?.[2], v.name, `variable ${v.name}: the values of the label ${v.name}`)
  }
})

const kubectl = findKubectl()
if (kubectl === undefined) {
  t.fail(KUBECTL_MISSING)
} else {
  t.test('the grafana-dashboard component, composed with the base', (t) => component(t, kubectl))
}

async function component (t: Test, kubectl: string): Promise<void> {
  const tmp = await mkdtemp(join(tmpdir(), 'pullguard-grafana-'))
  t.teardown(() => rm(tmp, { recursive: true, force: true }))
  const base = await kustomize(kubectl, join(MANIFESTS, 'base'))
  const withDashboard = await kustomize(kubectl, await composedOverlay(MANIFESTS, tmp, 'base-dashboard', ['grafana-dashboard']))
  const everything = await kustomize(kubectl, await composedOverlay(MANIFESTS, tmp, 'all', ['validating-webhook', 'monitoring', 'grafana-dashboard']))

  t.test('it adds one ConfigMap, labelled for the sidecar, with the file as it is', async (t) => {
    const added = withDashboard.filter((o) => !base.some((b) => describe(b) === describe(o)))
    t.same(added.map(describe), [`ConfigMap/${NS}/${CONFIGMAP}`], 'one ConfigMap')
    t.same(withDashboard.filter((o) => !added.includes(o)), base, 'the base objects are unchanged')
    const cm = one(withDashboard, 'ConfigMap', CONFIGMAP)
    t.equal(cm.metadata.labels?.grafana_dashboard, '1', 'labelled grafana_dashboard: "1" (the sidecar\'s default label)')
    t.equal(cm.metadata.labels?.['app.kubernetes.io/name'], 'pullguard', 'labelled app.kubernetes.io/name=pullguard')
    t.same(Object.keys(cm.data), [FILE], `one key, ${FILE}: the sidecar's file name`)
    t.equal(cm.data[FILE], text, 'the file byte for byte')
    // kubectl apply (client side) copies the object into an annotation,
    // and all annotations of an object together may hold 256 KiB.
    t.ok(Buffer.byteLength(JSON.stringify(cm)) < 200 * 1024, 'small enough for kubectl apply\'s last-applied annotation')
    t.same(await validateObject(cm), [], 'a valid ConfigMap')
    t.same(one(everything, 'ConfigMap', CONFIGMAP), cm, 'the same with the validating-webhook and monitoring components')
    t.ok(everything.some((o) => o.kind === 'PrometheusRule'), 'which compose with it')
  })
}

const promtool = findPromtool()
// CI installs promtool (.ci/run): there a missing one is a failure, not a skip.
if (promtool === undefined && process.env.CI === 'true') t.fail(PROMTOOL_MISSING)
t.test('promtool check rules: every query parses', { skip: promtool === undefined ? PROMTOOL_MISSING : false }, async (t) => {
  const tmp = await mkdtemp(join(tmpdir(), 'pullguard-grafana-promql-'))
  t.teardown(() => rm(tmp, { recursive: true, force: true }))
  const queries = queriesOf(dashboard)
  const rules = (exprs: string[]): string => JSON.stringify({
    groups: [{ name: 'dashboard', rules: exprs.map((expr, i) => ({ record: `pullguard_dashboard:query_${i}`, expr })) }],
  })
  const file = join(tmp, 'dashboard-rules.json')
  await writeFile(file, rules(queries.map((q) => substituted(q.expr))))
  try {
    const { stdout } = await execFileAsync(promtool as string, ['check', 'rules', file], { timeout: 60_000 })
    t.match(stdout, new RegExp(`SUCCESS: ${queries.length} rules found`), `promtool: ${stdout.trim().replace(/\s+/g, ' ')}`)
  } catch (err) {
    const e = err as { stdout?: string, stderr?: string, message: string }
    t.fail(`promtool check rules failed:\n${e.stdout ?? ''}\n${e.stderr ?? e.message}`)
  }
  // The check is real: a query with a variable left in, or broken, is refused.
  for (const bad of ['sum(rate(pullguard_denials_total[$__rate_interval]))', 'sum(rate(pullguard_denials_total[5m])']) {
    await writeFile(file, rules([bad]))
    await t.rejects(execFileAsync(promtool as string, ['check', 'rules', file], { timeout: 60_000 }), `refused: ${bad}`)
  }
})
