/**
 * excludeNamespaces (names and Go filepath.Match globs) as one anchored RE2
 * pattern: never looser than pullguard's own matcher on any string, exact on
 * namespace names, bounded in size, never throwing.
 */
import t from 'tap'
import fc from 'fast-check'
import { RE2JS } from '@bufbuild/re2'
import { compileConfig } from '../../src/config/compile.js'
import { compileNamespacePattern } from '../../src/config/names.js'
import { excludedNamespacesPattern } from '../../src/kube/excluded-namespaces.js'

/** As CEL `matches()` runs it: RE2, unanchored (the pattern anchors itself). */
const matcher = (pattern: string): (s: string) => boolean => {
  if (pattern === '') return () => false
  const re = RE2JS.compile(pattern)
  return (s) => re.test(s)
}

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/

t.test('names and globs, as RE2', async (t) => {
  const cases: ReadonlyArray<readonly [string[], string]> = [
    [[], ''],
    [['pullguard'], '^(?:pullguard)$'],
    [['pullguard', 'sandbox', 'pullguard'], '^(?:pullguard|sandbox)$'],
    [['team-b*'], '^(?:team-b[\\-0-9a-z]*)$'],
    [['ci-?'], '^(?:ci-[\\-0-9a-z])$'],
    [['dev-[0-9]'], '^(?:dev-[0-9])$'],
    [['[^a]x'], '^(?:[\\-0-9b-z]x)$'],
    [['a**b'], '^(?:a[\\-0-9a-z]*b)$'],
    [['[A-Z]x'], ''],
    [['a.b*'], ''],
    [[''], ''],
    [['a['], ''],
  ]
  for (const [entries, want] of cases) t.equal(excludedNamespacesPattern(entries).pattern, want, JSON.stringify(entries))
  t.equal(excludedNamespacesPattern(['[A-Z]x', 'a']).dropped, 0, 'an entry that matches no namespace is not counted as dropped')
})

t.test('the size limit keeps the first entries and counts the rest', async (t) => {
  const entries = ['pullguard', 'team-a', 'team-b', 'team-c']
  const r = excludedNamespacesPattern(entries, '^(?:pullguard|team-a)$'.length)
  t.same(r, { pattern: '^(?:pullguard|team-a)$', dropped: 2 })
  t.same(excludedNamespacesPattern(entries, 3), { pattern: '', dropped: 4 }, 'nothing fits: nothing excluded (more enforcement)')
  t.equal(excludedNamespacesPattern(entries).dropped, 0, 'the default limit is generous')
})

const globArb = fc.array(fc.constantFrom('a', 'b', 'z', '0', '9', '-', '*', '?', '[a-c]', '[^a]', '[^-b]', '[0-9]', '[b-b]'), { minLength: 1, maxLength: 5 })
  .map((items) => items.join(''))
const nameArb = fc.string({ unit: fc.constantFrom('a', 'b', 'c', 'z', '0', '9', '-'), minLength: 1, maxLength: 7 })
const anyArb = fc.string({ unit: fc.constantFrom('a', 'b', 'A', 'B', '0', '-', '_', '.', '/', '*', '?', '[', 'é'), maxLength: 7 })

t.test('property: exact on names of namespace characters, never looser on any string', async () => {
  fc.assert(fc.property(fc.array(fc.oneof(globArb, nameArb), { minLength: 1, maxLength: 3 }), fc.array(nameArb, { maxLength: 8 }), fc.array(anyArb, { maxLength: 8 }),
    (entries, names, others) => {
      const compiled = entries.map(compileNamespacePattern)
      if (compiled.some((m) => typeof m === 'string')) return // the config refuses it
      const pullguard = (s: string): boolean => compiled.some((m) => (m as (n: string) => boolean)(s))
      const policy = matcher(excludedNamespacesPattern(entries).pattern)
      for (const name of names) {
        if (policy(name) !== pullguard(name)) throw new Error(`${JSON.stringify(entries)} / ${name}: policy ${String(policy(name))}, pullguard ${String(pullguard(name))}`)
      }
      for (const s of [...others, ...names.map((n) => n.toUpperCase())]) {
        if (policy(s) && !pullguard(s)) throw new Error(`${JSON.stringify(entries)} / ${JSON.stringify(s)}: the policy skips what pullguard does not`)
      }
    }), { numRuns: 1000 })
})

t.test('property: with the config as compiled, the pattern (own namespace first) is config.isExcluded on namespace names', async () => {
  fc.assert(fc.property(fc.array(fc.oneof(globArb, nameArb), { maxLength: 3 }), fc.constantFrom('pullguard', 'pg-system'), fc.array(nameArb, { maxLength: 8 }),
    (excludeNamespaces, self, names) => {
      if (excludeNamespaces.some((e) => typeof compileNamespacePattern(e) === 'string')) return
      const config = compileConfig({ excludeNamespaces }, { origin: 'property', selfNamespace: self })
      const policy = matcher(excludedNamespacesPattern([self, ...config.excludeNamespaces]).pattern)
      for (const name of [...names, self].filter((n) => DNS1123_LABEL.test(n))) {
        if (policy(name) !== config.isExcluded(name)) throw new Error(`${JSON.stringify(excludeNamespaces)} (self ${self}) / ${name}: policy ${String(policy(name))}, pullguard ${String(config.isExcluded(name))}`)
      }
    }), { numRuns: 500 })
})
