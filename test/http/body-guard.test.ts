/**
 * src/http/body-guard.ts on its own: the raw-text check that decides whether
 * the keys are walked (secure-json-parse's suspect patterns, escapes per
 * RFC 8259 section 7), and the depth walk bounded at MAX_BODY_DEPTH.
 */
import t from 'tap'
import { guardBody, mayHoldForbiddenKey, MAX_BODY_DEPTH } from '../../src/http/body-guard.js'
import { PullguardError } from '../../src/errors.js'

const arrays = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth)
const objects = (depth: number): string => '{"a":'.repeat(depth - 1) + '{}' + '}'.repeat(depth - 1)

t.test('the text check: suspect only where a forbidden key could be spelled', async (t) => {
  const table: Array<[string, string, boolean]> = [
    ['plain pod', '{"metadata":{"name":"web"}}', false],
    ['__proto__ as a value', '{"a":"__proto__"}', false],
    ['constructor as a value', '{"a":["constructor"]}', false],
    ['an unrelated escape', '{"a":"\\u003cb\\u003e"}', false],
    ['a longer key', '{"__proto__x":1,"constructors":{}}', false],
    ['__proto__ key', '{"__proto__":1}', true],
    ['space before the colon', '{"__proto__"\n :1}', true],
    ['escaped underscores, upper-case hex', '{"\\u005F\\u005Fproto__":1}', true],
    ['every letter escaped', '{"\\u005f\\u005f\\u0070\\u0072\\u006f\\u0074\\u006F\\u005f\\u005f":1}', true],
    ['constructor key', '{"constructor":{}}', true],
    ['escaped constructor', '{"\\u0063o\\u006Estru\\u0063tor":{}}', true],
  ]
  for (const [name, text, suspect] of table) t.equal(mayHoldForbiddenKey(text), suspect, name)
})

t.test('guardBody: a table of parsed bodies', async (t) => {
  // [name, JSON text, pass the text along?, expected code or undefined]
  const table: Array<[string, string, boolean, string | undefined]> = [
    ['a scalar root', '"__proto__"', true, undefined],
    ['null root', 'null', false, undefined],
    ['arrays exactly at the limit', arrays(MAX_BODY_DEPTH), true, undefined],
    ['objects exactly at the limit', objects(MAX_BODY_DEPTH), false, undefined],
    ['a scalar below the deepest level does not count', `${'['.repeat(MAX_BODY_DEPTH)}1${']'.repeat(MAX_BODY_DEPTH)}`, true, undefined],
    ['arrays one over', arrays(MAX_BODY_DEPTH + 1), true, 'PG_BODY_TOO_DEEP'],
    ['objects one over', objects(MAX_BODY_DEPTH + 1), false, 'PG_BODY_TOO_DEEP'],
    ['deep in the last array item', `[1,{},${arrays(MAX_BODY_DEPTH)}]`, true, 'PG_BODY_TOO_DEEP'],
    ['__proto__ nested in an array', '{"a":[{"b":{"__proto__":{"polluted":true}}}]}', true, 'PG_BODY_FORBIDDEN_KEY'],
    ['\\u-escaped __proto__', '{"spec":{"\\u005f_pro\\u0074o__":{"polluted":true}}}', true, 'PG_BODY_FORBIDDEN_KEY'],
    ['constructor.prototype', '{"constructor":{"prototype":{"x":1}}}', true, 'PG_BODY_FORBIDDEN_KEY'],
    ['escaped constructor.prototype', '[{"\\u0063onstructor":{"prototype":1}}]', true, 'PG_BODY_FORBIDDEN_KEY'],
    ['constructor without prototype', '{"constructor":{"name":"x"},"b":{"constructor":"y"}}', true, undefined],
    ['constructor holding an array', '{"constructor":["prototype"]}', true, undefined],
    // Without text (YAML documents) the keys are always walked.
    ['__proto__, no text', '{"a":{"__proto__":1}}', false, 'PG_BODY_FORBIDDEN_KEY'],
    // Depth is checked before keys: the message names the first problem found.
    ['too deep and forbidden', `{"__proto__":1,"b":${arrays(MAX_BODY_DEPTH)}}`, true, 'PG_BODY_TOO_DEEP'],
  ]
  for (const [name, text, withText, code] of table) {
    const run = (): void => guardBody(JSON.parse(text), withText ? text : undefined)
    if (code === undefined) t.doesNotThrow(run, name)
    else t.throws(run, { code, statusCode: 400 }, name)
  }
  t.equal(({} as Record<string, unknown>).polluted, undefined, 'nothing reached Object.prototype')
})

t.test('the key walk is skipped when the text cannot spell a forbidden key', async (t) => {
  // The value and the text given apart: the text alone decides whether keys are walked.
  const body = JSON.parse('{"a":{"__proto__":1}}') as unknown
  t.doesNotThrow(() => guardBody(body, '{"a":{"b":1}}'), 'clean text: keys not walked')
  t.throws(() => guardBody(body, '{"a":{"__proto__":1}}'), { code: 'PG_BODY_FORBIDDEN_KEY' }, 'suspect text: keys walked')
  const deep = JSON.parse(arrays(MAX_BODY_DEPTH + 1)) as unknown
  t.throws(() => guardBody(deep, '[]'), { code: 'PG_BODY_TOO_DEEP' }, 'depth is checked whatever the text')
})

t.test('errors name the limit and the key, and are catalogue errors', async (t) => {
  const deep = t.throws(() => guardBody(JSON.parse(arrays(MAX_BODY_DEPTH + 1)))) as Error
  t.type(deep, PullguardError)
  t.equal(deep.message, `body is nested more than ${MAX_BODY_DEPTH} levels deep`)
  const key = t.throws(() => guardBody(JSON.parse('{"constructor":{"prototype":{}}}'))) as Error
  t.equal(key.message, 'body contains the forbidden key "constructor"')
})

t.test('the walk is bounded: a very deep value does not overflow the stack', async (t) => {
  let deep: unknown = 1
  for (let i = 0; i < 200_000; i++) deep = i % 2 === 0 ? { x: deep } : [deep]
  t.throws(() => guardBody(deep), { code: 'PG_BODY_TOO_DEEP' })
})
