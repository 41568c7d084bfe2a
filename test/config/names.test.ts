/**
 * Kubernetes name rules the config must respect (src/config/names.ts,
 * after k8s.io/apimachinery/pkg/util/validation/validation.go), so that a
 * typo fails at start-up instead of producing pods the API server rejects.
 */
import t from 'tap'
import fc from 'fast-check'
import { compileNamespacePattern, secretNameProblem } from '../../src/config/names.js'

t.test('Secret names: RFC 1123 subdomains of at most 253 characters', async (t) => {
  const valid = ['a', 'pull', 'ghcr-acme', 'a.b.c', '0', 'x'.repeat(253), `${'a'.repeat(63)}.${'b'.repeat(63)}`]
  const invalid = ['', 'A', 'Pull', '-a', 'a-', 'a..b', '.a', 'a.', 'a_b', 'a b', 'a/b', 'ä', 'x'.repeat(254)]
  for (const name of valid) t.equal(secretNameProblem(name), undefined, JSON.stringify(name))
  for (const name of invalid) t.type(secretNameProblem(name), 'string', JSON.stringify(name))
  t.equal(secretNameProblem('x'.repeat(254)), 'is longer than 253 characters')
  t.match(secretNameProblem('A'), /RFC 1123 subdomain/)
})

t.test('namespace names match exactly; globs in Go filepath.Match syntax', async (t) => {
  const rows: Array<[string, string[], string[]]> = [
    ['team-a', ['team-a'], ['team-ab', 'team', 'Team-a']],
    ['team-b*', ['team-b', 'team-b-ci', 'team-bx'], ['team-a', 'xteam-b']],
    ['dev-?', ['dev-1', 'dev-x'], ['dev-', 'dev-12']],
    ['[ab]-ci', ['a-ci', 'b-ci'], ['c-ci', 'ab-ci']],
    ['[^ab]-ci', ['c-ci'], ['a-ci']],
    ['*', ['anything', 'kube-system'], []],
  ]
  for (const [pattern, matches, misses] of rows) {
    const m = compileNamespacePattern(pattern)
    if (typeof m === 'string') { t.fail(`${pattern}: ${m}`); continue }
    for (const ns of matches) t.ok(m(ns), `${pattern} matches ${ns}`)
    for (const ns of misses) t.notOk(m(ns), `${pattern} does not match ${ns}`)
  }
})

t.test('patterns no namespace could match are refused with why', async (t) => {
  const rows: Array<[string, string]> = [
    ['Team-A', 'is not a valid namespace name (RFC 1123 label) nor a glob'],
    ['team.a', 'is not a valid namespace name (RFC 1123 label) nor a glob'],
    ['-a', 'is not a valid namespace name (RFC 1123 label) nor a glob'],
    ['x'.repeat(64), 'is not a valid namespace name (RFC 1123 label) nor a glob'],
    ['Team-*', 'is a glob with characters no namespace name can contain'],
    ['[!a]-ci', 'is a glob with characters no namespace name can contain'],
    ['team.*', 'is a glob with characters no namespace name can contain'],
    ['[a-', 'is a malformed glob'],
  ]
  for (const [pattern, problem] of rows) t.equal(compileNamespacePattern(pattern), problem, pattern)
  t.type(compileNamespacePattern('x'.repeat(63)), 'function', '63 characters is the limit')
})

t.test('a plain name matches itself and nothing else', async () => {
  const label = fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/)
  fc.assert(fc.property(label, label, (a, b) => {
    const m = compileNamespacePattern(a)
    return typeof m === 'function' && m(a) && m(b) === (a === b)
  }))
})
