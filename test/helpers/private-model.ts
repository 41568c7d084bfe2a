/**
 * pullguard's rule for `alwaysPull: private`, written out plainly for the
 * tests of the RE2 patterns (src/registry/private-image-patterns.ts): an
 * image is private when some key matches its normalised name by the
 * kubelet's rules (keyring.go URLsMatch, isDefaultRegistryMatch), with the
 * host compared without case and port 443 the same as no port. "Without
 * case" is read every way an implementation might: the kubelet's own exact
 * comparison, or the key's glob lowercased against the image host
 * lowercased; ":443 is no port" as ports compared after mapping 443 to none,
 * or ':443' dropped from the name's host; and, as src/admission/coverage.ts
 * does, Docker Hub's other spellings (index.docker.io, registry-1.docker.io,
 * any case, :443) read as docker.io, with library/ for a one-component path.
 * The patterns must cover the union; coverage.ts itself is checked too.
 */
import { coverage } from '../../src/admission/coverage.js'
import { ClusterStore } from '../../src/cluster/store.js'
import { DOCKER_CONFIG_JSON } from '../../src/cluster/types.js'
import { compileConfig } from '../../src/config/compile.js'
import { parseImageReference } from '../../src/image/reference.js'
import { compileGoGlob } from '../../src/registry/go-glob.js'
import type { CredentialKey } from '../../src/registry/credential-key.js'
import { isDefaultRegistryMatch, parseImageLocation } from '../../src/registry/image-location.js'

const noPort = (port: string): boolean => port === '' || port === '443'

/** The normalised name, or undefined when the image is not a valid reference (pullguard then forces nothing). */
export function nameOf (image: string): string | undefined {
  const parsed = parseImageReference(image)
  return parsed.ok ? parsed.ref.name : undefined
}

const DOCKER_HUB_ALIASES = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io'])

/** The name, and its host lowercased and/or without ':443'; Docker Hub aliases also as docker.io (with library/ for one component). */
function nameVariants (name: string): string[] {
  const slash = name.indexOf('/')
  const host = name.slice(0, slash)
  const path = name.slice(slash + 1)
  const stripped = host.endsWith(':443') ? host.slice(0, -4) : host
  const hosts = new Set([host, stripped, host.toLowerCase(), stripped.toLowerCase()])
  const names = [...hosts].map((h) => `${h}/${path}`)
  if (DOCKER_HUB_ALIASES.has(stripped.toLowerCase())) {
    names.push(`docker.io/${path}`)
    if (!path.includes('/')) names.push(`docker.io/library/${path}`)
  }
  return [...new Set(names)]
}

function globMatches (pattern: string, label: string): boolean {
  try {
    return compileGoGlob(pattern)(label)
  } catch {
    return false
  }
}

function keyMatches (key: CredentialKey, name: string): boolean {
  const loc = parseImageLocation(name)
  if (loc === undefined) return false
  if (!(key.port === loc.port || (noPort(key.port) && noPort(loc.port)))) return false
  if (key.labels.length !== loc.labels.length || !loc.path.startsWith(key.path)) return false
  const exact = key.labels.every((l, i) => globMatches(l, loc.labels[i] as string))
  return exact || key.labels.every((l, i) => globMatches(l.toLowerCase(), (loc.labels[i] as string).toLowerCase()))
}

function isDefaultKey (key: CredentialKey): boolean {
  return key.isDefaultRegistry || (key.path === '' && key.host.toLowerCase() === 'index.docker.io' && noPort(key.port))
}

/** Does pullguard hold a credential for the image (any reading of the rule). */
export function isPrivate (keys: readonly CredentialKey[], image: string): boolean {
  const name = nameOf(image)
  if (name === undefined) return false
  const names = nameVariants(name)
  return keys.some((key) => names.some((n) => keyMatches(key, n) || (isDefaultKey(key) && isDefaultRegistryMatch(n))))
}

/** Does a publicImages prefix exempt the image (its normalised name starts with one). */
export function isPublic (prefixes: readonly string[], image: string): boolean {
  const name = nameOf(image)
  return name !== undefined && prefixes.some((p) => name.startsWith(p))
}

/** pullguard forces Always on the image in `private` mode. */
export function isForced (keys: readonly CredentialKey[], prefixes: readonly string[], image: string): boolean {
  return isPrivate(keys, image) && !isPublic(prefixes, image)
}

/** pullguard's own decision (src/admission/coverage.ts): keys from the config and from a pull Secret of another namespace. */
export function pullguardForces (configKeys: readonly CredentialKey[], secretKeys: readonly CredentialKey[], publicImages: readonly string[]): (image: string) => boolean {
  const config = compileConfig({ registries: configKeys.map((k) => ({ match: k.raw, secrets: ['pull'], namespaces: ['team-z'] })), alwaysPull: 'private', publicImages: [...publicImages] }, { origin: 'test' })
  const store = new ClusterStore()
  if (secretKeys.length > 0) store.setSecret({ namespace: 'other', name: 'pull', type: DOCKER_CONFIG_JSON, malformed: undefined, keys: secretKeys })
  return (image) => {
    const parsed = config.parseImage(image)
    if (!parsed.ok) return false
    const c = coverage(parsed.ref, [], config, store, 'team-a')
    return c.private !== undefined && c.publicPrefix === undefined
  }
}
