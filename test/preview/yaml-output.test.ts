import t from 'tap'
import { parseAllDocuments } from 'yaml'
import { readManifests } from '../../src/preview/documents.js'
import { previewObject } from '../../src/preview/evaluate.js'
import { printManifests } from '../../src/preview/yaml-output.js'
import { fixtureText, testConfig } from '../helpers/fixtures.js'

function run (...files: Array<[string, string]>): { out: string, patched: unknown[] } {
  const config = testConfig()
  const previews = files.flatMap(([text, origin]) => readManifests(text, origin)).map((o) => previewObject(o, { config, cluster: undefined }))
  return { out: printManifests(previews), patched: previews.map((p) => p.patchedObject) }
}

/** The documents of a stream as values (a List stays one document). */
function values (text: string): unknown[] {
  return parseAllDocuments(text).map((d) => d.toJS()).filter((v) => v !== null)
}

t.test('the manifests again, each pod template patched, nothing else changed', async (t) => {
  const input = fixtureText('preview/app.yaml')
  const { out, patched } = run([input, 'app.yaml'])
  t.same(values(out), patched, 'what is printed is the patched objects')
  // The whole difference a reviewer would see in a diff.
  const expected = input
    .replaceAll('imagePullPolicy: IfNotPresent', 'imagePullPolicy: Always')
    .replace('      - name: ghcr-acme\n', '      - name: ghcr-acme\n      - name: acr-pull\n')
    .replace('command: ["python", "-m", "report"]\n', 'command: ["python", "-m", "report"]\n          imagePullSecrets:\n          - name: dockerhub-pull\n')
    .replace(/---\n$/, '')
  t.equal(out, expected, 'only the Secrets and pull policies change, and the trailing empty document goes')
  t.match(out, '        image: ghcr.io/acme/web:2.1.0 # bumped by renovate', 'comments kept')
  t.match(out, '      - name: ghcr-acme\n      - name: acr-pull\n', 'appended to the existing list, in kubectl\'s dash style')
  t.match(out, '          imagePullSecrets:\n          - name: dockerhub-pull\n', 'a new list in the document\'s style')
  t.match(out, '        args: ["--to", "latest"]', 'flow lists as written')
  t.match(out, /^# What `helm template/, 'the leading comment is kept')
  t.equal(out.match(/^---$/gm)?.length, 3, 'one --- per document boundary (plus the one that was in the first document)')
  t.match(out, '# Source: web/templates/service.yaml\napiVersion: v1\nkind: Service', 'an untouched document is printed as written')
})

t.test('dash indented under the key: kept so', async (t) => {
  const input = 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace: team-a\nspec:\n  containers:\n    - name: a\n      image: ghcr.io/acme/a:1\n'
  const { out } = run([input, 'p.yaml'])
  t.match(out, '  containers:\n    - name: a\n      image: ghcr.io/acme/a:1\n      imagePullPolicy: Always\n  imagePullSecrets:\n    - name: ghcr-acme\n')
})

t.test('a List patched item by item; JSON stays JSON, in its indentation', async (t) => {
  const input = fixtureText('preview/list.json')
  const { out } = run([input, 'list.json'])
  const list = JSON.parse(out)
  t.equal(list.items[0].spec.template.spec.imagePullSecrets[0].name, 'internal-registry')
  t.equal(list.items[1].spec.template.spec.containers[0].imagePullPolicy, 'Always')
  t.same(list.items[2], JSON.parse(input).items[2], 'the ConfigMap as it was')
  t.match(out, /^\{\n {2}"apiVersion"/)
  const four = JSON.stringify(JSON.parse(input), null, 4)
  t.match(run([four, 'list.json']).out, /^\{\n {4}"apiVersion"/, 'kubectl get -o json indents by 4')
})

t.test('an alias in the way: the values are printed instead', async (t) => {
  const input = 'apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: team-a}\nspec:\n  containers: &c\n  - name: a\n    image: ghcr.io/acme/a:1\n  initContainers: *c\n'
  const { out, patched } = run([input, 'p.yaml'])
  t.same(values(out), patched)
})

t.test('several files: one stream', async (t) => {
  const { out, patched } = run([fixtureText('preview/app.yaml'), 'app.yaml'], ['kind: ConfigMap\napiVersion: v1\nmetadata: {name: c}\n', 'c.yaml'])
  t.same(values(out), patched)
  t.match(out, /\n---\nkind: ConfigMap\napiVersion: v1\nmetadata: \{name: c\}\n$/)
})
