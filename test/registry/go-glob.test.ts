import t from 'tap'
import fc from 'fast-check'
import { compileGoGlob, GlobSyntaxError, hasGlobMeta } from '../../src/registry/go-glob.js'

// Go's src/path/filepath/match_test.go (Unix), as [pattern, name, match].
const goMatchTests: ReadonlyArray<readonly [string, string, boolean]> = [
  ['abc', 'abc', true],
  ['*', 'abc', true],
  ['*c', 'abc', true],
  ['a*', 'a', true],
  ['a*', 'abc', true],
  ['a*', 'ab/c', false],
  ['a*/b', 'abc/b', true],
  ['a*/b', 'a/c/b', false],
  ['a*b*c*d*e*/f', 'axbxcxdxe/f', true],
  ['a*b*c*d*e*/f', 'axbxcxdxexxx/f', true],
  ['a*b*c*d*e*/f', 'axbxcxdxe/xxx/f', false],
  ['a*b*c*d*e*/f', 'axbxcxdxexxx/fff', false],
  ['a*b?c*x', 'abxbbxdbxebxczzx', true],
  ['a*b?c*x', 'abxbbxdbxebxczzy', false],
  ['ab[c]', 'abc', true],
  ['ab[b-d]', 'abc', true],
  ['ab[e-g]', 'abc', false],
  ['ab[^c]', 'abc', false],
  ['ab[^b-d]', 'abc', false],
  ['ab[^e-g]', 'abc', true],
  ['a\\*b', 'a*b', true],
  ['a\\*b', 'ab', false],
  ['a?b', 'a☺b', true],
  ['a[^a]b', 'a☺b', true],
  ['a???b', 'a☺b', false],
  ['a[^a][^a][^a]b', 'a☺b', false],
  ['[a-ζ]*', 'α', true],
  ['*[a-ζ]', 'A', false],
  ['a?b', 'a/b', false],
  ['a*b', 'a/b', false],
  ['[\\]a]', ']', true],
  ['[\\-]', '-', true],
  ['[x\\-]', 'x', true],
  ['[x\\-]', '-', true],
  ['[x\\-]', 'z', false],
  ['[\\-x]', 'x', true],
  ['[\\-x]', '-', true],
  ['[\\-x]', 'a', false],
  ['*x', 'xxx', true],
]

// Go's ErrBadPattern cases, plus more. Current Go reports them whatever the name
// (even after an early mismatch: 'a[' against 'x'), so they fail at compile time.
const badPatterns: readonly string[] = [
  '[]a]',
  '[-]',
  '[x-]',
  '[-x]',
  '\\',
  '[a-b-c]',
  '[',
  '[^',
  '[^bc',
  'a[',
  'a/b[',
  '[]',
  '[^]',
  'a\\',
  'x*[a',
  '[a*',
  'abc[',
  '*[',
  '[a-]',
  '[a-\\',
]

t.test("Go's match_test.go table", async (t) => {
  for (const [pattern, name, want] of goMatchTests) {
    t.equal(compileGoGlob(pattern)(name), want, `Match(${pattern}, ${name})`)
  }
})

t.test('malformed patterns throw GlobSyntaxError naming the pattern', async (t) => {
  for (const pattern of badPatterns) {
    t.throws(() => compileGoGlob(pattern), GlobSyntaxError, pattern)
    try {
      compileGoGlob(pattern)
    } catch (err) {
      t.ok(err instanceof GlobSyntaxError && err.pattern === pattern, `${pattern}: error carries the pattern`)
      t.ok((err as Error).message.includes(JSON.stringify(pattern)), `${pattern}: message quotes the pattern`)
    }
  }
})

// Corners where Go's chunk algorithm is not a regular expression.
t.test("Go's algorithm, not a regexp", async (t) => {
  const cases: ReadonlyArray<readonly [string, string, boolean, string]> = [
    // The star matched the leftmost placement of '[^a]' ('c'), and then cannot skip '/'.
    ['*[^a]*b', 'c/b', false, 'leftmost chunk placement with a separator'],
    ['*[^a]b', 'c/b', true, 'negated class matches a separator'],
    ['[^a]', '/', true, 'negated class matches a separator'],
    ['?', '/', false, '? never matches a separator'],
    ['*', 'a/b', false, 'trailing star stops at separators'],
    ['**', 'abc', true, 'consecutive stars'],
    ['**', 'a/b', false, 'consecutive stars stop at separators'],
    ['a/*', 'a/bc', true, 'literal separator'],
    ['', '', true, 'empty pattern, empty name'],
    ['', 'a', false, 'empty pattern, non-empty name'],
    ['*', '', true, 'star matches empty'],
    ['?', '', false, '? needs a character'],
    // A star resumes at byte offsets, also inside a multi-byte character.
    ['??', '☺', false, 'two ? against one 3-byte rune'],
    ['*??', '☺', true, "star skips a byte of '☺', each ? then reads an invalid byte"],
    ['*?', '☺', true, 'star then one rune'],
    ['[☺]', '☺', true, 'non-ASCII literal in a class'],
    ['a\\[b', 'a[b', true, 'escaped ['],
    ['a\\b', 'ab', true, 'escaped ordinary character'],
    ['[*]', '*', true, 'star inside a class is literal'],
    ['[*]x', 'ax', false, 'star inside a class is literal (no match)'],
    ['[a]]', 'a]', true, "']' after a class is literal"],
    ['a]', 'a]', true, "unbalanced ']' is literal"],
    ['*.io', 'quay.io', true, 'suffix'],
    ['*.io', 'quayio', false, 'suffix (no match)'],
    ['*-good', 'prefix-good', true, 'suffix with dash'],
  ]
  for (const [pattern, name, want, why] of cases) {
    t.equal(compileGoGlob(pattern)(name), want, `Match(${pattern}, ${name}): ${why}`)
  }
})

t.test('hasGlobMeta', async (t) => {
  const cases: ReadonlyArray<readonly [string, boolean]> = [
    ['abc', false],
    ['', false],
    ['a-b.c', false],
    ['a*', true],
    ['a?', true],
    ['[a]', true],
    ['a\\b', true],
    [']', false],
    ['^', false],
  ]
  for (const [s, want] of cases) t.equal(hasGlobMeta(s), want, s)
})

t.test('a matcher is reusable and independent of other matchers', async (t) => {
  const a = compileGoGlob('a*b')
  const c = compileGoGlob('c?')
  t.equal(a('axxb'), true)
  t.equal(c('cx'), true)
  t.equal(a('a' + 'x'.repeat(5000) + 'b'), true, 'long names grow the scratch buffer')
  t.equal(a('aé☺b'), true, 'non-ASCII names')
  t.equal(a('axxc'), false)
  t.equal(c('c'), false)
})

// Without separators Go's algorithm equals ordinary glob semantics, so compare
// with a regular expression built from the same tokens.
t.test('property: agrees with a regexp reference on names without separators', async (t) => {
  const tokens: ReadonlyArray<readonly [string, string]> = [
    ['a', 'a'], ['b', 'b'], ['.', '\\.'], ['*', '[^/]*'], ['?', '[^/]'],
    ['[ab]', '[ab]'], ['[^a]', '[^a]'], ['[a-c]', '[a-c]'], ['\\*', '\\*'], ['\\a', 'a'],
    ['[\\]x]', '[\\]x]'], ['é', 'é'],
  ]
  fc.assert(fc.property(
    fc.array(fc.constantFrom(...tokens), { maxLength: 7 }),
    fc.array(fc.constantFrom('a', 'b', 'c', '.', '*', ']', 'x', 'é'), { maxLength: 9 }),
    (parts, chars) => {
      const pattern = parts.map((p) => p[0]).join('')
      const reference = new RegExp(`^${parts.map((p) => p[1]).join('')}$`, 'u')
      const name = chars.join('')
      return compileGoGlob(pattern)(name) === reference.test(name)
    }
  ), { numRuns: 5000 })
  t.pass('agrees')
})
