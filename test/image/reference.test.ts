import t from 'tap'
import fc from 'fast-check'
import {
  isDockerHub, parseImageReference, REFERENCE_ERROR_MESSAGES,
  type ImageReference, type ParsedReference, type ReferenceErrorCode
} from '../../src/image/reference.js'

// Digests used by distribution's own tests.
const D256 = 'dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c'
const F64 = 'f'.repeat(64)
const F96 = 'f'.repeat(96)
const F128 = 'f'.repeat(128)
const MAX_TAG = 'T' + '.-_9a'.repeat(25) + 'xy' // 128 chars: the most `[\w][\w.-]{0,127}` allows

interface Valid { input: string, domain: string, path: string, tag?: string, digest?: string }

// input → expected normalised reference. `canonical` and `name` are derived
// below from domain/path/tag/digest, so each row pins every field.
const valid: Valid[] = [
  // normalize_test.go TestNormalizedSplitHostname / TestParseRepositoryInfo / TestParseAnyReference
  { input: 'nginx', domain: 'docker.io', path: 'library/nginx', tag: 'latest' },
  { input: 'library/nginx', domain: 'docker.io', path: 'library/nginx', tag: 'latest' },
  { input: 'docker.io/nginx', domain: 'docker.io', path: 'library/nginx', tag: 'latest' },
  { input: 'index.docker.io/nginx', domain: 'docker.io', path: 'library/nginx', tag: 'latest' },
  { input: 'index.docker.io/library/nginx:1.2', domain: 'docker.io', path: 'library/nginx', tag: '1.2' },
  { input: 'docker.io/foo/bar', domain: 'docker.io', path: 'foo/bar', tag: 'latest' },
  { input: 'docker.io/library/foo/bar', domain: 'docker.io', path: 'library/foo/bar', tag: 'latest' },
  { input: 'index.docker.io/fooo/bar', domain: 'docker.io', path: 'fooo/bar', tag: 'latest' },
  { input: 'test_com/foo', domain: 'docker.io', path: 'test_com/foo', tag: 'latest' },
  { input: 'ghcr.io/acme/app:v1', domain: 'ghcr.io', path: 'acme/app', tag: 'v1' },
  { input: 'localhost/foo', domain: 'localhost', path: 'foo', tag: 'latest' },
  { input: 'localhost:5000/foo/bar:tag', domain: 'localhost:5000', path: 'foo/bar', tag: 'tag' },
  { input: '[::1]:5000/foo', domain: '[::1]:5000', path: 'foo', tag: 'latest' },
  { input: '[2001:db8::1]/foo', domain: '[2001:db8::1]', path: 'foo', tag: 'latest' },
  { input: '[fc00:1:2:3:4:5:6:7]:5000/library/debian', domain: '[fc00:1:2:3:4:5:6:7]:5000', path: 'library/debian', tag: 'latest' },
  { input: 'Foo/bar', domain: 'Foo', path: 'bar', tag: 'latest' }, // uppercase first component = domain
  { input: 'FOO/bar', domain: 'FOO', path: 'bar', tag: 'latest' },
  { input: '[ABC]/x', domain: '[ABC]', path: 'x', tag: 'latest' }, // a domain for its uppercase; '[abc]/x' is invalid
  { input: 'Docker.io/foo', domain: 'Docker.io', path: 'foo', tag: 'latest' }, // not docker.io: no library/ prefix
  { input: 'docker.io:443/nginx', domain: 'docker.io:443', path: 'nginx', tag: 'latest' }, // not Hub either
  { input: 'a.b/c__d/e-f/g---h', domain: 'a.b', path: 'c__d/e-f/g---h', tag: 'latest' },
  { input: 'registry.io/foo/project--id.module--name.ver---sion--name', domain: 'registry.io', path: 'foo/project--id.module--name.ver---sion--name', tag: 'latest' },
  { input: 'b.gcr.io/test.example.com/my-app:test.example.com', domain: 'b.gcr.io', path: 'test.example.com/my-app', tag: 'test.example.com' },
  { input: '127.0.0.1:5000/library/debian', domain: '127.0.0.1:5000', path: 'library/debian', tag: 'latest' },
  { input: '192.168.1.1:5000/repo:5050', domain: '192.168.1.1:5000', path: 'repo', tag: '5050' },
  { input: 'lowercase:Uppercase', domain: 'docker.io', path: 'library/lowercase', tag: 'Uppercase' },
  { input: 'nginx:' + MAX_TAG, domain: 'docker.io', path: 'library/nginx', tag: MAX_TAG },
  // No '/': the whole string is a Hub name even if it looks like host:port (normalize.go FIXME).
  { input: 'localhost:5000', domain: 'docker.io', path: 'library/localhost', tag: '5000' },
  { input: '192.168.0.1:80', domain: 'docker.io', path: 'library/192.168.0.1', tag: '80' },
  { input: 'index.docker.io', domain: 'docker.io', path: 'library/index.docker.io', tag: 'latest' },
  // 64 chars but not hex / 63 hex / hex with a domain: not the "image ID" rejection.
  { input: 'thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev', domain: 'docker.io', path: 'library/thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev', tag: 'latest' },
  { input: D256.slice(0, 63), domain: 'docker.io', path: 'library/' + D256.slice(0, 63), tag: 'latest' },
  { input: 'docker.io/' + D256, domain: 'docker.io', path: 'library/' + D256, tag: 'latest' },
  // A first component with '.' that is no valid domain but is a valid path:
  // reference.go Parse leaves the domain empty (cf. reference_test.go TestDomainAndPath 'test_com/foo').
  { input: 'a_b.c/d', domain: '', path: 'a_b.c/d', tag: 'latest' },
  // Digests: kept; with a tag too, the tag is dropped (normalize.go ParseDockerRef).
  { input: 'registry.example.com:443/x@sha256:' + D256, domain: 'registry.example.com:443', path: 'x', digest: 'sha256:' + D256 },
  { input: 'busybox:latest@sha256:' + D256, domain: 'docker.io', path: 'library/busybox', digest: 'sha256:' + D256 },
  { input: '[2001:db8::1]:5000/repo:tag@sha256:' + F64, domain: '[2001:db8::1]:5000', path: 'repo', digest: 'sha256:' + F64 },
  { input: 'xn--7o8h.com/myimage:xn--7o8h.com@sha512:' + F128, domain: 'xn--7o8h.com', path: 'myimage', digest: 'sha512:' + F128 },
  { input: 'example.com/app@sha384:' + F96, domain: 'example.com', path: 'app', digest: 'sha384:' + F96 },
  // Length: distribution/reference v0.6 (PR #9) limits the path, not domain + '/' + path.
  { input: 'example.com/' + 'a'.repeat(255) + ':tag', domain: 'example.com', path: 'a'.repeat(255), tag: 'tag' }, // reference_test.go
  { input: 'a'.repeat(247), domain: 'docker.io', path: 'library/' + 'a'.repeat(247), tag: 'latest' } // 255 after library/
]

function canonicalOf (v: Valid): { name: string, canonical: string } {
  const name = v.domain === '' ? v.path : v.domain + '/' + v.path
  return { name, canonical: v.digest !== undefined ? name + '@' + v.digest : name + ':' + String(v.tag) }
}

t.test('valid references normalise like ParseDockerRef', async (t) => {
  for (const v of valid) {
    const r = parseImageReference(v.input)
    if (!r.ok) { t.fail(`${v.input.slice(0, 80)}: unexpected ${r.error.code}`); continue }
    t.strictSame(r.ref, { domain: v.domain, path: v.path, ...canonicalOf(v), ...(v.tag !== undefined ? { tag: v.tag } : {}), ...(v.digest !== undefined ? { digest: v.digest } : {}) }, v.input.slice(0, 80))
    t.equal('tag' in r.ref && 'digest' in r.ref, false, 'never both tag and digest')
    t.ok(Object.isFrozen(r) && Object.isFrozen(r.ref), 'frozen')
  }
})

t.test('isDockerHub', async (t) => {
  const hub = (s: string): boolean => { const r = parseImageReference(s); return r.ok && isDockerHub(r.ref) }
  t.equal(hub('nginx'), true)
  t.equal(hub('index.docker.io/foo/bar'), true)
  t.equal(hub('ghcr.io/acme/app'), false)
  t.equal(hub('Docker.io/foo'), false)
  t.equal(hub('docker.io:443/nginx'), false)
})

const invalid: Array<[string, ReferenceErrorCode]> = [
  ['', 'empty'],
  ['Nginx', 'uppercase'],
  ['foo/Bar', 'uppercase'],
  ['docker.io/docker/Docker', 'uppercase'],
  ['Uppercase:tag', 'uppercase'],
  ['test:5000/Uppercase/lowercase:tag', 'uppercase'],
  ['7EC43B381E5AEFE6E04EFB0B3F0693FF2A4A50652D64AEC573905F2DB5889A1C', 'uppercase'], // not an identifier: uppercase
  ['Foo_bar/x', 'uppercase'], // not a valid domain, and would only match as a path if lowercased (Parse's retry)
  ['foo@MD5:' + 'a'.repeat(32), 'uppercase'], // the remote checked for case is 'library/foo@MD5'
  ['foo:\u0130', 'uppercase'], // Go's ToLower maps İ to 'i', so the lowercase retry matches
  ['foo:\u212A', 'uppercase'], // Kelvin sign → 'k'
  ['foo\u212A', 'uppercase'],
  ['-foo', 'invalid-format'],
  ['foo-', 'invalid-format'],
  ['foo_-bar', 'invalid-format'], // '_-' is not a separator: only '.', '_', '__' or '-'+
  ['foo___bar', 'invalid-format'],
  ['dock..er/docker', 'invalid-format'],
  ['dock_.er/docker', 'invalid-format'],
  ['____/____', 'invalid-format'],
  ['-docker.io/docker/docker', 'invalid-format'],
  ['foo:', 'invalid-format'],
  ['foo@', 'invalid-format'],
  [':justtag', 'invalid-format'],
  ['@sha256:' + F64, 'invalid-format'],
  ['foo@sha256:abc', 'invalid-format'], // under 32 hex digits: fails the reference grammar before go-digest
  ['foo@sha256:' + D256 + '@sha256:' + D256, 'invalid-format'],
  ['nginx:' + MAX_TAG + 'z', 'invalid-format'], // 129-char tag
  ['nginx:-tag', 'invalid-format'],
  ['nginx:ta/g', 'invalid-format'],
  [D256, 'hex-identifier'],
  ['repo@sha256:' + 'f'.repeat(34), 'digest-invalid'], // reference_test.go: ErrDigestInvalidLength
  ['foo@sha256:' + D256.slice(0, 63), 'digest-invalid'],
  ['foo@sha256:' + D256.toUpperCase(), 'digest-invalid'], // go-digest: lowercase hex only
  ['foo@sha512:' + F64, 'digest-invalid'],
  ['foo:t@MD5:' + 'a'.repeat(32), 'digest-invalid'], // uppercase algorithm fails go-digest's DigestRegexpAnchored
  ['foo@md5:' + 'd'.repeat(32), 'digest-unsupported'],
  ['validname@invaliddigest:' + F64, 'digest-unsupported'], // reference_test.go
  ['foo@sha256+b64:' + F64, 'digest-unsupported'],
  ['[::1/foo', 'invalid-format'],
  ['[::1]', 'invalid-format'],
  ['[abc]/x', 'invalid-format'],
  ['[]:5000/foo', 'invalid-format'], // the brackets need at least one hex digit or ':' // no '.' or ':' and lowercase: not taken as a domain, and '[' is no path
  ['[2001:db8::1]:5000', 'invalid-format'],
  ['[fe80::1%eth0]:5000/debian', 'invalid-format'],
  ['[2001:db8:3:4::192.0.2.33]:5000/debian', 'invalid-format'],
  ['fc00::1:5000/debian', 'invalid-format'],
  ['host:port/foo', 'invalid-format'],
  ['a//b', 'invalid-format'],
  ['docker///docker', 'invalid-format'],
  ['a/', 'invalid-format'],
  ['docker.io/', 'invalid-format'],
  [' ', 'invalid-format'],
  [' nginx', 'invalid-format'],
  ['nginx ', 'invalid-format'],
  ['nginx\n', 'invalid-format'],
  ['ng inx', 'invalid-format'],
  ['user:pass@host/x', 'invalid-format'],
  ['https://github.com/docker/docker', 'invalid-format'],
  ['aa/asdf$$^/aa', 'invalid-format'],
  ['example.com/' + 'a'.repeat(256), 'name-too-long'],
  ['domain/' + 'a'.repeat(256) + ':tag', 'name-too-long'], // reference_test.go
  ['a'.repeat(248), 'name-too-long'], // 256 after library/
  ['example.com/' + 'a'.repeat(256) + '@sha256:' + F64.toUpperCase(), 'name-too-long'] // length is checked before the digest
]

t.test('invalid references fail with the Go error', async (t) => {
  for (const [input, code] of invalid) {
    const r = parseImageReference(input)
    t.equal(r.ok ? 'ok' : r.error.code, code, JSON.stringify(input.slice(0, 80)))
    if (!r.ok) {
      t.equal(r.error.message, REFERENCE_ERROR_MESSAGES[code])
      t.ok(Object.isFrozen(r) && Object.isFrozen(r.error), 'frozen')
    }
  }
})

t.test('error messages are fixed and never echo the input', async (t) => {
  const messages = Object.values(REFERENCE_ERROR_MESSAGES)
  t.equal(new Set(messages).size, 7, 'one distinct message per code')
  for (const input of ['user:pass@host/x', 'https://user:s3cret@registry.example.com/app', 'Secret/Token:x@MD5:' + 'a'.repeat(32)]) {
    const r = parseImageReference(input)
    t.equal(r.ok, false)
    if (!r.ok) for (const part of ['user', 'pass', 's3cret', 'Secret', 'Token']) t.notMatch(r.error.message, part)
  }
  t.equal(parseImageReference(42 as unknown as string).ok, false, 'a non-string is rejected, not thrown on')
})

// The grammar is scanned by hand because the same patterns in V8's
// backtracking regex engine go quadratic or worse (grammar.ts). What is
// asserted is the scaling, never a duration: each input family is parsed at
// n and at 8n characters in the same run, and the best of several runs of the
// larger must stay within LINEAR_BOUND times the smaller. Linear code gives
// about 8 (less while fixed costs dominate), quadratic code 64, and a
// catastrophic backtracker never finishes. Best-of-N drops the runs a busy
// machine preempted, and both sizes share the load of the moment, so the
// ratio holds where a fixed budget in milliseconds flaked.
const SCALE = 8
const LINEAR_BOUND = 24
const RUNS = 7
const adversarial: Array<[string, (n: number) => string]> = [
  ['a×n', (n) => 'a'.repeat(n)],
  ['a -×n !', (n) => 'a' + '-'.repeat(n / 2) + '!'],
  ['a -×n a', (n) => 'a' + '-'.repeat(n / 2) + 'a'],
  ['(a.)×n', (n) => 'a.'.repeat(n / 2)],
  ['(a_)×n !', (n) => 'a_'.repeat(n / 2) + '!'],
  ['(a/)×n A', (n) => 'a/'.repeat(n / 2) + 'A'],
  ['(a:)×n', (n) => 'a:'.repeat(n / 2)],
  ['(a@)×n', (n) => 'a@'.repeat(n / 2)],
  ['[ :×n', (n) => '[' + ':'.repeat(n)],
  ['x.y/(a-)×n', (n) => 'x.y/' + 'a-'.repeat(n / 2)],
  ['a×n :b×100', (n) => 'a'.repeat(n) + ':' + 'b'.repeat(100)],
  ['foo@(a+)×n :f×64', (n) => 'foo@' + 'a+'.repeat(n / 2) + ':' + 'f'.repeat(64)],
  ['foo@sha256:f×n', (n) => 'foo@sha256:' + 'f'.repeat(n)],
  ['A×n !', (n) => 'A'.repeat(n) + '!'],
  ['İ×n', (n) => '\u0130'.repeat(n)]
]

function bestOf (input: string): number {
  let best = Infinity
  for (let i = 0; i < RUNS; i++) {
    const start = performance.now()
    parseImageReference(input)
    best = Math.min(best, performance.now() - start)
  }
  return best
}

t.test('linear time on large and adversarial inputs: 8× the input costs about 8× the time, not 64×', async (t) => {
  const n = 12_500 // and 8n = 100,000, the sizes the grammar was written against
  for (const [name, make] of adversarial) {
    const small = make(n)
    const large = make(n * SCALE)
    t.type(parseImageReference(large).ok, 'boolean')
    bestOf(small) // warm up, so the JIT's first compile is not charged to the small input
    const ratio = bestOf(large) / Math.max(bestOf(small), 0.001)
    t.ok(ratio < LINEAR_BOUND, `${name}: ${large.length} chars cost ${ratio.toFixed(1)}× ${small.length} chars (linear ≈ ${SCALE}, quadratic ≈ ${SCALE * SCALE})`)
  }
})

// ---------- property tests ----------

const chars = (s: string): fc.Arbitrary<string> => fc.constantFrom(...s)
const LOWER_ALNUM = 'abcdefghijklmnopqrstuvwxyz0123456789'
const run = fc.string({ unit: chars(LOWER_ALNUM), minLength: 1, maxLength: 6 })
const component = (sep: fc.Arbitrary<string>): fc.Arbitrary<string> =>
  fc.tuple(run, fc.array(fc.tuple(sep, run), { maxLength: 3 })).map(([head, rest]) => head + rest.map(([s, a]) => s + a).join(''))
const anySep = fc.constantFrom('.', '_', '__', '-', '--', '---')
const pathArb = fc.array(component(anySep), { minLength: 1, maxLength: 4 }).map((cs) => cs.join('/'))
// Without a domain, a first component containing '.' would itself be taken as the domain.
const hubPathArb = fc.tuple(component(fc.constantFrom('_', '__', '-', '--')), fc.array(component(anySep), { maxLength: 3 }))
  .map(([first, rest]) => [first, ...rest].join('/'))
const mixedAlnum = chars('abcxyzABCXYZ0189')
const domainComponent = fc.oneof(mixedAlnum, fc.tuple(mixedAlnum, fc.string({ unit: chars('abcXYZ09-'), maxLength: 5 }), mixedAlnum).map((p) => p.join('')))
const hexish = fc.string({ unit: chars('0123456789abcdefABCDEF:'), maxLength: 19 })
const port = fc.oneof(fc.integer({ min: 0, max: 65535 }).map(String), fc.string({ unit: chars('0123456789'), minLength: 1, maxLength: 6 }))
const domainArb = fc.oneof(
  fc.tuple(fc.array(domainComponent, { minLength: 2, maxLength: 4 }).map((c) => c.join('.')), fc.option(port)),
  fc.tuple(fc.oneof(domainComponent, fc.constant('localhost')), port),
  fc.tuple(fc.constant('localhost'), fc.constant(null)),
  // A bracketed host is only taken as a domain thanks to its ':' (normalize.go), so there is always one.
  fc.tuple(fc.tuple(hexish, hexish).map(([a, b]) => `[${a}:${b}]`), fc.option(port))
).map(([host, p]) => (p === null ? host : `${host}:${p}`))
const tagArb = fc.tuple(chars(LOWER_ALNUM + 'XYZ_'), fc.string({ unit: chars(LOWER_ALNUM + 'XYZ_.-'), maxLength: 127 })).map((p) => p.join(''))
const digestArb = fc.constantFrom<[string, number]>(['sha256', 64], ['sha384', 96], ['sha512', 128])
  .chain(([alg, n]) => fc.string({ unit: chars('0123456789abcdef'), minLength: n, maxLength: n }).map((hex) => `${alg}:${hex}`))

const refParts = fc.oneof(
  fc.record({ domain: domainArb, path: pathArb, tag: fc.option(tagArb), digest: fc.option(digestArb) }),
  fc.record({ domain: fc.constant(null), path: hubPathArb, tag: fc.option(tagArb), digest: fc.option(digestArb) })
)
const refString = (p: { domain: string | null, path: string, tag: string | null, digest: string | null }): string =>
  (p.domain === null ? '' : p.domain + '/') + p.path + (p.tag === null ? '' : ':' + p.tag) + (p.digest === null ? '' : '@' + p.digest)

t.test('property: generated valid references parse as specified and round-trip', async (t) => {
  fc.assert(fc.property(refParts, (p) => {
    const input = refString(p)
    const r = parseImageReference(input)
    if (!r.ok) throw new Error(`rejected ${input}: ${r.error.code}`)
    const domain = p.domain === null || p.domain === 'index.docker.io' ? 'docker.io' : p.domain
    const path = domain === 'docker.io' && !p.path.includes('/') ? 'library/' + p.path : p.path
    const expected: ImageReference = {
      domain,
      path,
      name: domain + '/' + path,
      ...(p.digest !== null ? { digest: p.digest } : { tag: p.tag ?? 'latest' }),
      canonical: domain + '/' + path + (p.digest !== null ? '@' + p.digest : ':' + (p.tag ?? 'latest'))
    }
    t.strictSame(r.ref, expected)
    const again = parseImageReference(r.ref.canonical)
    return again.ok && again.ref.canonical === r.ref.canonical && again.ref.name === r.ref.name
  }), { numRuns: 500 })
})

/** Strings built from the characters the grammar cares about, so that every branch and error code gets hit. */
const referenceAlphabet = fc.string({ unit: chars('aaab09f-_.:/@[]AİK\u212A '), maxLength: 300 })
/** Valid references with one character inserted, deleted or replaced. */
const mutated = fc.tuple(refParts.map(refString), fc.nat(), fc.string({ unit: 'binary', minLength: 0, maxLength: 1 }), fc.boolean())
  .map(([s, i, c, del]) => { const at = i % (s.length + 1); return s.slice(0, at) + c + s.slice(del ? at + 1 : at) })
const anyInput = fc.oneof(
  fc.string({ maxLength: 300 }),
  fc.string({ unit: 'binary', maxLength: 300 }), // fast-check 4's replacement for fullUnicodeString
  fc.string({ unit: 'grapheme', maxLength: 100 }),
  referenceAlphabet,
  mutated
)
const ALL_MESSAGES = Object.values(REFERENCE_ERROR_MESSAGES)

t.test('property: arbitrary strings never throw and never leak into messages', async (t) => {
  fc.assert(fc.property(anyInput, (input) => {
    const r: ParsedReference = parseImageReference(input)
    if (!Object.isFrozen(r)) return false
    if (r.ok) return true
    if (r.error.message !== REFERENCE_ERROR_MESSAGES[r.error.code]) return false
    // An input that is itself a piece of a fixed message (say 'nce f') is
    // "contained" without being echoed; nothing else may appear.
    if (input.length > 3 && !ALL_MESSAGES.some((m) => m.includes(input))) return !r.error.message.includes(input)
    return true
  }), { numRuns: 2000 })
  t.pass('no counterexample')
})

const PATH_RE = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/

t.test('property: every accepted reference is well-formed', async (t) => {
  let accepted = 0
  fc.assert(fc.property(fc.oneof(anyInput, refParts.map(refString)), (input) => {
    const r = parseImageReference(input)
    if (!r.ok) return true
    accepted++
    const { domain, path, name, tag, digest, canonical } = r.ref
    return path.length <= 255 && PATH_RE.test(path) && path === path.toLowerCase() &&
      name === (domain === '' ? path : domain + '/' + path) &&
      (tag === undefined) !== (digest === undefined) &&
      canonical === (digest !== undefined ? `${name}@${digest}` : `${name}:${String(tag)}`) &&
      Object.isFrozen(r.ref)
  }), { numRuns: 2000 })
  t.ok(accepted > 100, `the property saw accepted references (${accepted})`)
})
