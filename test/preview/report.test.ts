/**
 * The JSON of a multi-object preview (src/preview/report.ts): per object
 * where it came from and what would happen to it, and a summary whose
 * counts add up.
 */
import t from 'tap'
import { readManifests } from '../../src/preview/documents.js'
import { previewObject } from '../../src/preview/evaluate.js'
import { previewReport } from '../../src/preview/report.js'
import { fixtureText, testConfig } from '../helpers/fixtures.js'

const config = testConfig()
const report = (text: string, origin?: string, namespace?: string): ReturnType<typeof previewReport> =>
  previewReport(readManifests(text, origin).map((o) => previewObject(o, { config, cluster: undefined, namespace })))

t.test('the app fixture: two patched templates and a Service passed through', async (t) => {
  const r = report(fixtureText('preview/app.yaml'), 'app.yaml')
  t.equal(r.admitted, true)
  t.same(r.summary, { objects: 3, podTemplates: 2, patched: 2, unchanged: 0, skipped: 0, denied: 0, passedThrough: 1 })
  t.same(r.objects.map((o) => [o.kind, o.name, o.decision, o.source.file, o.source.document, o.source.line]), [
    ['Deployment', 'web', 'patched', 'app.yaml', 1, 6],
    ['Service', 'web', 'passed-through', 'app.yaml', 2, 43],
    ['CronJob', 'web-report', 'patched', 'app.yaml', 3, 56],
  ])
  const [deployment, service] = r.objects
  t.match(deployment, { apiVersion: 'apps/v1', namespace: 'team-a', operation: 'CREATE', template: '/spec/template', admitted: true, allowed: true })
  t.ok(deployment?.patch?.every((op) => op.path.startsWith('/spec/template/')))
  t.ok(deployment?.images?.length)
  t.same(deployment?.validation, { allowed: true })
  t.same(service, { source: { file: 'app.yaml', document: 2, line: 43 }, kind: 'Service', apiVersion: 'v1', name: 'web', decision: 'passed-through', namespace: 'team-a', admitted: true })
})

const POD = (namespace: string, image: string, extra = ''): string => `apiVersion: v1
kind: Pod
metadata: {name: p, namespace: ${namespace}}
spec:
  containers: [{name: app, image: "${image}"${extra}}]
`

t.test('each decision is counted once, and an unadmitted object makes the report not admitted', async (t) => {
  const docs = [
    POD('team-a', 'ghcr.io/acme/web:1'), // patched: secret added, policy forced
    POD('team-a', 'quay.io/x:1'), // nothing to do: allowed
    POD('kube-system', 'ghcr.io/acme/web:1'), // excluded: skipped
    JSON.stringify(JSON.parse(fixtureText('review-update.json'))) + '\n', // an UPDATE that changes the pull policy: denied
    'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n',
  ]
  const r = report(docs.join('---\n'))
  t.same(r.objects.map((o) => [o.decision, o.admitted]), [['patched', true], ['allowed', true], ['skipped', true], ['denied', false], ['passed-through', true]])
  t.same(r.summary, { objects: 5, podTemplates: 4, patched: 1, unchanged: 1, skipped: 1, denied: 1, passedThrough: 1 })
  t.equal(r.admitted, false)
  t.equal(r.objects[2]?.skipped, 'excluded-namespace')
  t.match(r.objects[3], { kind: 'AdmissionReview', operation: 'UPDATE', allowed: false, denial: /imagePullPolicy: Unsupported value/ }, 'the refusal says why')
  t.equal(r.objects[4]?.namespace, undefined, 'a passed-through object without a namespace has none')
  t.equal(r.objects[0]?.source.file, undefined, 'a request body has no file')
})

t.test('List items carry their item index; an AdmissionReview its operation and subresource', async (t) => {
  const list = { apiVersion: 'v1', kind: 'List', items: [JSON.parse(JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'a', namespace: 'team-a' }, spec: { containers: [{ name: 'c', image: 'nginx' }] } }))] }
  const r = report(JSON.stringify(list))
  t.equal(r.objects[0]?.source.item, 0)
  const review = JSON.parse(fixtureText('review-ephemeral.json'))
  const rr = report(JSON.stringify(review))
  t.equal(rr.objects[0]?.operation, 'UPDATE/ephemeralcontainers')
  t.equal(rr.objects[0]?.template, '/request/object')
})

t.test('an object the mutation leaves alone but validation refuses counts as denied only', async (t) => {
  const [object] = readManifests(POD('team-a', 'quay.io/x:1'))
  const allowed = previewObject(object!, { config, cluster: undefined })
  t.equal(allowed.admitted, true)
  // The same preview as if /validate had refused the pod: admitted is what the summary reads.
  const refused = { ...allowed, admitted: false }
  const r = previewReport([allowed, refused])
  t.same(r.objects.map((o) => [o.decision, o.admitted]), [['allowed', true], ['allowed', false]])
  t.match(r.summary, { podTemplates: 2, unchanged: 1, denied: 1 })
  t.equal(r.admitted, false)
})

t.test('an empty input: admitted, all counts zero', async (t) => {
  t.same(previewReport([]), { admitted: true, summary: { objects: 0, podTemplates: 0, patched: 0, unchanged: 0, skipped: 0, denied: 0, passedThrough: 0 }, objects: [] })
})
