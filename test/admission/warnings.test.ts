/**
 * Admission warnings (src/admission/warnings.ts): kubectl prints every one on
 * every matching request and the API server caps them
 * (k8s.io/apiserver/pkg/warning), so they stay few, short and distinct.
 */
import t from 'tap'
import fc from 'fast-check'
import { MAX_WARNING_LENGTH, MAX_WARNINGS, WARNING_REASONS, Warnings } from '../../src/admission/warnings.js'

t.test('lines come back in order, identical texts once', async (t) => {
  const w = new Warnings()
  w.add('secret-missing', 'one')
  w.add('bad-label', 'two')
  w.add('secret-missing', 'one')
  t.same(w.list(), ['one', 'two'])
  t.same(w.reasons(), ['secret-missing', 'bad-label'], 'a repeated text is counted once')
})

t.test('a long text is cut to MAX_WARNING_LENGTH with an ellipsis', async (t) => {
  const rows: Array<[number, number]> = [[MAX_WARNING_LENGTH - 1, MAX_WARNING_LENGTH - 1], [MAX_WARNING_LENGTH, MAX_WARNING_LENGTH], [MAX_WARNING_LENGTH + 1, MAX_WARNING_LENGTH], [5000, MAX_WARNING_LENGTH]]
  for (const [length, expected] of rows) {
    const w = new Warnings()
    w.add('invalid-image', 'x'.repeat(length))
    const [line] = w.list()
    t.equal(line?.length, expected, `${length} characters`)
    t.equal(line?.endsWith('…'), length > MAX_WARNING_LENGTH)
  }
})

t.test('two texts equal once cut collapse into one', async (t) => {
  const w = new Warnings()
  const head = 'y'.repeat(MAX_WARNING_LENGTH)
  w.add('invalid-image', `${head}a`)
  w.add('invalid-image', `${head}b`)
  t.equal(w.list().length, 1)
})

t.test('at most MAX_WARNINGS lines: the last says how many were dropped; reasons keep them all', async (t) => {
  for (const count of [MAX_WARNINGS - 1, MAX_WARNINGS, MAX_WARNINGS + 5]) {
    const w = new Warnings()
    for (let i = 0; i < count; i++) w.add('secret-missing', `warning ${i}`)
    const lines = w.list()
    t.ok(lines.length <= MAX_WARNINGS, `${count}: ${lines.length} lines`)
    t.equal(w.reasons().length, count, `${count}: every reason counted`)
    if (count >= MAX_WARNINGS) {
      t.equal(lines.length, MAX_WARNINGS)
      t.equal(lines.at(-1), `pullguard: ${count - (MAX_WARNINGS - 1)} more warning(s) not shown; see /preview for details`)
    } else {
      t.same(lines, Array.from({ length: count }, (_, i) => `warning ${i}`))
    }
  }
})

t.test('list() returns a copy', async (t) => {
  const w = new Warnings()
  w.add('bad-label', 'a')
  w.list().push('b')
  w.reasons().push('invalid-image')
  t.same(w.list(), ['a'])
  t.same(w.reasons(), ['bad-label'])
})

t.test('whatever is added, the output stays inside the limits', async () => {
  fc.assert(fc.property(fc.array(fc.tuple(fc.constantFrom(...WARNING_REASONS), fc.string({ maxLength: 300 })), { maxLength: 40 }), (adds) => {
    const w = new Warnings()
    for (const [reason, text] of adds) w.add(reason, text)
    const lines = w.list()
    return lines.length <= MAX_WARNINGS && lines.every((l) => l.length <= MAX_WARNING_LENGTH) && new Set(lines).size === lines.length
  }))
})
