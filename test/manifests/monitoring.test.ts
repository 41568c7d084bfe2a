/**
 * The monitoring component (manifests/components/monitoring), rendered the
 * way a user adds it: base + component, and base + validating-webhook +
 * component. Checked: it adds a PodMonitor and a PrometheusRule and changes
 * nothing else; the PodMonitor scrapes the port that serves /metrics; every
 * alert is complete; the pullguard_ metrics and labels the rules use exist in
 * the real registry (src/metrics.ts); the API server metrics use only labels
 * the API server has; and promtool, when installed (Debian package
 * `prometheus`), parses the rules and runs unit tests of the alert logic on
 * synthetic series (no wall clock: promtool's time starts at 0).
 */
import t, { type Test } from 'tap'
import { execFile } from 'node:child_process'
import { accessSync, constants } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { delimiter, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { createMetrics } from '../../src/metrics.js'
import { parseExposition } from '../helpers/prometheus.js'
import { describe, findKubectl, KUBECTL_MISSING, kustomize, one, type KObject } from './k8s.js'

const execFileAsync = promisify(execFile)
const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const MANIFESTS = join(ROOT, 'manifests')
const NS = 'pullguard'
const MONITORING = 'monitoring.coreos.com/v1'
const REQUIRED_ALERTS = ['PullguardNotCalled', 'PullguardWebhookFailingOpen', 'PullguardWebhookRejections']
const SEVERITIES = ['critical', 'warning', 'info']

/**
 * Label names of the API server metrics the rules read, from the Kubernetes
 * source: staging/src/k8s.io/apiserver/pkg/admission/metrics/metrics.go
 * (webhook_rejection_count, webhook_fail_open_count) and
 * staging/src/k8s.io/apiserver/pkg/endpoints/metrics/metrics.go
 * (apiserver_request_total).
 */
const APISERVER_LABELS: Record<string, readonly string[]> = {
  apiserver_admission_webhook_fail_open_count: ['name', 'type'],
  apiserver_admission_webhook_rejection_count: ['name', 'type', 'operation', 'error_type', 'rejection_code'],
  apiserver_request_total: ['verb', 'dry_run', 'group', 'version', 'resource', 'subresource', 'scope', 'component', 'code'],
}

const PROMTOOL_MISSING = 'promtool not found: the PrometheusRule is neither parsed nor unit-tested. ' +
  'Install it (Debian/Ubuntu: apt-get install prometheus) or set PROMTOOL=/path/to/promtool.'

function findPromtool (env: NodeJS.ProcessEnv = process.env): string | undefined {
  const candidates = [env.PROMTOOL, ...(env.PATH ?? '').split(delimiter).filter(Boolean).map((dir) => join(dir, 'promtool'))]
  for (const candidate of candidates) {
    if (candidate === undefined || candidate === '') continue
    try {
      accessSync(candidate, constants.X_OK)
      return candidate
    } catch {
      // not here
    }
  }
  return undefined
}

interface Selector { metric: string, matchers: Array<{ label: string, op: string, value: string }> }

/** Vector selectors `name{label op "value", ...}` in a PromQL expression (enough for these rules). */
function selectors (expr: string): Selector[] {
  const out: Selector[] = []
  for (const m of expr.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{([^}]*)\}/g)) {
    const matchers: Selector['matchers'] = []
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

/** GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens. */
function anchor (heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-')
}

async function composed (tmp: string, name: string, components: string[]): Promise<string> {
  const dir = join(tmp, name)
  await mkdir(dir)
  const rel = (p: string): string => relative(dir, join(MANIFESTS, p))
  await writeFile(join(dir, 'kustomization.yaml'), [
    'apiVersion: kustomize.config.k8s.io/v1beta1',
    'kind: Kustomization',
    `resources: [${rel('base')}]`,
    'components:',
    ...components.map((c) => `  - ${rel(join('components', c))}`),
    '',
  ].join('\n'))
  return dir
}

const kubectl = findKubectl()
if (kubectl === undefined) {
  t.fail(KUBECTL_MISSING)
} else {
  t.test('the monitoring component, composed with the base', (t) => run(t, kubectl))
}

async function run (t: Test, kubectl: string): Promise<void> {
  const tmp = await mkdtemp(join(tmpdir(), 'pullguard-monitoring-'))
  t.teardown(() => rm(tmp, { recursive: true, force: true }))
  const base = await kustomize(kubectl, join(MANIFESTS, 'base'))
  const withMonitoring = await kustomize(kubectl, await composed(tmp, 'base-monitoring', ['monitoring']))
  const withValidating = await kustomize(kubectl, await composed(tmp, 'validating-monitoring', ['validating-webhook', 'monitoring']))
  const rule = one(withMonitoring, 'PrometheusRule', 'pullguard')
  const rules = (rule.spec?.groups as KObject[] | undefined ?? []).flatMap((g) => (g.rules ?? []) as KObject[])
  const alerts = rules.filter((r) => r.alert !== undefined)

  t.test('it adds a PodMonitor and a PrometheusRule and changes nothing else; the base has neither', async (t) => {
    const added = withMonitoring.filter((o) => o.apiVersion === MONITORING)
    t.same(added.map(describe).sort(), [`PodMonitor/${NS}/pullguard`, `PrometheusRule/${NS}/pullguard`], 'two objects of monitoring.coreos.com/v1')
    t.same(withMonitoring.filter((o) => o.apiVersion !== MONITORING), base, 'the base objects are unchanged')
    t.equal(base.filter((o) => String(o.apiVersion).startsWith('monitoring.coreos.com/')).length, 0,
      'the base needs no Prometheus Operator CRDs')
    t.equal(withValidating.filter((o) => o.apiVersion === MONITORING).length, 2, 'composes with the validating-webhook component')
    for (const obj of added) {
      t.equal(obj.metadata.namespace, NS, `${describe(obj)} in namespace ${NS}`)
      t.equal(obj.metadata.labels?.['app.kubernetes.io/name'], 'pullguard', `${describe(obj)} labelled app.kubernetes.io/name=pullguard`)
    }
  })

  t.test('the PodMonitor scrapes /metrics on the health port of the pullguard pods', async (t) => {
    const monitor = one(withMonitoring, 'PodMonitor', 'pullguard')
    const deployment = one(withMonitoring, 'Deployment', 'pullguard')
    const podLabels = deployment.spec.template.metadata.labels as Record<string, string>
    const selector = monitor.spec.selector as KObject
    t.same(Object.keys(selector).sort(), ['matchLabels'], 'a matchLabels selector')
    for (const [k, v] of Object.entries(selector.matchLabels as Record<string, string>)) {
      t.equal(podLabels[k], v, `the pods carry ${k}=${v}`)
    }
    t.same(selector.matchLabels, deployment.spec.selector.matchLabels, 'the same pods as the Deployment selects')
    t.same(monitor.spec.namespaceSelector, { matchNames: [deployment.metadata.namespace] }, 'in the Deployment\'s namespace')
    const endpoints = monitor.spec.podMetricsEndpoints as KObject[]
    t.equal(endpoints.length, 1, 'one endpoint')
    const endpoint = endpoints[0] as KObject
    const c = (deployment.spec.template.spec.containers as KObject[]).find((x) => x.name === 'pullguard') as KObject
    const port = (c.ports as KObject[]).find((p) => p.name === endpoint.port)
    const healthPort = (c.env as KObject[]).find((e) => e.name === 'HEALTH_PORT')?.value
    t.equal(endpoint.port, 'health', 'the named container port health')
    t.equal(port?.containerPort, 9090, 'which is container port 9090')
    t.equal(String(port?.containerPort), healthPort, 'where HEALTH_PORT makes pullguard serve /metrics')
    t.equal(endpoint.path, '/metrics', 'path /metrics')
    t.equal(endpoint.scheme, 'http', 'plain HTTP (the health port has no TLS)')
    const service = one(withMonitoring, 'Service', 'pullguard')
    t.equal((service.spec.ports as KObject[]).find((p) => p.name === 'metrics')?.targetPort, endpoint.port, 'the same port as the Service\'s metrics port')
    for (const key of Object.keys(endpoint)) t.ok(['port', 'path', 'scheme', 'interval'].includes(key), `known endpoint field ${key}`)
  })

  t.test('every alert has alert, expr, for, a severity, summary, description and runbook', async (t) => {
    t.equal(rule.apiVersion, MONITORING)
    const groups = rule.spec.groups as KObject[]
    t.ok(groups.length > 0, 'rule groups')
    t.equal(new Set(groups.map((g) => g.name)).size, groups.length, 'group names unique')
    for (const g of groups) {
      t.match(g.name, /^[a-z0-9-]+$/, `group ${g.name}`)
      t.ok(Array.isArray(g.rules) && g.rules.length > 0, `group ${g.name} has rules`)
    }
    t.same(rules.length, alerts.length, 'only alerting rules')
    for (const name of REQUIRED_ALERTS) t.ok(alerts.some((a) => a.alert === name), `alert ${name}`)
    t.equal(new Set(alerts.map((a) => a.alert)).size, alerts.length, 'alert names unique')
    const readme = await readFile(join(ROOT, 'README.md'), 'utf8')
    const anchors = new Set([...readme.matchAll(/^#{1,6} (.+)$/gm)].map((m) => anchor(m[1] ?? '')))
    for (const a of alerts) {
      const where = `${a.alert}`
      t.match(a.alert, /^Pullguard[A-Z][A-Za-z]+$/, `${where}: PascalCase, prefixed Pullguard`)
      t.ok(typeof a.expr === 'string' && a.expr.trim() !== '', `${where}: expr`)
      t.match(a.for, /^\d+[smh]$/, `${where}: for`)
      t.ok(SEVERITIES.includes(a.labels?.severity), `${where}: labels.severity is one of ${SEVERITIES.join(', ')}`)
      for (const key of ['summary', 'description', 'runbook']) {
        t.ok(typeof a.annotations?.[key] === 'string' && a.annotations[key].trim().length > 20, `${where}: annotations.${key}`)
      }
      const link = /README\.md#([a-z0-9-]+)/.exec(a.annotations?.runbook ?? '')
      t.ok(link !== null && anchors.has(link[1] ?? ''), `${where}: the runbook names a README section that exists (#${link?.[1]})`)
    }
    const notCalled = alerts.find((a) => a.alert === 'PullguardNotCalled')
    t.equal(notCalled?.for, '5m', 'PullguardNotCalled: for 5m')
    t.match(notCalled?.expr, /absent\(pullguard_admission_last_review_timestamp_seconds\{webhook="mutate"\}\)/, 'PullguardNotCalled: also fires when pullguard is not scraped at all')
  })

  t.test('the pullguard_ metrics and labels the rules use exist in src/metrics.ts from start-up', async (t) => {
    const metrics = createMetrics({ defaultMetrics: false })
    const exposition = parseExposition(await metrics.registry.metrics())
    const labelNames = new Map<string, readonly string[]>()
    for (const m of metrics.registry.getMetricsAsArray() as unknown as Array<{ name: string, type: string, labelNames: readonly string[] }>) {
      labelNames.set(m.name, m.labelNames)
      if (m.type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) labelNames.set(m.name + s, [...m.labelNames, ...(s === '_bucket' ? ['le'] : [])])
    }
    let used = 0
    for (const a of alerts) {
      const text = `${a.expr}\n${Object.values(a.annotations ?? {}).join('\n')}`
      for (const name of text.match(/\bpullguard_[a-zA-Z0-9_:]+/g) ?? []) {
        used++
        t.ok(labelNames.has(name), `${a.alert}: ${name} is registered`)
      }
      for (const s of selectors(a.expr).filter((x) => x.metric.startsWith('pullguard_'))) {
        for (const m of s.matchers) {
          t.ok(labelNames.get(s.metric)?.includes(m.label), `${a.alert}: ${s.metric} has the label ${m.label}`)
          if (m.op === '=') {
            t.ok(exposition.samples.some((x) => x.name === s.metric && x.labels[m.label] === m.value),
              `${a.alert}: ${s.metric}{${m.label}="${m.value}"} is exported before any traffic`)
          }
        }
      }
    }
    t.ok(used >= 2, 'the rules do use pullguard metrics')
  })

  t.test('the API server metrics are used with their real labels, and the name regex covers every pullguard webhook', async (t) => {
    const webhookNames = [
      ...one(withValidating, 'MutatingWebhookConfiguration', 'pullguard').webhooks,
      ...one(withValidating, 'ValidatingWebhookConfiguration', 'pullguard').webhooks,
    ].map((w: KObject) => w.name as string)
    t.same(webhookNames, ['pods.pullguard.dev', 'always-pull.pullguard.dev'], 'the webhook names pullguard registers')
    let nameRegexes = 0
    for (const a of alerts) {
      for (const s of selectors(a.expr).filter((x) => x.metric.startsWith('apiserver_'))) {
        const known = APISERVER_LABELS[s.metric]
        t.ok(known !== undefined, `${a.alert}: ${s.metric} is an API server metric this test knows`)
        for (const m of s.matchers) {
          t.ok(known?.includes(m.label), `${a.alert}: ${s.metric} has the label ${m.label}`)
          if (m.label !== 'name' || m.op !== '=~') continue
          nameRegexes++
          const re = new RegExp(`^(?:${m.value})$`) // PromQL regexes are anchored (RE2; this one is plain enough for JS)
          for (const n of webhookNames) t.ok(re.test(n), `${a.alert}: name=~"${m.value}" matches ${n}`)
          for (const n of ['pullguard.dev', 'pods.pullguardxdev', 'pods.pullguard.dev.example.com', 'pods.notpullguard.dev']) {
            t.notOk(re.test(n), `${a.alert}: name=~"${m.value}" does not match ${n}`)
          }
        }
      }
    }
    t.equal(nameRegexes, 2, 'both API server webhook alerts select by webhook name')
    const rejections = alerts.find((a) => a.alert === 'PullguardWebhookRejections')
    const errorType = selectors(rejections?.expr ?? '').flatMap((s) => s.matchers).find((m) => m.label === 'error_type')
    t.same(errorType, { label: 'error_type', op: '=~', value: 'calling_webhook_error|apiserver_internal_error' },
      'rejections by failure only, not pullguard\'s own denials (error_type="no_error")')
  })

  const promtool = findPromtool()
  // CI installs promtool (.ci/run): there a missing one is a failure, not a skip.
  if (promtool === undefined && process.env.CI === 'true') t.fail(PROMTOOL_MISSING)
  t.test('promtool check rules: the rules parse', { skip: promtool === undefined ? PROMTOOL_MISSING : false }, async (t) => {
    const file = join(tmp, 'rules.json')
    await writeFile(file, JSON.stringify(rule.spec))
    const { stdout } = await execFileAsync(promtool as string, ['check', 'rules', file], { timeout: 60_000 })
    t.match(stdout, new RegExp(`SUCCESS: ${alerts.length} rules found`), `promtool: ${stdout.trim().replace(/\s+/g, ' ')}`)
    // The check is real: a broken expression is refused.
    const broken = structuredClone(rule.spec)
    broken.groups[0].rules[0].expr = 'sum(rate(apiserver_request_total[10m]) > 0'
    await writeFile(file, JSON.stringify(broken))
    await t.rejects(execFileAsync(promtool as string, ['check', 'rules', file], { timeout: 60_000 }), 'a broken expression fails the check')
  })

  t.test('promtool test rules: the alerts fire when they should, on synthetic series', { skip: promtool === undefined ? PROMTOOL_MISSING : false }, async (t) => {
    // The expressions as rendered, without annotations: promtool compares
    // expected alerts including annotations, and these tests are about when
    // an alert fires, with which labels.
    const bare = { groups: (rule.spec.groups as KObject[]).map((g) => ({ ...g, rules: (g.rules as KObject[]).map((r) => ({ alert: r.alert, expr: r.expr, for: r.for, labels: r.labels })) })) }
    await writeFile(join(tmp, 'bare-rules.json'), JSON.stringify(bare))
    await writeFile(join(tmp, 'rules-test.json'), JSON.stringify(promtoolTests('bare-rules.json')))
    let result: { stdout: string, stderr: string }
    try {
      result = await execFileAsync(promtool as string, ['test', 'rules', 'rules-test.json'], { cwd: tmp, timeout: 60_000 })
    } catch (err) {
      const e = err as { stdout?: string, stderr?: string, message: string }
      t.fail(`promtool test rules failed:\n${e.stdout ?? ''}\n${e.stderr ?? e.message}`)
      return
    }
    t.match(result.stdout, /SUCCESS/, 'all cases pass')
  })
}

/**
 * promtool unit tests (https://prometheus.io/docs/prometheus/latest/configuration/unit_testing_rules/).
 * Series at 1m steps from time 0; `a+bxN` is a, a+b, ..., a+N*b.
 */
function promtoolTests (ruleFile: string): KObject {
  const podsCreated = 'apiserver_request_total{group="",version="v1",resource="pods",subresource="",verb="POST",code="201",scope="resource",component="apiserver"}'
  const lastReview = (pod: string): string => `pullguard_admission_last_review_timestamp_seconds{webhook="mutate",pod="${pod}"}`
  const notCalled = [{ exp_labels: { severity: 'critical' } }]
  const failOpen = 'apiserver_admission_webhook_fail_open_count'
  const rejection = 'apiserver_admission_webhook_rejection_count'
  return {
    rule_files: [ruleFile],
    evaluation_interval: '1m',
    tests: [
      {
        name: 'PullguardNotCalled: pods created, pullguard up but never called (gauge 0 since start)',
        interval: '1m',
        input_series: [
          { series: podsCreated, values: '0+10x40' },
          { series: lastReview('a'), values: '0x40' },
          { series: lastReview('b'), values: '0x40' },
        ],
        alert_rule_test: [
          { eval_time: '12m', alertname: 'PullguardNotCalled', exp_alerts: [] }, // 720 s since "0", pending for 1m
          { eval_time: '20m', alertname: 'PullguardNotCalled', exp_alerts: notCalled },
        ],
      },
      {
        name: 'PullguardNotCalled: pods created, pullguard not scraped at all (absent)',
        interval: '1m',
        input_series: [{ series: podsCreated, values: '0+10x40' }],
        alert_rule_test: [{ eval_time: '10m', alertname: 'PullguardNotCalled', exp_alerts: notCalled }],
      },
      {
        name: 'PullguardNotCalled: one replica called every minute, the other never: quiet',
        interval: '1m',
        input_series: [
          { series: podsCreated, values: '0+10x40' },
          { series: lastReview('a'), values: '0+60x40' },
          { series: lastReview('b'), values: '0x40' },
        ],
        alert_rule_test: [{ eval_time: '30m', alertname: 'PullguardNotCalled', exp_alerts: [] }],
      },
      {
        name: 'PullguardNotCalled: calls stop at 10m while pods are still created',
        interval: '1m',
        input_series: [
          { series: podsCreated, values: '0+10x40' },
          { series: lastReview('a'), values: '0+60x10 600x30' },
        ],
        alert_rule_test: [
          { eval_time: '22m', alertname: 'PullguardNotCalled', exp_alerts: [] },
          { eval_time: '30m', alertname: 'PullguardNotCalled', exp_alerts: notCalled },
        ],
      },
      {
        name: 'PullguardNotCalled: no pods created (or only refused ones): quiet even if never called',
        interval: '1m',
        input_series: [
          { series: podsCreated, values: '100x40' },
          { series: podsCreated.replace('code="201"', 'code="403"'), values: '0+10x40' },
          { series: lastReview('a'), values: '0x40' },
        ],
        alert_rule_test: [{ eval_time: '30m', alertname: 'PullguardNotCalled', exp_alerts: [] }],
      },
      {
        name: 'PullguardWebhookFailingOpen: pullguard webhooks only, by name and type',
        interval: '1m',
        input_series: [
          { series: `${failOpen}{name="pods.pullguard.dev",type="admit"}`, values: '0 0 1+1x20' },
          { series: `${failOpen}{name="pods.other.example.com",type="admit"}`, values: '0+1x20' },
        ],
        alert_rule_test: [
          { eval_time: '1m', alertname: 'PullguardWebhookFailingOpen', exp_alerts: [] },
          { eval_time: '10m', alertname: 'PullguardWebhookFailingOpen', exp_alerts: [{ exp_labels: { severity: 'warning', name: 'pods.pullguard.dev', type: 'admit' } }] },
        ],
      },
      {
        name: 'PullguardWebhookRejections: calling errors, not pullguard\'s own denials',
        interval: '1m',
        input_series: [
          { series: `${rejection}{name="always-pull.pullguard.dev",type="validating",operation="CREATE",error_type="no_error",rejection_code="403"}`, values: '0+5x20' },
          { series: `${rejection}{name="always-pull.pullguard.dev",type="validating",operation="CREATE",error_type="calling_webhook_error",rejection_code="0"}`, values: '0 0 0 0 1+1x20' },
        ],
        alert_rule_test: [
          { eval_time: '3m', alertname: 'PullguardWebhookRejections', exp_alerts: [] },
          {
            eval_time: '12m',
            alertname: 'PullguardWebhookRejections',
            exp_alerts: [{ exp_labels: { severity: 'critical', name: 'always-pull.pullguard.dev', type: 'validating', error_type: 'calling_webhook_error' } }],
          },
        ],
      },
    ],
  }
}
