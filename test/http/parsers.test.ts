import t from 'tap'
import { parseJsonBody, parseYamlBody } from '../../src/http/parsers.js'
import { guardBody, mayHoldForbiddenKey, MAX_BODY_DEPTH } from '../../src/http/body-guard.js'

const nested = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth)

t.test('JSON bodies', async (t) => {
  t.same(parseJsonBody('{"a":[1,{"b":null}]}'), { a: [1, { b: null }] })
  const table: Array<[string, string, string]> = [
    ['empty', '', 'PG_BODY_EMPTY'],
    ['whitespace', '  \n', 'PG_BODY_EMPTY'],
    ['truncated', '{"a":', 'PG_BODY_INVALID_JSON'],
    ['not JSON', 'apiVersion: v1', 'PG_BODY_INVALID_JSON'],
    ['__proto__ key', '{"request":{"__proto__":{"polluted":true}}}', 'PG_BODY_FORBIDDEN_KEY'],
    ['constructor.prototype', '{"constructor":{"prototype":{"x":1}}}', 'PG_BODY_FORBIDDEN_KEY'],
    ['too deep', nested(MAX_BODY_DEPTH + 1), 'PG_BODY_TOO_DEEP'],
    ['absurdly deep', nested(200_000), 'PG_BODY_TOO_DEEP'],
    // The text check must see through escapes (RFC 8259 section 7): JSON.parse unescapes them.
    ['escaped __proto__', '{"a":{"\\u005f_pro\\u0074o__":{"polluted":true}}}', 'PG_BODY_FORBIDDEN_KEY'],
    ['escaped constructor', '{"\\u0063onstructor" :{"prototype":{}}}', 'PG_BODY_FORBIDDEN_KEY'],
    ['deep under an escape', '{"a":"\\u0041","b":' + nested(MAX_BODY_DEPTH) + '}', 'PG_BODY_TOO_DEEP'],
  ]
  for (const [name, text, code] of table) t.throws(() => parseJsonBody(text), { code }, name)
  t.doesNotThrow(() => parseJsonBody('{"a":"__proto__","b":["constructor"],"c":{"prototype":1}}'), 'the words as values are fine')
  t.doesNotThrow(() => parseJsonBody(nested(MAX_BODY_DEPTH)), 'exactly the limit is fine')
  t.doesNotThrow(() => parseJsonBody('{"constructor":"fine","metadata":{"annotations":{"constructor":"x"}}}'), 'constructor as a plain key is fine')
  t.equal(({} as Record<string, unknown>).polluted, undefined)
})

t.test('JSON syntax errors do not quote the body', async (t) => {
  const err = t.throws(() => parseJsonBody('{"auths":{"ghcr.io":{"auth":"c2VjcmV0OnBhc3N3b3Jk"}} oops')) as Error
  t.notMatch(err.message, /c2VjcmV0/)
  t.match(err.message, /at byte \d+/)
})

t.test('YAML bodies', async (t) => {
  const values = (text: string): unknown[] => parseYamlBody(text).objects.map((o) => o.value)
  t.same(values('kind: Pod\nspec:\n  containers: [{name: a, image: nginx}]\n'), [{ kind: 'Pod', spec: { containers: [{ name: 'a', image: 'nginx' }] } }])
  t.same(values('policy: off\n'), [{ policy: 'off' }], 'YAML 1.2: off is a string')
  t.same(values('{"a": 1}'), [{ a: 1 }], 'JSON is YAML')
  t.same(values('a: 1\n---\nb: 2\n---\n'), [{ a: 1 }, { b: 2 }], 'several documents, a trailing --- is fine')
  const table: Array<[string, string, string]> = [
    ['empty', '', 'PG_BODY_EMPTY'],
    ['only comments and markers', '# nothing\n---\n---\n', 'PG_BODY_EMPTY'],
    ['broken', 'a: [1,\n', 'PG_BODY_INVALID_YAML'],
    ['duplicate keys', 'a: 1\na: 2\n', 'PG_BODY_INVALID_YAML'],
    ['__proto__ key', '__proto__:\n  polluted: true\n', 'PG_BODY_FORBIDDEN_KEY'],
    ['too deep', `a: ${nested(MAX_BODY_DEPTH + 5)}\n`, 'PG_BODY_TOO_DEEP'],
  ]
  for (const [name, text, code] of table) t.throws(() => parseYamlBody(text), { code }, name)
})

t.test('YAML errors give line and column, never the text', async (t) => {
  const err = t.throws(() => parseYamlBody('kind: Pod\nspec:\n  a: 1\n  a: c2VjcmV0OnBhc3N3b3Jk\n')) as Error
  t.equal(err.message, 'body is not valid YAML at line 4, column 3: Map keys must be unique (DUPLICATE_KEY)')
  const token = t.throws(() => parseYamlBody('a: |x c2VjcmV0\n  b\n')) as Error
  t.notMatch(token.message, /c2VjcmV0/, 'a message that would quote the input gives only its code')
  t.match(token.message, /^body is not valid YAML at line 1, column \d+: [A-Z_]+$/)
})

t.test('YAML alias bombs are refused, not expanded', async (t) => {
  const lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
  for (let i = 0; i < 10; i++) lines.push(`${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(9).fill(`*${String.fromCharCode(97 + i)}`).join(',')}]`)
  t.throws(() => parseYamlBody(lines.join('\n') + '\n'), { code: 'PG_BODY_INVALID_YAML' })
})

t.test('guardBody never overflows the stack', async (t) => {
  let deep: unknown = 1
  for (let i = 0; i < 100_000; i++) deep = { x: deep }
  t.throws(() => guardBody(deep), { code: 'PG_BODY_TOO_DEEP' })
})

t.test('the text check: suspect only where a forbidden key could be spelled', async (t) => {
  const table: Array<[string, boolean]> = [
    ['{"metadata":{"name":"web"}}', false],
    ['{"a":"__proto__"}', false],
    ['{"a":"constructor"}', false],
    ['{"a":"\\u003cb\\u003e"}', false],
    ['{"__proto__":1}', true],
    ['{"__proto__" :1}', true],
    ['{"\\u005F\\u005Fproto__":1}', true],
    ['{"constructor":{}}', true],
    ['{"constru\\u0063tor":{}}', true],
  ]
  for (const [text, suspect] of table) {
    t.equal(mayHoldForbiddenKey(text), suspect, text)
    // Whatever the text check says, what it lets through holds no forbidden key.
    if (!suspect) t.doesNotThrow(() => guardBody(JSON.parse(text), text), text)
  }
})
