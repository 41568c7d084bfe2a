/**
 * The monitoring component (manifests/components/monitoring), rendered the
 * way a user adds it: base + component, and base + validating-webhook +
 * component. Checked: it adds a PodMonitor and a PrometheusRule and changes
 * nothing else; the PodMonitor scrapes the port that serves /metrics; every
 * alert is complete; the pullguard_ metrics, labels and label values the rules
 * use exist in the real registry (src/metrics.ts); the API server metrics use
 * only labels the API server has; and promtool, when installed (Debian
 * package `prometheus`), parses the rules and runs unit tests of the alert
 * logic on synthetic series (no wall clock: promtool's time starts at 0):
 * each alert fires when it should and stays quiet when it should not.
 */
import t, { type Test } from 'tap'
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { composedOverlay, describe, findKubectl, KUBECTL_MISSING, kustomize, one, type KObject } from './k8s.js'
import {
  findPromtool, groupingLabels, LABEL_VALUES, literalAlternatives, POD_MONITOR_TARGET_LABELS, PROMTOOL_MISSING, registered,
  selectors, TARGET_LABELS,
} from './promql.js'

const execFileAsync = promisify(execFile)
const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const MANIFESTS = join(ROOT, 'manifests')
const NS = 'pullguard'
const MONITORING = 'monitoring.coreos.com/v1'
const REQUIRED_ALERTS = [
  'PullguardNotCalled', 'PullguardWebhookFailingOpen', 'PullguardWebhookRejections',
  'PullguardCertificateExpiringSoon', 'PullguardConfigReloadFailed', 'PullguardInformerStale',
  'PullguardAdmissionErrors', 'PullguardDenialSpike',
]
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

/**
 * Series that appear with their first event, not at start-up: prom-client
 * creates a labelled counter's series when it is first incremented, and
 * src/metrics.ts zero-fills only the small fixed sets. A rule may select
 * these only where absence means "none happened" and keeps the alert quiet.
 */
const APPEAR_WITH_FIRST_EVENT: Record<string, string> = {
  pullguard_admission_requests_total: 'PullguardAdmissionErrors is a ratio of rates: no error series, no errors, no alert',
}

/** GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens. */
function anchor (heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-')
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
  const withMonitoring = await kustomize(kubectl, await composedOverlay(MANIFESTS, tmp, 'base-monitoring', ['monitoring']))
  const withValidating = await kustomize(kubectl, await composedOverlay(MANIFESTS, tmp, 'validating-monitoring', ['validating-webhook', 'monitoring']))
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
    for (const key of Object.keys(endpoint)) t.ok(['port', 'path', 'scheme', 'interval', 'relabelings'].includes(key), `known endpoint field ${key}`)
  })

  t.test('no target label of the PodMonitor renames a pullguard label to exported_*', async (t) => {
    // Prometheus keeps a target label over a scraped one of the same name and
    // renames the scraped one exported_NAME (honor_labels: false, the
    // PodMonitor's default), so pullguard's labels must not share a name
    // with a target label that the PodMonitor keeps.
    const monitor = one(withMonitoring, 'PodMonitor', 'pullguard')
    const endpoint = (monitor.spec.podMetricsEndpoints as KObject[])[0] as KObject
    t.notOk(endpoint.honorLabels, 'honorLabels off: the target\'s namespace and pod cannot be overridden by the scrape')
    const dropped = ((endpoint.relabelings ?? []) as KObject[])
      .filter((r) => r.action === 'labeldrop')
      .map((r) => new RegExp(`^(?:${r.regex as string})$`))
    const { labelNames } = await registered(true)
    const ours = new Set([...labelNames.values()].flat())
    const kept = POD_MONITOR_TARGET_LABELS.filter((l) => !dropped.some((re) => re.test(l)))
    t.same(kept, TARGET_LABELS, `the series carry the target labels ${TARGET_LABELS.join(', ')}`)
    for (const l of POD_MONITOR_TARGET_LABELS) {
      if (ours.has(l)) t.notOk(kept.includes(l), `pullguard's label ${l} is a target label too, and the PodMonitor drops the target's`)
    }
    t.ok(ours.has('endpoint'), 'pullguard has a label endpoint (mutate, validate, preview)')
    for (const l of ['job', 'instance', 'le']) t.ok(dropped.every((re) => !re.test(l)), `${l} is kept`)
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
    // One alert name may come at two severities (kube-prometheus does the
    // same): Alertmanager's usual inhibit rule (critical silences warning of
    // the same alertname and namespace) then shows only the graver one.
    t.equal(new Set(alerts.map((a) => `${a.alert}/${a.labels?.severity}`)).size, alerts.length, 'each alert name at most once per severity')
    const expiring = alerts.filter((a) => a.alert === 'PullguardCertificateExpiringSoon')
    t.same(expiring.map((a) => a.labels?.severity), ['warning', 'critical'], 'PullguardCertificateExpiringSoon: a warning, then a critical')
    t.match(expiring[0]?.expr, /< 7 \* 24 \* 3600/, 'PullguardCertificateExpiringSoon: warning under 7 days')
    t.match(expiring[1]?.expr, /< 24 \* 3600/, 'PullguardCertificateExpiringSoon: critical under 1 day')
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

  t.test('the pullguard_ metrics, labels and label values the rules use exist in src/metrics.ts', async (t) => {
    const { labelNames, exposition } = await registered(false)
    let used = 0
    for (const a of alerts) {
      const text = `${a.expr}\n${Object.values(a.annotations ?? {}).join('\n')}`
      for (const name of text.match(/\bpullguard_[a-zA-Z0-9_:]+/g) ?? []) {
        used++
        t.ok(labelNames.has(name), `${a.alert}: ${name} is registered`)
      }
      const own = selectors(a.expr).filter((x) => x.metric.startsWith('pullguard_'))
      for (const s of own) {
        for (const m of s.matchers) {
          t.ok(labelNames.get(s.metric)?.includes(m.label), `${a.alert}: ${s.metric} has the label ${m.label}`)
          const values = m.op === '=' ? [m.value] : m.op === '=~' ? literalAlternatives(m.value) : undefined
          for (const v of values ?? []) {
            t.ok(LABEL_VALUES[m.label]?.includes(v), `${a.alert}: ${s.metric}{${m.label}${m.op}"${m.value}"}: ${v} is a value pullguard exports`)
          }
          if (m.op !== '=') continue
          const exported = exposition.samples.some((x) => x.name === s.metric && x.labels[m.label] === m.value)
          const late = APPEAR_WITH_FIRST_EVENT[s.metric]
          t.ok(exported || late !== undefined,
            `${a.alert}: ${s.metric}{${m.label}="${m.value}"} is exported before any traffic${late === undefined ? '' : ` (or need not be: ${late})`}`)
        }
      }
      // by (...), on (...): labels its metrics carry (or the scrape adds).
      const metricNames = a.expr.match(/\b(?:pullguard|apiserver)_[a-zA-Z0-9_:]+/g) ?? []
      const known = new Set([...metricNames.flatMap((n: string) => labelNames.get(n) ?? APISERVER_LABELS[n] ?? []), ...TARGET_LABELS])
      for (const l of groupingLabels(a.expr)) t.ok(known.has(l), `${a.alert}: groups by ${l}, a label of its series`)
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
  // pullguard's own series, as the PodMonitor scrapes them (namespace and pod added).
  const own = (name: string, labels: Record<string, string>): string =>
    `${name}{${Object.entries({ namespace: 'pullguard', ...labels }).map(([k, v]) => `${k}="${v}"`).join(',')}}`
  const expiry = (pod: string, certificate: string): string => own('pullguard_certificate_expiry_timestamp_seconds', { pod, certificate })
  const configOk = (pod: string): string => own('pullguard_config_last_reload_successful', { pod })
  const staleness = (pod: string, resource: string): string => own('pullguard_informer_staleness_seconds', { pod, resource })
  const synced = (pod: string, resource: string): string => own('pullguard_informer_synced', { pod, resource })
  const requests = (endpoint: string, decision: string): string =>
    own('pullguard_admission_requests_total', { pod: 'a', endpoint, operation: 'CREATE', decision })
  const denials = (endpoint: string, pod = 'a'): string => own('pullguard_denials_total', { pod, endpoint })
  const DAY = 24 * 3600
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
      {
        // time() is the eval time in seconds, so notAfter = 7 d + 2 h
        // leaves 7 days at 120m.
        name: 'PullguardCertificateExpiringSoon: the earliest replica under 7 days, per certificate; quiet once renewed',
        interval: '1m',
        input_series: [
          { series: expiry('a', 'serving'), values: `${90 * DAY}x200` },
          { series: expiry('b', 'serving'), values: `${7 * DAY + 7200}x150 ${90 * DAY}x50` }, // renewed at 150m
          { series: expiry('a', 'ca'), values: `${1000 * DAY}x200` },
          { series: expiry('b', 'ca'), values: `${1000 * DAY}x200` },
        ],
        alert_rule_test: [
          { eval_time: '120m', alertname: 'PullguardCertificateExpiringSoon', exp_alerts: [] }, // exactly 7 days left
          { eval_time: '130m', alertname: 'PullguardCertificateExpiringSoon', exp_alerts: [] }, // pending (for 15m)
          { eval_time: '137m', alertname: 'PullguardCertificateExpiringSoon', exp_alerts: [{ exp_labels: { namespace: 'pullguard', severity: 'warning', certificate: 'serving' } }] },
          { eval_time: '160m', alertname: 'PullguardCertificateExpiringSoon', exp_alerts: [] },
        ],
      },
      {
        name: 'PullguardCertificateExpiringSoon: critical under 1 day, and still firing once expired',
        interval: '1m',
        input_series: [
          { series: expiry('a', 'ca'), values: `${DAY + 3600}x200` },
        ],
        alert_rule_test: [
          { eval_time: '14m', alertname: 'PullguardCertificateExpiringSoon', exp_alerts: [] },
          { eval_time: '63m', alertname: 'PullguardCertificateExpiringSoon', exp_alerts: [{ exp_labels: { namespace: 'pullguard', severity: 'warning', certificate: 'ca' } }] },
          {
            eval_time: '70m',
            alertname: 'PullguardCertificateExpiringSoon',
            exp_alerts: [{ exp_labels: { namespace: 'pullguard', severity: 'warning', certificate: 'ca' } }, { exp_labels: { namespace: 'pullguard', severity: 'critical', certificate: 'ca' } }],
          },
        ],
      },
      {
        name: 'PullguardCertificateExpiringSoon: expired (time past notAfter) is critical too',
        interval: '1m',
        input_series: [{ series: expiry('a', 'serving'), values: '600x30' }],
        alert_rule_test: [{
          eval_time: '20m',
          alertname: 'PullguardCertificateExpiringSoon',
          exp_alerts: [{ exp_labels: { namespace: 'pullguard', severity: 'warning', certificate: 'serving' } }, { exp_labels: { namespace: 'pullguard', severity: 'critical', certificate: 'serving' } }],
        }],
      },
      {
        name: 'PullguardConfigReloadFailed: rejected for 10 minutes; a fix within minutes stays quiet',
        interval: '1m',
        input_series: [
          { series: configOk('a'), values: '1x10 0x30' }, // rejected from 10m on
          { series: configOk('b'), values: '1x40' },
          { series: configOk('c'), values: '1x5 0x5 1x30' }, // fixed after 5 minutes
        ],
        alert_rule_test: [
          { eval_time: '15m', alertname: 'PullguardConfigReloadFailed', exp_alerts: [] },
          { eval_time: '21m', alertname: 'PullguardConfigReloadFailed', exp_alerts: [{ exp_labels: { severity: 'warning', namespace: 'pullguard', pod: 'a' } }] },
        ],
      },
      {
        name: 'PullguardInformerStale: watch lost for over 5 minutes, or never synced, for 10 minutes',
        interval: '1m',
        input_series: [
          // a: the namespaces watch breaks at 10m; over 300 s from 16m on
          { series: staleness('a', 'namespaces'), values: '0x10 60+60x30' },
          { series: synced('a', 'namespaces'), values: '1x40' },
          // b: never listed: staleness +Inf, synced 0
          { series: staleness('b', 'secrets/dockerconfigjson'), values: '+Inf+0x40' },
          { series: synced('b', 'secrets/dockerconfigjson'), values: '0x40' },
          // c: not synced, and no staleness series (the second branch alone)
          { series: synced('c', 'serviceaccounts'), values: '0x40' },
          // d: a few minutes without the API server, then back: quiet
          { series: staleness('d', 'serviceaccounts'), values: '0x5 60+60x8 0x30' },
          { series: synced('d', 'serviceaccounts'), values: '1x40' },
          // e: 200 s behind for a long time: under the threshold
          { series: staleness('e', 'namespaces'), values: '200x40' },
          { series: synced('e', 'namespaces'), values: '1x40' },
        ],
        alert_rule_test: [
          { eval_time: '9m', alertname: 'PullguardInformerStale', exp_alerts: [] },
          {
            eval_time: '12m',
            alertname: 'PullguardInformerStale',
            exp_alerts: [
              { exp_labels: { severity: 'warning', namespace: 'pullguard', pod: 'b', resource: 'secrets/dockerconfigjson' } },
              { exp_labels: { severity: 'warning', namespace: 'pullguard', pod: 'c', resource: 'serviceaccounts' } },
            ],
          },
          {
            eval_time: '27m',
            alertname: 'PullguardInformerStale',
            exp_alerts: [
              { exp_labels: { severity: 'warning', namespace: 'pullguard', pod: 'a', resource: 'namespaces' } },
              { exp_labels: { severity: 'warning', namespace: 'pullguard', pod: 'b', resource: 'secrets/dockerconfigjson' } },
              { exp_labels: { severity: 'warning', namespace: 'pullguard', pod: 'c', resource: 'serviceaccounts' } },
            ],
          },
        ],
      },
      {
        name: 'PullguardAdmissionErrors: over 5% errors on /mutate; 1% on /validate and any share on /preview stay quiet',
        interval: '1m',
        input_series: [
          { series: requests('mutate', 'patched'), values: '0+100x40' },
          { series: requests('mutate', 'error'), values: '_x5 1+10x35' }, // ~9% from 5m on
          { series: requests('validate', 'allowed'), values: '0+100x40' },
          { series: requests('validate', 'error'), values: '_x5 1+1x35' }, // ~1%
          { series: requests('preview', 'allowed'), values: '0+1x40' },
          { series: requests('preview', 'error'), values: '0+50x40' }, // bad input from people
        ],
        alert_rule_test: [
          // rate() over 10m counts a series that starts inside the window over
          // the whole window, so the share climbs past 5% at 11m; then for 5m.
          { eval_time: '14m', alertname: 'PullguardAdmissionErrors', exp_alerts: [] },
          { eval_time: '17m', alertname: 'PullguardAdmissionErrors', exp_alerts: [{ exp_labels: { namespace: 'pullguard', severity: 'warning', endpoint: 'mutate' } }] },
        ],
      },
      {
        name: 'PullguardAdmissionErrors: one stray error in a quiet cluster stays quiet',
        interval: '1m',
        input_series: [
          { series: requests('mutate', 'patched'), values: '0+1x40' },
          { series: requests('mutate', 'error'), values: '_x10 1x5 2x25' }, // 1 of 11 in 10 minutes
        ],
        alert_rule_test: [{ eval_time: '25m', alertname: 'PullguardAdmissionErrors', exp_alerts: [] }],
      },
      {
        name: 'PullguardDenialSpike: 20/min after an hour at 1/min; a steady 10/min and /preview stay quiet',
        interval: '1m',
        input_series: [
          { series: denials('validate'), values: '0+1x70 90+20x30' }, // 20 a minute from 70m on
          { series: denials('validate', 'b'), values: '0x100' },
          { series: denials('mutate'), values: '0+10x100' }, // high but usual
          { series: denials('preview'), values: '0x70 0+50x30' },
        ],
        alert_rule_test: [
          { eval_time: '70m', alertname: 'PullguardDenialSpike', exp_alerts: [] },
          { eval_time: '78m', alertname: 'PullguardDenialSpike', exp_alerts: [] }, // pending (for 10m)
          { eval_time: '85m', alertname: 'PullguardDenialSpike', exp_alerts: [{ exp_labels: { namespace: 'pullguard', severity: 'warning', endpoint: 'validate' } }] },
        ],
      },
      {
        name: 'PullguardDenialSpike: from none to 3/min (under 5/min) stays quiet',
        interval: '1m',
        input_series: [{ series: denials('validate'), values: '0x70 0+3x30' }],
        alert_rule_test: [{ eval_time: '90m', alertname: 'PullguardDenialSpike', exp_alerts: [] }],
      },
    ],
  }
}
