import t from 'tap'
import fc from 'fast-check'
import { RE2JS } from '@bufbuild/re2'
import { type CredentialKey } from '../../src/registry/credential-key.js'
import { joinPatterns, privateImagePatterns, type ImagePatterns, type PatternLimits } from '../../src/registry/private-image-patterns.js'
import { globKeyArb, imageArb, keyArb } from '../helpers/image-arbitraries.js'
import { KEY_MATCH_CASES } from '../helpers/keyring-cases.js'
import { mustParse } from '../helpers/keys.js'
import { isForced, isPrivate, isPublic, nameOf, pullguardForces } from '../helpers/private-model.js'

const DIGEST = `sha256:${'b'.repeat(64)}`

/** What the policy does with the patterns: RE2 (the engine of CEL matches()) on the image as written. */
function matcher (patterns: ImagePatterns): { private: (image: string) => boolean, public: (image: string) => boolean, forced: (image: string) => boolean } {
  const compile = (list: readonly string[]): (image: string) => boolean => {
    if (list.length === 0) return () => false
    const re = RE2JS.compile(joinPatterns(list))
    return (image) => re.test(image)
  }
  const priv = compile(patterns.private)
  const pub = compile(patterns.public)
  return { private: priv, public: pub, forced: (image) => priv(image) && !pub(image) }
}

const verdicts = (keys: readonly string[], publicImages: readonly string[] = [], limits?: PatternLimits): ReturnType<typeof matcher> =>
  matcher(privateImagePatterns(keys.map(mustParse), publicImages, limits))

t.test('the kubelet table (keyring_test.go and more), as pod images', async (t) => {
  let checked = 0
  for (const [raw, name, kubelet] of KEY_MATCH_CASES) {
    // A bare host is no image; with a path added, every key of the table answers the same.
    const image = name.includes('/') ? name : `${name}/x`
    if (nameOf(image) === undefined) continue // not a valid reference (e.g. a ':' in a path): pullguard forces nothing
    const key = mustParse(raw)
    const expected = isForced([key], [], image)
    t.ok(!kubelet || expected, `${raw} vs ${image}: private wherever the kubelet sends the credential`)
    t.equal(verdicts([raw]).forced(image), expected, `${raw} vs ${image}: ${expected ? 'private' : 'not private'}`)
    checked++
  }
  t.ok(checked > 80, `${checked} rows checked`)
})

// [keys, image, private?]: the table is also checked against the plain model of pullguard's rule.
const CASES: ReadonlyArray<readonly [readonly string[], string, boolean]> = [
  // Docker Hub short names and spellings
  [['docker.io'], 'nginx', true],
  [['docker.io/library'], 'nginx:1.25', true],
  [['docker.io/library/nginx'], `nginx@${DIGEST}`, true],
  [['docker.io/library/nginx'], 'nginxx', true],
  [['docker.io/library/nginx'], 'redis', false],
  [['docker.io/library/nginx'], 'docker.io/nginx:1', true],
  [['docker.io/library/nginx'], 'index.docker.io/nginx', true],
  [['docker.io/library/nginx'], 'library/nginx:1', true],
  [['docker.io/library/nginx'], 'docker.io/library/nginx', true],
  [['docker.io/acme'], 'acme/app', true],
  [['docker.io/acme'], 'acme-evil/app', true],
  [['docker.io/acme/'], 'acme-evil/app', false],
  [['docker.io/acme'], 'acme', false],
  [['docker.io/acme'], 'docker.io/acme', false],
  [['docker.io/acme'], 'docker.io/acme/app', true],
  [['docker.io/acme'], 'index.docker.io/acme/app:1', true],
  [['docker.io/acme'], 'acme.io/app', false],
  [['docker.io/acme'], 'Acme/app', false],
  [['docker.io'], 'localhost/x', false],
  [['docker.io'], 'localhost:5000', true],
  [['docker.io'], 'localhostx/app', true],
  [['docker.io'], 'l/app', true],
  [['docker.io'], 'Docker.io/acme/app', true],
  [['docker.io'], 'docker.io:443/acme/app', true],
  [['docker.io/library'], 'Docker.io/nginx', true],
  [['docker.io/acme'], 'Docker.io/acme', true],
  [['docker.io/library/nginx'], 'REGISTRY-1.docker.io:443/nginx:1', true],
  [['docker.io/library/nginx'], 'registry-1.docker.io/library/nginx', true],
  [['docker.io/library/nginx'], 'registry-1.docker.io/acme/nginx', false],
  [['docker.io'], 'registry-1.docker.io/acme/app', true],
  [['docker.io/acme'], 'registry-1.docker.io/acme/app', true],
  [['docker.io'], 'registry-2.docker.io/acme/app', false],
  [['registry-1.docker.io'], 'registry-1.docker.io/acme/app', true],
  [['registry-1.docker.io'], 'acme/app', false],
  [['docker.io/l'], 'localhost/x', false],
  [['docker.io/l'], 'lx/app', true],
  [['docker.io/localhost'], 'localhost/x', false],
  [['docker.io/localhost'], 'localhostx/app', true],
  // the kubelet's default-registry key
  [['https://index.docker.io/v1/'], 'nginx', true],
  [['https://index.docker.io/v1/'], 'acme/app', true],
  [['https://index.docker.io/v1/'], 'docker.io/acme/app', true],
  [['https://index.docker.io/v1/'], 'localhost/x', true],
  [['https://index.docker.io/v1/'], 'Registry/x', true],
  [['https://index.docker.io/v1/'], 'localhost:5000/x', false],
  [['https://index.docker.io/v1/'], 'ghcr.io/acme/app', false],
  [['https://index.docker.io/v1/'], 'Registry-1.Docker.io/x', true],
  [['index.docker.io/acme'], 'acme/app', false],
  [['index.docker.io/acme'], 'index.docker.io/acme/app', false],
  [['index.docker.io/acme'], 'INDEX.docker.io/acme/app', true],
  [['*.docker.io'], 'index.docker.io/library/nginx', false],
  [['*.docker.io'], 'registry-1.docker.io/library/nginx', true],
  [['*.docker.io'], 'Index.Docker.io/library/nginx', true],
  // ports: 443 is no port
  [['ghcr.io'], 'ghcr.io:443/acme/app', true],
  [['ghcr.io:443'], 'ghcr.io/acme/app', true],
  [['ghcr.io'], 'ghcr.io:5000/acme/app', false],
  [['ghcr.io:5000'], 'ghcr.io/acme/app', false],
  [['registry:5000'], 'registry:5000/app', true],
  [['registry:5000'], 'registry/app', false],
  [['registry:5000'], 'Registry:5000/app', true],
  [['localhost:5000'], 'localhost:5000/x', true],
  [['localhost:5000'], 'localhost:5000', false],
  [['localhost'], 'localhost/x', true],
  [['localhost'], 'LOCALHOST/x', true],
  [['localhost'], 'localhost:443/x', true],
  [['registry'], 'registry/app', false],
  [['registry'], 'Registry/app', true],
  [['*'], 'registry/app', false],
  [['*'], 'Registry/app', true],
  [['*'], 'localhost/app', true],
  [['*:5000'], 'localhost:5000/x', true],
  [['*:5000'], '[::1]:5000/x', true],
  [['[::1]:5000'], '[::1]:5000/x', true],
  [['[::1]:5000'], '[::2]:5000/x', false],
  [['[::1]:5000'], '[::1]/x', false],
  [['[fe80::1]:443'], '[FE80::1]:443/x', true],
  // host globs: '*' within one label, as many labels as the key
  [['*.azurecr.io'], 'acme.azurecr.io/app', true],
  [['*.azurecr.io'], 'ACME.AzureCR.io/app', true],
  [['*.azurecr.io'], 'a.b.azurecr.io/app', false],
  [['*.azurecr.io'], 'azurecr.io/app', false],
  [['*.azurecr.io'], 'acme.azurecr.io.evil.com/app', false],
  [['reg[0-9].example.com'], 'reg1.example.com/x', true],
  [['reg[0-9].example.com'], 'rega.example.com/x', false],
  [['reg[a-c]*.io'], 'REGBOX.io/x', true],
  [['*.io'], 'docker.io/acme/app', true],
  [['*.io'], 'acme/app', true],
  [['*.io'], 'ghcr.io/x', true],
  [['*.io'], 'localhost/x', false],
  [['*ocker.io'], 'nginx', true],
  [['*ocker.io'], 'Docker.io/x', true],
  [['d[a-z]cker.io/library'], 'docker.io/library/nginx', true],
  // paths: a plain string prefix of the name's path
  [['ghcr.io/acme'], 'ghcr.io/acme/app:1', true],
  [['ghcr.io/acme'], 'ghcr.io/acme-evil/x', true],
  [['ghcr.io/acme/'], 'ghcr.io/acme-evil/x', false],
  [['ghcr.io/acme'], 'ghcr.io/other/x', false],
  [['ghcr.io/acme/app'], 'ghcr.io/acme:1', false],
  [['ghcr.io/acme'], `ghcr.io/acme@${DIGEST}`, true],
  [['ghcr.io/Acme'], 'ghcr.io/acme/x', false],
  [['ghcr.io/v2/acme'], 'ghcr.io/acme/x', true],
  // host case
  [['GHCR.io/acme'], 'ghcr.io/acme/x', true],
  [['ghcr.io/acme'], 'GHCR.io:443/acme/web:1', true],
  // the Go quirk: a first part kept as a path, then read by the kubelet as a host
  [['*.c'], 'a_b.c/d', true],
  [['a_b.c'], 'a_b.c/d', true],
  // several keys
  [['ghcr.io/acme', 'quay.io/team', '*.azurecr.io'], 'quay.io/team/x', true],
  [['ghcr.io/acme', 'quay.io/team', '*.azurecr.io'], 'quay.io/other/x', false],
  [[], 'ghcr.io/acme/x', false],
]

t.test('table: Docker Hub, default registry, ports, globs, paths, case', async (t) => {
  for (const [keys, image, want] of CASES) {
    const label = `[${keys.join(', ')}] ${image}`
    t.equal(isPrivate(keys.map(mustParse), image), want, `${label}: the model of pullguard's rule agrees`)
    t.equal(verdicts(keys).forced(image), want, `${label}: ${want ? 'private' : 'not private'}`)
  }
})

t.test('publicImages: excluded exactly where the normalised name starts with a prefix', async (t) => {
  const all = ['https://index.docker.io/v1/', 'ghcr.io', 'localhost:5000']
  const publicImages = ['docker.io/library/', 'ghcr.io/public/', 'localhost:5000/base']
  const v = verdicts(all, publicImages)
  const cases: ReadonlyArray<readonly [string, boolean]> = [
    ['nginx', false], ['nginx:1.25', false], [`redis@${DIGEST}`, false], ['library/nginx', false], ['docker.io/nginx', false],
    ['index.docker.io/library/nginx:1', false], ['docker.io/library/nginx', false],
    ['acme/app', true], ['docker.io/acme/app', true], ['Docker.io/library/nginx', true], ['DOCKER.IO/nginx', true],
    ['ghcr.io/public/x', false], ['ghcr.io/publicx/x', true], ['GHCR.io/public/x', true], ['ghcr.io:443/public/x', true],
    ['localhost:5000/base', false], ['localhost:5000/baseline/x', false], ['localhost:5000/other', true],
  ]
  for (const [image, forced] of cases) {
    t.equal(isForced(all.map(mustParse), publicImages, image), forced, `${image}: the model agrees`)
    t.equal(v.forced(image), forced, `${image}: ${forced ? 'forced' : 'exempt'}`)
  }
  const noKeys = verdicts([], publicImages)
  t.equal(noKeys.forced('acme/app'), false, 'no keys: nothing is private')
  t.same(privateImagePatterns([], []), { private: [], public: [], precision: 'keys', publicDropped: 0 }, 'no keys, no prefixes: both empty')
})

t.test('output: anchored, valid RE2, sorted, unique, independent of key order', async (t) => {
  const raws = ['ghcr.io/acme', 'ghcr.io/acme/app', 'ghcr.io/org-1', 'ghcr.io/org-2', '*.azurecr.io', 'docker.io/acme', 'quay.io', 'quay.io/x']
  const a = privateImagePatterns(raws.map(mustParse), ['docker.io/library/', 'quay.io/pub/'])
  const b = privateImagePatterns([...raws].reverse().map(mustParse), ['quay.io/pub/', 'docker.io/library/', 'docker.io/library/x'])
  t.same(a, b, 'the same patterns whatever the order (and a prefix covered by a shorter one changes nothing)')
  for (const list of [a.private, a.public]) {
    t.same([...list], [...new Set(list)].sort(), 'sorted and unique')
    for (const p of list) {
      t.ok(p.startsWith('^'), `${p}: anchored`)
      t.doesNotThrow(() => RE2JS.compile(p), `${p}: RE2`)
    }
  }
  const ghcr = a.private.filter((p) => p.includes('ghcr'))
  t.equal(ghcr.length, 1, 'one alternative per registry')
  t.match(ghcr[0], /org-\(\?:1\|2\)/, 'paths share their prefixes')
  t.notMatch(ghcr[0], /acme\/app/, 'a path covered by a shorter one is dropped')
})

t.test('size: coarsened, never loosened', async (t) => {
  // Paths without a shared prefix (the patterns factor shared prefixes out).
  const orgs = Array.from({ length: 900 }, (_, i) => mustParse(`registry-${i % 7}.example.com/${((i + 1) * 2654435761 % 2 ** 32).toString(36)}`))
  const exact = privateImagePatterns(orgs, [])
  t.equal(exact.precision, 'hosts', '900 paths over 7 registries do not fit: whole registries are private')
  t.ok(joinPatterns(exact.private).length <= 3072, 'within the default limit')
  const m = matcher(exact)
  t.equal(m.forced(`registry-3.example.com/${orgs[3]?.path.slice(1)}/app`), true, 'a key\'s image stays private')
  t.equal(m.forced('registry-3.example.com/elsewhere/app'), true, 'coarse: the whole registry')
  t.equal(m.forced('ghcr.io/org-3/app'), false, 'other registries are not')

  const hosts = Array.from({ length: 300 }, (_, i) => mustParse(`registry-${i}.example.com`))
  const everything = privateImagePatterns(hosts, ['docker.io/library/'])
  t.equal(everything.precision, 'everything', '300 registries do not fit: every image is private')
  t.same(everything.private, ['^'])
  t.equal(matcher(everything).forced('nginx'), false, 'publicImages still exempt')
  t.equal(matcher(everything).forced('acme/app'), true)

  const small = privateImagePatterns([mustParse('ghcr.io')], ['docker.io/library/', 'ghcr.io/a/', 'ghcr.io/b/', 'quay.io/c/'], { privateChars: 3072, publicChars: 40 })
  t.ok(small.publicDropped > 0 && joinPatterns(small.public).length <= 40, 'public prefixes that do not fit are left out')
  t.equal(matcher(small).forced('ghcr.io/b/x'), true, 'a dropped exclusion means more enforcement')
})

t.test('property: never looser than pullguard, and exemptions only where pullguard exempts', async () => {
  fc.assert(fc.property(
    fc.array(fc.oneof(keyArb, globKeyArb), { maxLength: 4 }),
    fc.subarray(['docker.io/library/', 'docker.io/acme/', 'docker.io/l', 'docker.io/', 'ghcr.io/public/', 'localhost:5000/', 'a.azurecr.io/x']),
    fc.array(imageArb, { minLength: 1, maxLength: 8 }),
    (keys: CredentialKey[], publicImages: string[], images: string[]) => {
      const m = matcher(privateImagePatterns(keys, publicImages))
      for (const image of images) {
        const forced = isForced(keys, publicImages, image)
        if (forced && !m.forced(image)) throw new Error(`${image}: pullguard forces Always, the patterns do not`)
        if (nameOf(image) !== undefined && m.public(image) && !isPublic(publicImages, image)) throw new Error(`${image}: exempted, but no publicImages prefix applies`)
      }
    }
  ), { numRuns: 300 })
})

t.test('property: never looser than pullguard\'s own coverage decision (config entries of any scope, pull Secrets of any namespace)', async () => {
  fc.assert(fc.property(
    fc.array(fc.oneof(keyArb, globKeyArb), { maxLength: 3 }),
    fc.array(fc.oneof(keyArb, globKeyArb), { maxLength: 3 }),
    fc.subarray(['docker.io/library/', 'docker.io/acme/', 'docker.io/l', 'ghcr.io/public/', 'localhost:5000/']),
    fc.array(imageArb, { minLength: 1, maxLength: 8 }),
    (configKeys: CredentialKey[], secretKeys: CredentialKey[], publicImages: string[], images: string[]) => {
      const forces = pullguardForces(configKeys, secretKeys, publicImages)
      const m = matcher(privateImagePatterns([...configKeys, ...secretKeys], publicImages))
      for (const image of images) {
        if (forces(image) && !m.forced(image)) throw new Error(`${image}: pullguard forces Always, the patterns do not`)
        if (forces(image) && !isForced([...configKeys, ...secretKeys], publicImages, image)) throw new Error(`${image}: pullguard forces Always, the model of its rule does not (update private-model.ts)`)
      }
    }
  ), { numRuns: 300 })
})

t.test('property: exact for valid references outside IPv6 hosts', async () => {
  fc.assert(fc.property(
    fc.array(fc.oneof(keyArb, globKeyArb), { maxLength: 4 }),
    fc.array(imageArb.filter((i) => !i.includes('[')), { minLength: 1, maxLength: 8 }),
    (keys: CredentialKey[], images: string[]) => {
      const m = matcher(privateImagePatterns(keys, []))
      for (const image of images) {
        if (nameOf(image) === undefined) continue
        if (m.private(image) !== isPrivate(keys, image)) throw new Error(`${image}: patterns say ${m.private(image)}, pullguard ${isPrivate(keys, image)}`)
      }
    }
  ), { numRuns: 300 })
})

t.test('property: coarsened patterns are still never looser', async () => {
  fc.assert(fc.property(
    fc.array(fc.oneof(keyArb, globKeyArb), { minLength: 1, maxLength: 6 }),
    fc.array(imageArb, { minLength: 1, maxLength: 8 }),
    fc.constantFrom(60, 200, 600),
    (keys: CredentialKey[], images: string[], privateChars: number) => {
      const patterns = privateImagePatterns(keys, [], { privateChars, publicChars: 1024 })
      const m = matcher(patterns)
      for (const image of images) {
        if (isPrivate(keys, image) && !m.private(image)) throw new Error(`${image}: private, not matched at precision ${patterns.precision}`)
      }
    }
  ), { numRuns: 300 })
})
