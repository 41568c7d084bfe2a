import t from 'tap'
import fc from 'fast-check'
import { keyMatchesImage, parseCredentialKey, type CredentialKey } from '../../src/registry/credential-key.js'
import { isDefaultRegistryMatch } from '../../src/registry/image-location.js'
import { mustParse } from '../helpers/keys.js'
import { compareGoStrings, Keyring } from '../../src/registry/keyring.js'

/** A keyring whose values are the given names, keyed by the given raw keys. */
function ring (pairs: ReadonlyArray<readonly [string, string]>): Keyring<string> {
  return new Keyring(pairs.map(([raw, value]) => ({ key: mustParse(raw), value })))
}

type Case = readonly [image: string, want: readonly string[]]

// The subtest type: the last overload of t.test takes just the callback.
type Asserts = Parameters<Parameters<typeof t.test>[0]>[0]

function check (t: Asserts, keyring: Keyring<string>, cases: readonly Case[], allow?: (v: string) => boolean): void {
  for (const [image, want] of cases) t.strictSame(keyring.lookup(image, allow), want, image)
}

t.test('keyring_test.go TestDockerKeyringLookup', async (t) => {
  const keyring = ring([['bar.example.com/pong', 'grace'], ['bar.example.com', 'ada']])
  check(t, keyring, [
    ['bar.example.com', ['ada']],
    ['bar.example.com/pong', ['grace', 'ada']],
    ['bar.example.com/ping', ['ada']],
    ['bar.example.com/pongz', ['grace', 'ada']],
    ['bar.example.com/pong/pang', ['grace', 'ada']],
    ['example.com', []],
    ['foo.example.com', []],
  ])
  t.equal(keyring.size, 2)
})

t.test('keyring_test.go TestIssue3797: a scheme and /v1/ match the bare host', async (t) => {
  check(t, ring([['https://quay.io/v1/', 'rex']]), [
    ['quay.io', ['rex']],
    ['quay.io/foo', ['rex']],
    ['quay.io/foo/bar', ['rex']],
  ])
})

t.test('kubelet order: keys reverse-sorted by Go byte order', async (t) => {
  check(t, ring([['quay.io', 'quay'], ['quay.io/coreos', 'coreos']]), [
    ['quay.io/coreos/etcd', ['coreos', 'quay']],
    ['quay.io/other/etcd', ['quay']],
  ])
  // Bytes, not locale: 'o' > 'i' > '[' (0x5b) > '*' (0x2a), 'a' > 'A', 'e' > '*'.
  const keyring = ring([
    ['*.io', 'star'],
    ['reg.[A-z]o', 'A-z'],
    ['reg.io', 'literal'],
    ['reg.[a-z]o', 'a-z'],
    ['r*.io', 'r-star'],
    ['reg.*', 'reg-star'],
    ['reg.io/x', 'literal-x'],
    ['reg.i*', 'i-star'],
    ['reg.io:5000', 'port'],
    ['Reg.io', 'upper'],
  ])
  check(t, keyring, [
    ['reg.io/x/y', ['literal-x', 'literal', 'i-star', 'a-z', 'A-z', 'reg-star', 'r-star', 'star']],
    ['reg.io/y', ['literal', 'i-star', 'a-z', 'A-z', 'reg-star', 'r-star', 'star']],
    ['Reg.io/y', ['upper', 'star']],
    ['reg.io:5000/y', ['port']],
  ])
  // Literal and glob hosts interleave by key: 'a.quay.io' > '*.quay.io'.
  check(t, ring([['*.quay.io', 'glob'], ['a.quay.io', 'literal'], ['a.quay.io/team', 'team']]), [
    ['a.quay.io/team/app', ['team', 'literal', 'glob']],
  ])
})

t.test('entries sharing a key keep insertion order', async (t) => {
  const keyring = ring([
    ['reg.io', 'A'],
    ['quay.io', 'B'],
    ['reg.io', 'C'],
    ['https://reg.io/v2/', 'D'], // normalises to 'reg.io'
    ['reg.io/team', 'E'],
    ['http://reg.io', 'F'],
  ])
  check(t, keyring, [
    ['reg.io/x', ['A', 'C', 'D', 'F']],
    ['reg.io/team/x', ['E', 'A', 'C', 'D', 'F']],
    ['quay.io/x', ['B']],
  ])
  t.equal(keyring.size, 6)
})

t.test('allow filters matched entries', async (t) => {
  const keyring = ring([['reg.io', 'A'], ['reg.io/team', 'B'], ['*.io', 'C']])
  check(t, keyring, [
    ['reg.io/team/x', ['A', 'C']],
    ['reg.io/x', ['A', 'C']],
  ], (v) => v !== 'B')
  check(t, keyring, [['reg.io/team/x', []]], () => false)
  const seen: string[] = []
  keyring.lookup('reg.io/x', (v) => { seen.push(v); return true })
  t.strictSame(seen.sort(), ['A', 'C'], 'allow is asked only about entries whose key matched')
})

t.test('Docker Hub fallback', async (t) => {
  const hub = ring([['https://index.docker.io/v1/', 'hub'], ['ghcr.io', 'ghcr']])
  check(t, hub, [
    ['docker.io/library/nginx', ['hub']],
    ['docker.io/acme/app', ['hub']],
    ['index.docker.io/acme/app', ['hub']], // a direct match
    ['localhost/x', ['hub']], // no '.' or ':' in the first component
    ['ghcr.io/x', ['ghcr']],
    ['quay.io/x', []],
    ['localhost:5000/x', []],
  ])
  // Only when nothing allowed matched.
  check(t, hub, [['docker.io/library/nginx', []]], (v) => v !== 'hub')
  check(t, hub, [['ghcr.io/x', []]], (v) => v !== 'ghcr')

  const both = ring([
    ['docker.io', 'direct'],
    ['index.docker.io', 'hub1'],
    ['docker.io/library', 'library'],
    ['https://index.docker.io/v1/', 'hub2'],
  ])
  check(t, both, [
    // 'docker.io' matches directly, so no fallback.
    ['docker.io/library/nginx', ['library', 'direct']],
    ['docker.io/acme/app', ['direct']],
  ])
  check(t, both, [['docker.io/library/nginx', ['library']]], (v) => v !== 'direct')
  check(t, both, [['docker.io/acme/app', ['hub1', 'hub2']]], (v) => v !== 'direct')
  check(t, both, [['docker.io/acme/app', ['hub2']]], (v) => v === 'hub2')
  check(t, both, [['ghcr.io/acme/app', []]], (v) => v !== 'direct')

  // A direct 'index.docker.io' match orders with the others: 'index…' > '*…'.
  check(t, ring([['*.docker.io', 'star'], ['https://index.docker.io/v1/', 'hub']]), [
    ['index.docker.io/x', ['hub', 'star']],
    ['docker.io/x', ['hub']],
  ])
})

t.test('an empty keyring', async (t) => {
  const keyring = new Keyring<string>([])
  t.equal(keyring.size, 0)
  t.strictSame(keyring.lookup('docker.io/library/nginx'), [])
})

t.test('lookup reads only the entries that share the image host', async (t) => {
  let calls = 0
  const counted = (key: CredentialKey): CredentialKey => ({
    ...key,
    labelMatchers: key.labelMatchers.map((m) => (s: string) => { calls++; return m(s) }),
  })
  const entries: Array<{ key: CredentialKey, value: number }> = []
  for (let i = 0; i < 5000; i++) entries.push({ key: counted(mustParse(`r${i}.example.com`)), value: i })
  for (let i = 0; i < 4997; i++) entries.push({ key: counted(mustParse(`*.t${i}.example.com`)), value: 5000 + i })
  entries.push({ key: counted(mustParse('*.t42.example.com/team')), value: -1 })
  entries.push({ key: counted(mustParse('x*.t42.example.com')), value: -2 })
  entries.push({ key: counted(mustParse('*.*.example.com:5000')), value: -3 })
  const keyring = new Keyring(entries)
  t.equal(keyring.size, 10000)

  calls = 0
  t.strictSame(keyring.lookup('xa.t42.example.com/team/app'), [-2, -1, 5042])
  t.ok(calls <= 3 * 4, `label matchers called ${calls} times`)
  calls = 0
  t.strictSame(keyring.lookup('r17.example.com/app'), [17])
  t.equal(calls, 0, 'literal hosts need no glob matching')
  calls = 0
  t.strictSame(keyring.lookup('a.b.example.com:5000/app'), [-3])
  t.ok(calls <= 4)

  const started = process.hrtime.bigint()
  for (let i = 0; i < 10000; i++) keyring.lookup(`x.t${i % 5000}.example.com/app`)
  const ms = Number(process.hrtime.bigint() - started) / 1e6
  t.comment(`10,000 lookups in a 10,000-entry keyring: ${ms.toFixed(1)} ms`)
})

t.test('compareGoStrings orders by UTF-8 bytes', async (t) => {
  t.ok(compareGoStrings('\u{10000}', '\uffff') > 0, 'astral after U+FFFF')
  t.ok(compareGoStrings('\ue000', '\ud7ff') > 0)
  t.ok(compareGoStrings('Z', 'a') < 0, 'uppercase before lowercase')
  t.ok(compareGoStrings('quay.io', 'quay.io/coreos') < 0, 'prefix first')
  t.equal(compareGoStrings('a', 'a'), 0)
  fc.assert(fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), (a, b) => {
    return Math.sign(compareGoStrings(a, b)) === Buffer.compare(Buffer.from(a), Buffer.from(b))
  }), { numRuns: 2000 })
})

// ---------------------------------------------------------------------------
// Property: the index is faithful to a brute-force scan in kubelet order.

function reference (entries: ReadonlyArray<{ key: CredentialKey, value: number }>, image: string, allow: (v: number) => boolean): number[] {
  const indexed = entries.map((e, i) => ({ ...e, i }))
  const hits = indexed.filter((e) => keyMatchesImage(e.key, image) && allow(e.value))
  if (hits.length === 0) {
    if (!isDefaultRegistryMatch(image)) return []
    return indexed.filter((e) => e.key.key === 'index.docker.io' && allow(e.value)).map((e) => e.value)
  }
  hits.sort((a, b) => Buffer.compare(Buffer.from(b.key.key), Buffer.from(a.key.key)) || a.i - b.i)
  return hits.map((e) => e.value)
}

const keyLabel = fc.constantFrom('a', 'b', 'io', 'docker', 'index', 'ab', 'A', '*', 'a*', '*b', '[ab]', '[a-c]*', '*.*')
const imageLabel = fc.constantFrom('a', 'b', 'io', 'docker', 'index', 'ab', 'abb', 'c', 'A', 'localhost')
const port = fc.constantFrom('', '', ':5000', ':5001')
const keyPath = fc.constantFrom('', '', '/', '/x', '/x/', '/x/y', '/xy', '/v1/', '/v2/', '/v2/x', '/library', '/v1')
const imagePath = fc.constantFrom('', '/x', '/x/y', '/xy', '/xyz/w', '/library/nginx', '/v1/x', '/y')
const rawKey = fc.oneof(
  fc.tuple(fc.constantFrom('', 'https://', 'http://'), fc.array(keyLabel, { minLength: 1, maxLength: 3 }), port, keyPath)
    .map(([scheme, labels, p, path]) => `${scheme}${labels.join('.')}${p}${path}`),
  fc.constantFrom('https://index.docker.io/v1/', 'index.docker.io', 'docker.io', 'docker.io/library', '*.io', '[::1]:5000', 'localhost')
)
const image = fc.oneof(
  fc.tuple(fc.array(imageLabel, { minLength: 1, maxLength: 3 }), port, imagePath)
    .map(([labels, p, path]) => `${labels.join('.')}${p}${path}`),
  fc.constantFrom('docker.io/library/nginx', 'index.docker.io/x', 'localhost/x', 'docker.io/x', '[::1]:5000/x', 'ghcr.io/x')
)

t.test('property: lookup equals a brute-force scan in kubelet order', async (t) => {
  let nonEmpty = 0
  fc.assert(fc.property(
    fc.array(rawKey, { maxLength: 25 }),
    fc.array(image, { minLength: 1, maxLength: 8 }),
    fc.array(fc.boolean(), { minLength: 25, maxLength: 25 }),
    fc.boolean(),
    (raws, images, allowMask, useAllow) => {
      const entries = raws.flatMap((raw, value) => {
        const parsed = parseCredentialKey(raw)
        return parsed.ok ? [{ key: parsed.key, value }] : []
      })
      const keyring = new Keyring(entries)
      const allow = useAllow ? (v: number) => allowMask[v] ?? true : () => true
      for (const img of images) {
        const got = keyring.lookup(img, useAllow ? allow : undefined)
        const want = reference(entries, img, allow)
        if (got.length > 0) nonEmpty++
        if (JSON.stringify(got) !== JSON.stringify(want)) {
          throw new Error(`${img}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}; keys ${JSON.stringify(entries.map((e) => e.key.key))}`)
        }
      }
    }
  ), { numRuns: 3000 })
  t.ok(nonEmpty > 1000, `the generated cases exercise matches (${nonEmpty} non-empty lookups)`)
})

t.test('repeated lookups (memoised per image name) answer as the first one, whatever the filter', async (t) => {
  const keyring = ring([['https://index.docker.io/v1/', 'hub'], ['reg.io', 'A'], ['reg.io/team', 'B'], ['*.io', 'C']])
  const filters: Array<[string, ((v: string) => boolean) | undefined]> = [
    ['none', undefined], ['not B', (v) => v !== 'B'], ['nothing', () => false], ['only hub', (v) => v === 'hub'],
  ]
  for (const image of ['reg.io/team/x', 'docker.io/library/nginx', 'quay.io/x']) {
    for (const [name, allow] of filters) {
      const fresh = ring([['https://index.docker.io/v1/', 'hub'], ['reg.io', 'A'], ['reg.io/team', 'B'], ['*.io', 'C']]).lookup(image, allow)
      const first = keyring.lookup(image, allow)
      first.push('changed by the caller')
      t.strictSame(keyring.lookup(image, allow), fresh, `${image}, filter ${name}`)
    }
  }
})
