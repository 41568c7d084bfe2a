import t from 'tap'
import { manifestsFromValue, readManifests } from '../../src/preview/documents.js'
import { fixtureText } from '../helpers/fixtures.js'

const summary = (text: string, origin?: string): Array<[unknown, number, number | undefined, number | undefined]> =>
  readManifests(text, origin).map((o) => [o.value.kind, o.document.index, o.item, o.line])

t.test('documents, Lists and lines', async (t) => {
  const cases: Array<[string, string, ReturnType<typeof summary>]> = [
    ['one document', 'kind: Pod\n', [['Pod', 1, undefined, 1]]],
    ['several, trailing ---', 'kind: A\n---\nkind: B\n---\n', [['A', 1, undefined, 1], ['B', 2, undefined, 3]]],
    ['leading --- and comments', '# helm\n---\n# Source: x\nkind: A\n', [['A', 1, undefined, 4]]],
    ['empty documents skipped', '---\n---\n# only a comment\n---\nkind: A\n', [['A', 1, undefined, 5]]],
    ['kind: List unfolds', 'kind: List\nitems:\n- kind: A\n- kind: B\n', [['A', 1, 0, 3], ['B', 1, 1, 4]]],
    ['typed lists too (kubectl get -o yaml)', 'kind: PodList\nitems:\n- kind: Pod\n', [['Pod', 1, 0, 3]]],
    ['JSON', '{"kind": "A"}', [['A', 1, undefined, 1]]],
    ['a JSON List', '{\n  "kind": "List",\n  "items": [\n    {"kind": "A"}\n  ]\n}\n', [['A', 1, 0, 4]]],
  ]
  for (const [name, text, expected] of cases) t.same(summary(text), expected, name)
})

t.test('the real fixtures', async (t) => {
  t.same(summary(fixtureText('preview/app.yaml'), 'app.yaml').map((s) => s[0]), ['Deployment', 'Service', 'CronJob'])
  t.same(summary(fixtureText('preview/list.json')).map((s) => s[0]), ['StatefulSet', 'DaemonSet', 'ConfigMap'])
  const [first] = readManifests(fixtureText('preview/app.yaml'), 'app.yaml')
  t.match(first?.document.text, /^# What `helm template/, 'the first document keeps the comments before the first ---')
  t.equal(first?.document.indentSeq, false, 'kubectl-style lists (dash under the key) are noticed')
  t.equal(readManifests('a:\n  - x\n')[0]?.document.indentSeq, true)
})

t.test('errors: one line, the place, never the text', async (t) => {
  const cases: Array<[string, string, string | undefined, string, RegExp]> = [
    ['bad indentation', fixtureText('preview-broken.yaml'), 'broken.yaml', 'PG_BODY_INVALID_YAML', /^broken\.yaml:11:1: not valid YAML: .+ \(MISSING_CHAR\)$/],
    ['duplicate key in a body', 'a: 1\na: 2\n', undefined, 'PG_BODY_INVALID_YAML', /^body is not valid YAML at line 2, column 1: Map keys must be unique \(DUPLICATE_KEY\)$/],
    ['unresolved alias', 'a: *s3cr3t\n', 'x.yaml', 'PG_BODY_INVALID_YAML', /^x\.yaml:1:1: not valid YAML: an alias refers to an anchor that is not defined before it$/],
    ['a scalar document', 'kind: A\n---\nhello\n', 'x.yaml', 'PG_NOT_A_POD', /^x\.yaml, document 2 is not an object/],
    ['a list item that is not an object', 'kind: List\nitems: [1]\n', 'x.yaml', 'PG_NOT_A_POD', /^x\.yaml, document 1, items\[0\] is not an object/],
    ['prototype key', 'kind: A\n---\n__proto__: {}\n', 'x.yaml', 'PG_BODY_FORBIDDEN_KEY', /^x\.yaml, document 2: forbidden key "__proto__"$/],
  ]
  for (const [name, text, origin, code, message] of cases) {
    const err = t.throws(() => readManifests(text, origin), { code }, name) as Error
    t.match(err.message, message, `${name}: ${err.message}`)
    t.notMatch(err.message, /s3cr3t|\n/, `${name}: no input quoted, one line`)
  }
})

t.test('a parsed JSON body', async (t) => {
  t.same(manifestsFromValue({ kind: 'List', items: [{ kind: 'A' }] }).map((o) => [o.value.kind, o.item, o.line]), [['A', 0, undefined]])
  t.throws(() => manifestsFromValue([1]), { code: 'PG_NOT_A_POD' })
})
