/**
 * The hand-rolled scanners of src/image/grammar.ts against the regexes of
 * github.com/distribution/reference regexp.go they stand for. On short
 * inputs a backtracking engine gives the same answers as RE2 (both are
 * anchored here and leftmost-first), so the Go patterns, written out below,
 * are the model; the scanners exist only to stay linear on long ones
 * (test/image/reference.test.ts).
 */
import t from 'tap'
import fc from 'fast-check'
import {
  goLowerForRetry, isDigestPattern, isDomainAndPort, isHexIdentifier, isLowerHexOfLength, isPathComponent, isRemoteName, isTag, matchReference,
} from '../../src/image/grammar.js'

// regexp.go, v0.6.x.
const alnum = '[a-z0-9]+'
const separator = '(?:[._]|__|[-]+)'
const pathComponent = `${alnum}(?:${separator}${alnum})*`
const remoteName = `${pathComponent}(?:/${pathComponent})*`
const domainNameComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])'
const domainName = `${domainNameComponent}(?:\\.${domainNameComponent})*`
const ipv6address = '\\[(?:[a-fA-F0-9:]+)\\]'
const domainAndPort = `(?:${domainName}|${ipv6address})(?::[0-9]+)?`
const tag = '[\\w][\\w.-]{0,127}'
const digestPat = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9A-Fa-f]{32,}'
const namePat = `(?:${domainAndPort}/)?${remoteName}`
const anchored = (re: string): RegExp => new RegExp(`^(?:${re})$`)
const REFERENCE = new RegExp(`^(${namePat})(?::(${tag}))?(?:@(${digestPat}))?$`)
const ANCHORED_NAME = new RegExp(`^(?:(${domainAndPort})/)?(${remoteName})$`)

const HEX64 = 'a'.repeat(64)

t.test('each scanner on the cases regexp_test.go and normalize_test.go use', async (t) => {
  const rows: Array<[string, (s: string) => boolean, string[], string[]]> = [
    ['isPathComponent', isPathComponent, ['a', 'a.b', 'a_b', 'a__b', 'a-b', 'a---b', 'a0', '0'], ['', 'A', 'a.', '.a', 'a..b', 'a___b', 'a_-b', 'a._b', '-a', 'a-']],
    ['isRemoteName', isRemoteName, ['a', 'a/b', 'library/nginx', 'a/b/c.d'], ['', 'a/', '/a', 'a//b', 'A/b']],
    ['isDomainAndPort', isDomainAndPort, ['localhost', 'a.b', 'A-B.c', 'x:5000', '[::1]', '[::1]:5000', '[fe80::1]', '[ABC]'], ['', '-a', 'a-', 'a..b', 'x:', 'x:p', '[]', '[::1', '[::1]x', '[g]', 'a_b.c', ':80']],
    ['isTag', isTag, ['latest', '1.2', '_x', 'A', 'a'.repeat(128)], ['', '.a', '-a', 'a/b', 'a:b', 'a'.repeat(129)]],
    ['isDigestPattern', isDigestPattern, [`sha256:${HEX64}`, `a+b.c_d-e:${'F'.repeat(32)}`, `MD5:${'0'.repeat(32)}`], [`sha256:${'a'.repeat(31)}`, `:${HEX64}`, `1a:${HEX64}`, `a+:${HEX64}`, `a:${'g'.repeat(32)}`, 'sha256']],
    ['isHexIdentifier', isHexIdentifier, [HEX64, '0123456789abcdef'.repeat(4)], [HEX64.toUpperCase(), 'a'.repeat(63), 'a'.repeat(65), `${'a'.repeat(63)}g`, `${HEX64}\n`]],
  ]
  for (const [name, scan, accept, reject] of rows) {
    for (const s of accept) t.ok(scan(s), `${name} accepts ${JSON.stringify(s)}`)
    for (const s of reject) t.notOk(scan(s), `${name} rejects ${JSON.stringify(s)}`)
  }
  t.ok(isLowerHexOfLength('ab12', 4))
  t.notOk(isLowerHexOfLength('AB12', 4))
  t.notOk(isLowerHexOfLength('ab12', 5))
})

t.test('matchReference splits domain, path, tag and digest', async (t) => {
  const rows: Array<[string, ReturnType<typeof matchReference>]> = [
    ['docker.io/library/nginx', { domain: 'docker.io', path: 'library/nginx', tag: undefined, digest: undefined }],
    ['localhost:5000/a/b:v1', { domain: 'localhost:5000', path: 'a/b', tag: 'v1', digest: undefined }],
    [`ghcr.io/acme/app:1@sha256:${HEX64}`, { domain: 'ghcr.io', path: 'acme/app', tag: '1', digest: `sha256:${HEX64}` }],
    ['[::1]:5000/x', { domain: '[::1]:5000', path: 'x', tag: undefined, digest: undefined }],
    ['test_com/foo', { domain: '', path: 'test_com/foo', tag: undefined, digest: undefined }], // not a domain, but a path
    ['a', { domain: '', path: 'a', tag: undefined, digest: undefined }],
    ['a/b:', undefined],
    ['a@b', undefined],
    [`a@sha256:${HEX64}@x`, undefined],
    ['A/b/C', undefined],
  ]
  for (const [input, expected] of rows) t.same(matchReference(input), expected, input)
})

const ALPHABET = ['a', 'b', 'A', '0', '9', 'f', '.', '_', '-', '/', ':', '@', '[', ']', '+']
const short = fc.string({ unit: fc.constantFrom(...ALPHABET), maxLength: 14 })
const digest = fc.tuple(fc.constantFrom('sha256', 'a+b', 'A', '1a', 'a_', 'x.y-z'), fc.constantFrom('f'.repeat(32), 'F'.repeat(40), 'f'.repeat(31), 'g'.repeat(32)))
  .map(([alg, hex]) => `${alg}:${hex}`)
const reference = fc.oneof(short, fc.tuple(short, digest).map(([a, d]) => `${a}@${d}`))

t.test('each scanner accepts exactly what its regexp.go pattern accepts', async () => {
  const pairs: Array<[(s: string) => boolean, RegExp]> = [
    [isPathComponent, anchored(pathComponent)],
    [isRemoteName, anchored(remoteName)],
    [isDomainAndPort, anchored(domainAndPort)],
    [isTag, anchored(tag)],
  ]
  fc.assert(fc.property(short, (s) => pairs.every(([scan, re]) => scan(s) === re.test(s))), { numRuns: 5000 })
  fc.assert(fc.property(fc.oneof(digest, short), (s) => isDigestPattern(s) === anchored(digestPat).test(s)), { numRuns: 2000 })
})

t.test('matchReference captures what referencePat and anchoredNameRegexp capture', async () => {
  fc.assert(fc.property(reference, (s) => {
    const m = REFERENCE.exec(s)
    const got = matchReference(s)
    if (m === null) return got === undefined
    const name = ANCHORED_NAME.exec(m[1] as string)
    if (name === null || got === undefined) return false
    return got.domain === (name[1] ?? '') && got.path === name[2] && got.tag === m[2] && got.digest === m[3]
  }), { numRuns: 5000 })
})

t.test('goLowerForRetry: Go strings.ToLower where it can land in ASCII', async (t) => {
  const rows: Array<[string, string]> = [
    ['ABC/Def', 'abc/def'],
    ['\u0130mage', 'image'], // İ → i (JavaScript's toLowerCase gives i + U+0307)
    ['\u212Aey', 'key'], // Kelvin sign → k
    ['ÄÖ', 'ÄÖ'], // non-ASCII stays as is: the ASCII grammar rejects it either way
    ['already-lower', 'already-lower'],
  ]
  for (const [input, out] of rows) t.equal(goLowerForRetry(input), out, input)
})
