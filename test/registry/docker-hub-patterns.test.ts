/**
 * RE2 patterns for Docker Hub images as written in a pod spec
 * (src/registry/docker-hub-patterns.ts), run with RE2 (the engine of CEL's
 * matches(), as the policy runs them) against a plain model: the reference
 * parser's normalised name (distribution/reference normalize.go, in
 * src/image/reference.ts) and String.startsWith.
 */
import t from 'tap'
import fc from 'fast-check'
import { RE2JS } from '@bufbuild/re2'
import { parseImageReference } from '../../src/image/reference.js'
import { DEFAULT_REGISTRY_PATTERNS, dockerHubAliasPatterns, dockerHubPatterns } from '../../src/registry/docker-hub-patterns.js'
import { joinPatterns } from '../../src/registry/private-image-patterns.js'
import { imageArb } from '../helpers/image-arbitraries.js'

const PREFIXES = ['', 'l', 'lib', 'library/', 'library/n', 'library/nginx', 'acme', 'acme/', 'acme/app', 'a', 'lo', 'localhost', 'localhostx', 'localhost/a', 'n', 'nginx', 'x.y', 'a_b/', 'v2']
const ALIASES = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io'])

function matcher (patterns: readonly string[]): (image: string) => boolean {
  if (patterns.length === 0) return () => false
  const re = RE2JS.compile(joinPatterns(patterns))
  return (image) => re.test(image)
}

/** docker.io/P with P starting with a prefix, in the spellings the runtime rewrites to docker.io. */
function hubModel (prefixes: readonly string[], image: string): boolean | undefined {
  const parsed = parseImageReference(image)
  if (!parsed.ok) return undefined
  return parsed.ref.domain === 'docker.io' && prefixes.some((p) => parsed.ref.path.startsWith(p))
}

/** Another spelling of Docker Hub that the runtime keeps as written; the path as written, or under library/ when one component. */
function aliasModel (prefixes: readonly string[], image: string): boolean | undefined {
  const parsed = parseImageReference(image)
  if (!parsed.ok) return undefined
  const { domain, path } = parsed.ref
  const host = domain.toLowerCase().replace(/:443$/, '')
  if (domain === 'docker.io' || !ALIASES.has(host)) return false
  return prefixes.some((p) => path.startsWith(p) || (!path.includes('/') && `library/${path}`.startsWith(p)))
}

const rows: Array<[string[], string, boolean]> = [
  [['library/'], 'nginx', true],
  [['library/'], 'nginx:1.27', true],
  [['library/'], 'docker.io/nginx', true],
  [['library/'], 'index.docker.io/library/nginx', true],
  [['library/'], 'acme/app', false],
  [['library/ngi'], 'nginx', true],
  [['library/ngi'], 'redis', false],
  [['acme/'], 'acme/app', true],
  [['acme/'], 'docker.io/acme/app', true],
  [['acme/'], 'ghcr.io/acme/app', false],
  [['acme/'], 'acme.com/acme/app', false],
  [['acme'], 'acme-evil/app', true], // a prefix is a string prefix: the platform team writes 'acme/' to mean the org
  [['localhost'], 'localhost/app', false], // localhost is a host, never a Hub path
  [['localhost'], 'localhostx/app', true],
  [['lo'], 'lox/app', true],
  [['lo'], 'localhost/app', false],
  [[''], 'Docker.io/x', false], // another case: a registry of its own for the runtime (dockerHubAliasPatterns)
]

t.test('dockerHubPatterns: table', async (t) => {
  for (const [prefixes, image, expected] of rows) {
    t.equal(matcher(dockerHubPatterns(prefixes))(image), expected, `${prefixes.join(',')} vs ${image}`)
    t.equal(hubModel(prefixes, image), expected, `the model agrees: ${prefixes.join(',')} vs ${image}`)
  }
  t.same(dockerHubPatterns([]), [], 'no prefixes, no patterns')
})

t.test('dockerHubAliasPatterns: table', async (t) => {
  const aliasRows: Array<[string[], string, boolean]> = [
    [['library/'], 'Docker.io/nginx', true],
    [['library/'], 'registry-1.docker.io/nginx', true],
    [['library/'], 'docker.io:443/nginx', true],
    [['library/'], 'INDEX.DOCKER.IO:443/library/nginx', true],
    [['library/'], 'docker.io/nginx', false],
    [['acme/'], 'registry-1.docker.io/acme/app', true],
    [['acme/'], 'ghcr.io/acme/app', false],
  ]
  for (const [prefixes, image, expected] of aliasRows) {
    t.equal(matcher(dockerHubAliasPatterns(prefixes))(image), expected, `${prefixes.join(',')} vs ${image}`)
  }
  t.same(dockerHubAliasPatterns([]), [])
})

t.test('dockerHubPatterns agrees with the model on every valid reference', async () => {
  fc.assert(fc.property(fc.subarray(PREFIXES, { minLength: 1, maxLength: 3 }), fc.array(imageArb, { minLength: 1, maxLength: 20 }), (prefixes, images) => {
    const match = matcher(dockerHubPatterns(prefixes))
    return images.every((image) => { const m = hubModel(prefixes, image); return m === undefined || match(image) === m })
  }), { numRuns: 300 })
})

t.test('dockerHubAliasPatterns agrees with the model on every valid reference', async () => {
  fc.assert(fc.property(fc.subarray(PREFIXES, { minLength: 1, maxLength: 3 }), fc.array(imageArb, { minLength: 1, maxLength: 20 }), (prefixes, images) => {
    const match = matcher(dockerHubAliasPatterns(prefixes))
    return images.every((image) => { const m = aliasModel(prefixes, image); return m === undefined || match(image) === m })
  }), { numRuns: 300 })
})

t.test('DEFAULT_REGISTRY_PATTERNS: the default-registry key (keyring.go isDefaultRegistryMatch) in image spelling', async (t) => {
  const match = matcher(DEFAULT_REGISTRY_PATTERNS)
  const rows: Array<[string, boolean]> = [
    ['nginx', true], ['acme/app', true], ['registry/app', true], ['registry:443/app', true], ['docker.io/x', true], ['Docker.IO:443/x', true],
    ['registry-1.docker.io/x', true], ['index.docker.io/x', true], ['ghcr.io/x', false], ['registry:5000/app', false], ['localhost.localdomain/x', false],
  ]
  for (const [image, expected] of rows) t.equal(match(image), expected, image)
})
