/**
 * Where each kind keeps its pod template (src/preview/templates.ts), paths
 * from the Kubernetes API reference: the template as the Pod the API server
 * will be asked to admit, nothing for kinds without one, an error naming
 * the object for a template kind without its template.
 */
import t from 'tap'
import { POD_TEMPLATE_KINDS, podTemplateOf } from '../../src/preview/templates.js'
import { fixture, type Json } from '../helpers/fixtures.js'

const SPEC = { containers: [{ name: 'app', image: 'nginx' }] }
const META = { labels: { app: 'web' } }

const rows: Array<[string, string, Json, string[]]> = [
  ['Deployment', 'apps/v1', { spec: { template: { metadata: META, spec: SPEC } } }, ['spec', 'template']],
  ['Deployment', 'extensions/v1beta1', { spec: { template: { metadata: META, spec: SPEC } } }, ['spec', 'template']],
  ['StatefulSet', 'apps/v1', { spec: { template: { metadata: META, spec: SPEC } } }, ['spec', 'template']],
  ['DaemonSet', 'apps/v1', { spec: { template: { metadata: META, spec: SPEC } } }, ['spec', 'template']],
  ['ReplicaSet', 'apps/v1', { spec: { template: { metadata: META, spec: SPEC } } }, ['spec', 'template']],
  ['ReplicationController', 'v1', { spec: { template: { metadata: META, spec: SPEC } } }, ['spec', 'template']],
  ['Job', 'batch/v1', { spec: { template: { metadata: META, spec: SPEC } } }, ['spec', 'template']],
  ['CronJob', 'batch/v1', { spec: { jobTemplate: { spec: { template: { metadata: META, spec: SPEC } } } } }, ['spec', 'jobTemplate', 'spec', 'template']],
  ['PodTemplate', 'v1', { template: { metadata: META, spec: SPEC } }, ['template']],
]

t.test('each template kind: the path, and the template as a v1 Pod sharing its metadata and spec', async (t) => {
  t.same(rows.map(([kind]) => kind).filter((k, i, all) => all.indexOf(k) === i).sort(), Object.keys(POD_TEMPLATE_KINDS).filter((k) => k !== 'Pod').sort())
  for (const [kind, apiVersion, body, path] of rows) {
    const object = { apiVersion, kind, metadata: { name: 'web' }, ...structuredClone(body) }
    const template = podTemplateOf(object, 'x')
    t.same(template?.path, path, `${apiVersion} ${kind}`)
    let node: Json = object
    for (const key of path) node = node[key]
    t.same(template?.pod, { apiVersion: 'v1', kind: 'Pod', metadata: META, spec: SPEC }, `${kind}: a Pod`)
    t.equal(template?.pod.spec, node.spec, `${kind}: the template's own spec, so a patch lands in the object`)
    t.equal(template?.pod.metadata, node.metadata)
  }
})

t.test('a Pod is its own template', async (t) => {
  const pod = fixture('review-create.json').request.object
  const template = podTemplateOf(pod, 'x')
  t.same(template?.path, [])
  t.equal(template?.pod, pod)
})

t.test('a template without metadata gets none (the patch must apply to it as written)', async (t) => {
  const template = podTemplateOf({ apiVersion: 'apps/v1', kind: 'Deployment', spec: { template: { spec: SPEC } } }, 'x')
  t.notOk(template !== undefined && 'metadata' in template.pod)
})

t.test('kinds without a template, and template kinds of other groups, have none', async (t) => {
  const none: Json[] = [
    { apiVersion: 'v1', kind: 'Service' },
    { apiVersion: 'v1', kind: 'ConfigMap' },
    { apiVersion: 'example.com/v1', kind: 'Deployment', spec: { template: { spec: SPEC } } },
    { apiVersion: 'apps/v1', kind: 'Job', spec: { template: { spec: SPEC } } },
    { apiVersion: 'batch/v1', kind: 'Pod', spec: SPEC },
    { kind: 'constructor' },
    { kind: 'toString' },
    { kind: 42 },
    {},
  ]
  for (const object of none) t.equal(podTemplateOf(object, 'x'), undefined, JSON.stringify(object))
})

t.test('without apiVersion the kind\'s group is assumed', async (t) => {
  t.ok(podTemplateOf({ kind: 'Deployment', spec: { template: { spec: SPEC } } }, 'x'))
})

t.test('a template kind without its template is PG_NOT_A_POD naming the object and the path', async (t) => {
  const rows: Array<[Json, string]> = [
    [{ apiVersion: 'apps/v1', kind: 'Deployment', spec: {} }, 'deploy.yaml:3: spec.template is missing or not an object'],
    [{ apiVersion: 'apps/v1', kind: 'Deployment' }, 'deploy.yaml:3: spec.template is missing or not an object'],
    [{ apiVersion: 'batch/v1', kind: 'CronJob', spec: { jobTemplate: [] } }, 'deploy.yaml:3: spec.jobTemplate.spec.template is missing or not an object'],
    [{ apiVersion: 'v1', kind: 'PodTemplate', template: 'x' }, 'deploy.yaml:3: template is missing or not an object'],
  ]
  for (const [object, message] of rows) t.throws(() => podTemplateOf(object, 'deploy.yaml:3'), { code: 'PG_NOT_A_POD', message }, message)
})
