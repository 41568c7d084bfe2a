import t from 'tap'
import jsonpatch from 'fast-json-patch'
import { manifestsFromValue, readManifests } from '../../src/preview/documents.js'
import { previewObject } from '../../src/preview/evaluate.js'
import { POD_TEMPLATE_KINDS, podTemplateOf } from '../../src/preview/templates.js'
import { ClusterStore } from '../../src/cluster/store.js'
import { summarizePullSecret } from '../../src/cluster/pull-secret.js'
import { summarizeNamespace } from '../../src/cluster/summaries.js'
import { fixture, testConfig, type Json } from '../helpers/fixtures.js'
import { namespaceObject, pullSecret } from '../helpers/cluster.js'

const SPEC = { containers: [{ name: 'app', image: 'ghcr.io/acme/web:2.1.0', imagePullPolicy: 'IfNotPresent' }] }
const TEMPLATE = { metadata: { labels: { app: 'web' } }, spec: SPEC }

// Every kind with a pod template, as written in a manifest, and where the template sits.
const KINDS: Array<[string, string, Json, string]> = [
  ['Pod', 'v1', { spec: SPEC }, ''],
  ['Deployment', 'apps/v1', { spec: { template: TEMPLATE } }, '/spec/template'],
  ['StatefulSet', 'apps/v1', { spec: { serviceName: 'web', template: TEMPLATE } }, '/spec/template'],
  ['DaemonSet', 'apps/v1', { spec: { template: TEMPLATE } }, '/spec/template'],
  ['ReplicaSet', 'apps/v1', { spec: { template: TEMPLATE } }, '/spec/template'],
  ['ReplicationController', 'v1', { spec: { template: TEMPLATE } }, '/spec/template'],
  ['Job', 'batch/v1', { spec: { template: TEMPLATE } }, '/spec/template'],
  ['CronJob', 'batch/v1', { spec: { schedule: '@daily', jobTemplate: { spec: { template: TEMPLATE } } } }, '/spec/jobTemplate/spec/template'],
  ['PodTemplate', 'v1', { template: TEMPLATE }, '/template'],
]

t.test('every kind with a pod template: the patch is rooted at the template and applies to the object as written', async (t) => {
  t.same(KINDS.map(([kind]) => kind).sort(), Object.keys(POD_TEMPLATE_KINDS).sort(), 'the table covers every kind')
  const config = testConfig({ annotatePods: true })
  for (const [kind, apiVersion, body, template] of KINDS) {
    const object = { apiVersion, kind, metadata: { name: 'web', namespace: 'team-a' }, ...structuredClone(body) }
    const [manifest] = manifestsFromValue(structuredClone(object))
    const preview = previewObject(manifest!, { config, cluster: undefined })
    t.equal(preview.template, template, `${kind}: template at ${template || 'the root'}`)
    t.ok(preview.patch.length >= 3, `${kind}: secret, policy and annotation`)
    t.ok(preview.patch.every((op) => op.path.startsWith(`${template}/`)), `${kind}: every path under the template`)
    const applied = jsonpatch.applyPatch(structuredClone(object), preview.patch as jsonpatch.Operation[], true, false).newDocument
    t.same(applied, preview.patchedObject, `${kind}: an independent RFC 6902 implementation agrees`)
    t.same(object, manifest!.value, `${kind}: the input is not changed`)
    const pod = template === '' ? applied : template.split('/').slice(1).reduce((node: Json, key) => node[key], applied)
    t.same(pod.spec.imagePullSecrets, [{ name: 'ghcr-acme' }], `${kind}: secret added to the template`)
    t.equal(pod.spec.containers[0].imagePullPolicy, 'Always')
    t.type(pod.metadata.annotations['pullguard.dev/mutation'], 'string', `${kind}: the annotation lands on the template`)
    t.equal(preview.admitted, true)
  }
})

t.test('a template without metadata gets it whole (annotatePods)', async (t) => {
  const object = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'team-a' }, spec: { template: { spec: structuredClone(SPEC) } } }
  const preview = previewObject(manifestsFromValue(object)[0]!, { config: testConfig({ annotatePods: true }), cluster: undefined })
  t.match(preview.patch.at(-1), { op: 'add', path: '/spec/template/metadata' })
  t.ok((preview.patchedObject as Json).spec.template.metadata.annotations['pullguard.dev/mutation'])
})

t.test('not a template: passed through untouched', async (t) => {
  const cases: Json[] = [
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' } },
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'ghcr-acme' }, data: {} },
    // A custom resource that happens to be called Deployment.
    { apiVersion: 'example.com/v1', kind: 'Deployment', spec: { template: TEMPLATE } },
    { apiVersion: 'v1', kind: 'constructor' },
  ]
  for (const object of cases) {
    const preview = previewObject(manifestsFromValue(object)[0]!, { config: testConfig(), cluster: undefined })
    t.equal(preview.pod, undefined, `${object.apiVersion} ${object.kind}`)
    t.same(preview.patch, [])
    t.equal(preview.patchedObject, preview.object.value)
  }
  t.ok(podTemplateOf({ kind: 'Deployment', spec: { template: TEMPLATE } }, 'x'), 'no apiVersion: taken as the kind\'s group')
})

t.test('namespace: the override, then metadata.namespace, then default', async (t) => {
  const objects = readManifests('kind: Pod\napiVersion: v1\nmetadata: {namespace: team-c}\nspec: {containers: []}\n---\nkind: Pod\napiVersion: v1\nspec: {containers: []}\n', 'x.yaml')
  const config = testConfig()
  t.same(objects.map((o) => previewObject(o, { config, cluster: undefined }).pod?.input.namespace), ['team-c', 'default'])
  t.same(objects.map((o) => previewObject(o, { config, cluster: undefined, namespace: 'team-a' }).pod?.input.namespace), ['team-a', 'team-a'])
})

t.test('bad objects: one line naming the object and the field under its template', async (t) => {
  const cases: Array<[string, string, RegExp]> = [
    ['no kind', 'metadata: {name: x}\n', /^x\.yaml:1: has no kind$/],
    ['no template', 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {replicas: 1}\n', /^x\.yaml:1 \(Deployment web\): spec\.template is missing or not an object$/],
    ['no containers', 'apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: r}\nspec: {jobTemplate: {spec: {template: {spec: {}}}}}\n', /^x\.yaml:1 \(CronJob r\): spec\.jobTemplate\.spec\.template\.spec\.containers is missing or not a list$/],
    ['bad namespace', 'apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: Team_A}\nspec: {containers: []}\n', /^x\.yaml:1 \(Pod p\): metadata\.namespace is not a namespace name/],
  ]
  for (const [name, text, message] of cases) {
    const [object] = readManifests(text, 'x.yaml')
    const err = t.throws(() => previewObject(object!, { config: testConfig(), cluster: undefined }), { code: 'PG_NOT_A_POD' }, name) as Error
    t.match(err.message, message, `${name}: ${err.message}`)
  }
})

t.test('an AdmissionReview in a stream: its own operation and namespace; an UPDATE can be denied', async (t) => {
  const review = fixture('review-update.json')
  const preview = previewObject(manifestsFromValue(review)[0]!, { config: testConfig(), cluster: undefined, namespace: 'team-z' })
  t.equal(preview.template, '/request/object')
  t.equal(preview.pod?.input.operation, 'UPDATE')
  t.equal(preview.pod?.input.namespace, 'team-a', 'the review says where')
  t.equal(preview.admitted, false)
  t.match(preview.pod?.outcome.denial?.message, /imagePullPolicy: Unsupported value/)
})

t.test('with a cluster view: Secrets that exist, discovery by namespace label', async (t) => {
  const view = new ClusterStore()
  view.setNamespace(summarizeNamespace(namespaceObject('team-a', { 'pullguard.dev/discover-secrets': 'true' })))
  view.setSecret(summarizePullSecret(pullSecret('team-a', 'quay-creds', ['quay.io']))!)
  const [object] = readManifests('apiVersion: batch/v1\nkind: Job\nmetadata: {name: j, namespace: team-a}\nspec:\n  template:\n    spec:\n      containers: [{name: a, image: quay.io/acme/x:1}]\n')
  const preview = previewObject(object!, { config: testConfig(), cluster: view })
  t.same(preview.pod?.outcome.injected, [{ name: 'quay-creds', source: 'discovery', entry: undefined }])
  t.same((preview.patchedObject as Json).spec.template.spec.imagePullSecrets, [{ name: 'quay-creds' }])
})
