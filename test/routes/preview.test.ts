import t from 'tap'
import jsonpatch from 'fast-json-patch'
import { parseAllDocuments } from 'yaml'
import { buildApp } from '../../src/app.js'
import { fixture, fixtureText, testConfig, type Json } from '../helpers/fixtures.js'

const app = buildApp({ config: testConfig() })
t.teardown(async () => { await app.close() })

/** The Deployment of app.yaml (its first document). */
function deployment (): Json {
  return parseAllDocuments(fixtureText('preview/app.yaml'))[0]?.toJS()
}

async function post (url: string, body: string | object, contentType = 'application/json'): Promise<{ status: number, text: string, json: Json }> {
  const res = await app.inject({ method: 'POST', url, headers: { 'content-type': contentType }, payload: typeof body === 'string' ? body : JSON.stringify(body) })
  return { status: res.statusCode, text: res.body, json: JSON.parse(res.body) }
}

t.test('one Pod: the answer /preview has always given', async (t) => {
  const res = await post('/preview?namespace=team-a', fixtureText('pod.yaml'), 'application/yaml')
  t.equal(res.status, 200)
  t.same(Object.keys(res.json).sort(), ['allowed', 'decision', 'images', 'namespace', 'operation', 'patch', 'patchedPod', 'validation', 'warnings'])
  t.equal(res.json.patch[0].path, '/spec/imagePullSecrets')
})

t.test('workloads, several documents and Lists: the multi-object report', async (t) => {
  const cases: Array<[string, string | object, string, Json]> = [
    ['a multi-document YAML body', fixtureText('preview/app.yaml'), 'application/yaml', { objects: 3, podTemplates: 2, patched: 2, passedThrough: 1, denied: 0 }],
    ['one Deployment as JSON', deployment(), 'application/json', { objects: 1, podTemplates: 1, patched: 1 }],
    ['a List as JSON', fixture('preview/list.json'), 'application/json', { objects: 3, podTemplates: 2, passedThrough: 1 }],
    ['a List as YAML', fixtureText('preview/list.json'), 'text/yaml', { objects: 3, podTemplates: 2, passedThrough: 1 }],
    ['one Service', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' } }, 'application/json', { objects: 1, podTemplates: 0, passedThrough: 1 }],
  ]
  for (const [name, body, type, summary] of cases) {
    const res = await post('/preview', body, type)
    t.equal(res.status, 200, name)
    t.match(res.json, { admitted: true, summary }, name)
    for (const object of res.json.objects.filter((o: Json) => o.decision !== 'passed-through')) {
      t.type(object.patchedObject, 'object', `${name}: ${object.kind} has its patched object`)
      t.ok(object.patch.every((op: Json) => op.path.startsWith(`${object.template as string}/`)), `${name}: ${object.kind}: patch under ${object.template}`)
    }
  }
})

t.test('the re-rooted patch applies to the object as sent', async (t) => {
  const res = await post('/preview', fixtureText('preview/app.yaml'), 'application/yaml')
  const sent = deployment()
  const object = res.json.objects[0]
  t.match(object, { kind: 'Deployment', name: 'web', namespace: 'team-a', template: '/spec/template', source: { document: 1, line: 6 }, decision: 'patched' })
  t.same(jsonpatch.applyPatch(sent, object.patch, true, false).newDocument, object.patchedObject)
  t.match(res.json.objects[1], { kind: 'Service', decision: 'passed-through', admitted: true })
  t.notOk('patch' in res.json.objects[1])
})

t.test('?namespace applies to every object', async (t) => {
  const res = await post('/preview?namespace=team-c', fixtureText('preview/app.yaml'), 'application/yaml')
  t.same(res.json.objects.filter((o: Json) => o.namespace !== undefined && o.decision !== 'passed-through').map((o: Json) => o.namespace), ['team-c', 'team-c'])
})

t.test('?pretty indents the answer, as the API server does', async (t) => {
  const compact = await post('/preview', fixture('pod.yaml'))
  const pretty = await post('/preview?pretty', fixture('pod.yaml'))
  const prettyTrue = await post('/preview?pretty=true&namespace=team-a', fixture('pod.yaml'))
  t.notMatch(compact.text, /\n/)
  t.match(pretty.text, /^\{\n {2}"namespace": "team-a",\n/)
  t.same(pretty.json, compact.json)
  t.same(prettyTrue.json, compact.json)
  t.notMatch((await post('/preview?pretty=false', fixture('pod.yaml'))).text, /\n/)
  const review = await post('/preview?pretty', fixture('review-update.json'))
  t.equal(review.status, 200, 'an AdmissionReview may be pretty too')
  t.equal((await post('/preview?pretty=maybe', fixture('pod.yaml'))).json.error.code, 'PG_BAD_QUERY')
})

t.test('errors say what to do', async (t) => {
  const cases: Array<[string, string, string | object, string, number, string, RegExp]> = [
    ['a Pod sent to /mutate', '/mutate', fixture('pod.yaml'), 'application/json', 400, 'PG_NOT_A_REVIEW', /^this is a Pod, not an AdmissionReview: use \/preview/],
    ['a Deployment sent to /validate', '/validate', deployment(), 'application/json', 400, 'PG_NOT_A_REVIEW', /^this is a Deployment, not an AdmissionReview: use \/preview/],
    ['an Ingress', '/mutate', { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress' }, 'application/json', 400, 'PG_NOT_A_REVIEW', /^this is an Ingress,/],
    ['a kind that is not a name', '/mutate', { kind: 'robot:s3cr3t' }, 'application/json', 400, 'PG_NOT_A_REVIEW', /^this is a Kubernetes object,/],
    ['YAML with a mistake', '/preview', fixtureText('preview-broken.yaml'), 'application/yaml', 400, 'PG_BODY_INVALID_YAML', /^body is not valid YAML at line 11, column 1: /],
    ['a workload without a template', '/preview', { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x' }, spec: {} }, 'application/json', 400, 'PG_NOT_A_POD', /^document 1 \(Deployment x\): spec\.template is missing/],
    ['a document without a kind among several', '/preview', 'kind: Service\n---\nmetadata: {name: x}\n', 'application/yaml', 400, 'PG_NOT_A_POD', /^line 3: has no kind$/],
    ['UPDATE of objects', '/preview?operation=UPDATE', fixtureText('preview/app.yaml'), 'application/yaml', 400, 'PG_BAD_QUERY', /send a whole AdmissionReview/],
    ['an AdmissionReview with a namespace', '/preview?namespace=team-a', fixture('review-update.json'), 'application/json', 400, 'PG_BAD_QUERY', /carries its own namespace/],
  ]
  for (const [name, url, body, type, status, code, message] of cases) {
    const res = await post(url, body, type)
    t.equal(res.status, status, name)
    t.equal(res.json.error?.code, code, name)
    t.match(res.json.error?.message, message, `${name}: ${res.json.error?.message}`)
    t.notMatch(res.text, /s3cr3t/, `${name}: nothing of the body quoted that is not a name`)
  }
})
