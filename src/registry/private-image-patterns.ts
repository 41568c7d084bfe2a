/**
 * Credential keys → RE2 patterns over the image string AS WRITTEN in a pod
 * spec (`nginx`, `acme/app@sha256:...`, `GHCR.io:443/acme/web:1`), so that
 * the API server itself can tell, with CEL `matches()`, which images
 * `alwaysPull: private` covers while pullguard is down (the policy
 * pullguard-always-pull-private reads them from a ConfigMap).
 *
 * The rule is NEVER LOOSER than pullguard: an image is private when a key
 * matches its normalised name by the kubelet's rules (keyring.go URLsMatch
 * and isDefaultRegistryMatch), with the host compared without case and port
 * 443 the same as no port; these patterns match every such image (whichever
 * way that case rule is read: the key's glob lowercased, or each character
 * folded). `public` patterns only match images whose normalised name starts
 * with a `publicImages` prefix, compared exactly. Both are exact for valid
 * references except where noted: a single-label glob key (`*`,
 * `reg[0-9]`) makes every bracketed IPv6 host on its port private, and
 * patterns that outgrow the size limit are coarsened (below). Strings that
 * are not valid references may match either way; pullguard never forces
 * those, and the runtime cannot pull them.
 *
 * A written image keeps its first part as the registry host when that has
 * a '.' or ':', is `localhost` or has an uppercase letter (`GHCR.io:443`,
 * `localhost`, `Foo`, `[::1]:5000`), except the exact spellings `docker.io`
 * and `index.docker.io`; everything else is a Docker Hub name
 * (docker-hub-patterns.ts). So a key gives a pattern for the host shapes
 * it matches and, when it matches docker.io, Docker Hub patterns too. A
 * key's path is a plain string prefix of the name's path (kubelet
 * URLsMatch), so it becomes a literal after the host; path characters are
 * never ':' or '@', so a tag or digest can never extend it.
 *
 * Size: CEL charges `matches()` by string length times pattern length
 * (cel-go interpreter/runtimecost.go: ceil(0.1 × (1 + |image|)) ×
 * ceil(0.25 × |pattern|)), and the API server stops an expression at
 * 1,000,000 (apiserver/pkg/apis/cel PerCallLimit). With the default limits
 * (private 3,072 + public 1,024 characters, plus the policy's own two
 * constant patterns of ~316: 1,103 per 10 characters of image), one
 * container list of 32 new non-Always images of 255 characters costs
 * 32 × 26 × 1,103 ≈ 918,000 (test/manifests/private-policy.test.ts
 * recomputes it from the policy). A ConfigMap may hold 1 MiB in all
 * (core/validation MaxSecretSize, also used for ConfigMaps); the cost limit
 * binds long before. Patterns over the limit are coarsened, never loosened:
 * first key paths are dropped (whole registries private), then everything
 * is private (`^`); public prefixes that do not fit are left out (fewer
 * exclusions, more enforcement).
 */
import type { CredentialKey } from './credential-key.js'
import { DEFAULT_REGISTRY_PATTERNS, dockerHubAliasPatterns, dockerHubPatterns } from './docker-hub-patterns.js'
import {
  acceptsCaseless, alternation, atomsText, caseless, escapeRe2, exceptWord, globAtoms, minimalPrefixes,
  prefixTrie, withUppercase, wordAtoms, type Atom,
} from './re2.js'

export interface PatternLimits {
  /** Longest `private` pattern (all alternatives joined), in characters. */
  readonly privateChars: number
  /** Longest `public` pattern, in characters. */
  readonly publicChars: number
}

export const DEFAULT_PATTERN_LIMITS: PatternLimits = Object.freeze({ privateChars: 3072, publicChars: 1024 })

/** keys: every key as given; hosts: key paths dropped to fit; everything: every image private. */
export type PatternPrecision = 'keys' | 'hosts' | 'everything'

export interface ImagePatterns {
  /** Alternatives, each anchored with '^', sorted and unique; empty: nothing is private. */
  readonly private: readonly string[]
  /** Alternatives whose images are never forced; empty: no exclusion. */
  readonly public: readonly string[]
  readonly precision: PatternPrecision
  /** publicImages prefixes left out to fit publicChars. */
  readonly publicDropped: number
}

/** One RE2 pattern for a list of alternatives ('' for none: CEL callers test for it). */
export function joinPatterns (patterns: readonly string[]): string {
  return patterns.join('|')
}

export function privateImagePatterns (
  keys: readonly CredentialKey[],
  publicImages: readonly string[],
  limits: PatternLimits = DEFAULT_PATTERN_LIMITS
): ImagePatterns {
  let precision: PatternPrecision = 'keys'
  let patterns = privatePatterns(keys, false)
  if (joinPatterns(patterns).length > limits.privateChars) {
    precision = 'hosts'
    patterns = privatePatterns(keys, true)
  }
  if (joinPatterns(patterns).length > limits.privateChars) {
    precision = 'everything'
    patterns = ['^']
  }
  const prefixes = minimalPrefixes(publicImages)
  let kept = prefixes
  while (kept.length > 0 && joinPatterns(publicPatterns(kept)).length > limits.publicChars) kept = kept.slice(0, -1)
  return Object.freeze({
    private: Object.freeze(patterns),
    public: Object.freeze(publicPatterns(kept)),
    precision,
    publicDropped: prefixes.length - kept.length,
  })
}

interface KeyVariant {
  readonly labels: readonly string[]
  readonly port: string
  readonly path: string
  readonly ipv6: boolean
  readonly glob: boolean
}

function privatePatterns (keys: readonly CredentialKey[], dropPaths: boolean): string[] {
  const hosts = new Map<string, Set<string>>() // host pattern → path prefixes
  const hub = new Set<string>() // Docker Hub path prefixes
  let defaultRegistry = false
  for (const key of keys) {
    if (isDefaultRegistryKey(key)) {
      defaultRegistry = true
      continue
    }
    const prefix = dropPaths ? '' : pathPrefix(key.path)
    if (prefix === undefined) continue
    for (const variant of variantsOf(key)) {
      for (const host of hostPatterns(variant)) hosts.set(host, (hosts.get(host) ?? new Set()).add(prefix))
      if (isDockerHubHost(variant)) hub.add(prefix)
    }
  }
  // Host patterns sharing their path prefixes share one alternative.
  const byPaths = new Map<string, string[]>()
  for (const [host, prefixes] of hosts) {
    const paths = prefixTrie(prefixes)
    byPaths.set(paths, [...(byPaths.get(paths) ?? []), host])
  }
  const out = [...byPaths].map(([paths, group]) => `^${alternation(group.sort())}/${paths}`)
  if (defaultRegistry) out.push(...DEFAULT_REGISTRY_PATTERNS)
  else if (hub.size > 0) out.push(...dockerHubPatterns(hub), ...dockerHubAliasPatterns(hub))
  return [...new Set(out)].sort()
}

/** The key's own labels and, when different, its labels lowercased: pullguard may compare either way. */
function variantsOf (key: CredentialKey): KeyVariant[] {
  const ipv6 = key.labels.length === 1 && key.host.includes(':') && !key.hostHasGlob
  const variants = [key.labels, key.labels.map((l) => l.toLowerCase())]
  return [...new Set(variants.map((v) => v.join('.')))].map((joined) => ({
    labels: joined.split('.'), port: key.port, path: key.path, ipv6, glob: key.hostHasGlob,
  }))
}

function isDefaultRegistryKey (key: CredentialKey): boolean {
  if (key.isDefaultRegistry) return true
  return key.path === '' && key.host.toLowerCase() === 'index.docker.io' && (key.port === '' || key.port === '443')
}

/** The key path as a prefix of a name's path without its leading '/', or undefined when no valid name can match it. */
function pathPrefix (path: string): string | undefined {
  if (path === '') return ''
  return /^\/[a-z0-9._/-]*$/.test(path) ? path.slice(1) : undefined
}

/**
 * Patterns for the first part of an image string that is kept as the
 * registry host and that the variant matches; each is followed by '/'.
 * Exact spellings `docker.io` and `index.docker.io` are left out: those
 * images are Docker Hub's (dockerHubPatterns).
 */
function hostPatterns (v: KeyVariant): string[] {
  const noPort = v.port === '' || v.port === '443'
  const port = noPort ? ':443' : `:${v.port}`
  if (v.ipv6) return [`\\[${caseless(escapeRe2(v.labels[0] as string))}\\]${noPort ? '(?::443)?' : port}`]
  const out: string[] = []
  // A glob label can match a bracketed IPv6 host too ('::1' with a port, '[::1]' without): all of them, coarsely.
  if (v.glob && v.labels.length === 1) out.push(`\\[[0-9A-Fa-f:]+\\]${noPort ? '(?::443)?' : port}`)
  const atoms = v.labels.map(globAtoms)
  if (atoms.some((a) => a === undefined)) return out
  const labels = atoms as Atom[][]
  const host = caseless(labels.map((a) => atomsText(a)).join('\\.'))
  if (!noPort) return [...out, host + port]
  const portless = portlessHosts(labels)
  // The common case, a host that needs no exception: one alternative.
  if (portless.length === 1 && portless[0] === host) return [...out, `${host}(?::443)?`]
  return [...out, host + port, ...portless]
}

/** Without a port, the first part is a host only if it has '.', is `localhost` or has an uppercase letter. */
function portlessHosts (labels: readonly Atom[][]): string[] {
  if (labels.length === 1) {
    const only = labels[0] as Atom[]
    const upper = withUppercase(only)
    return [...(acceptsCaseless(only, 'localhost') ? ['localhost'] : []), ...(upper === undefined ? [] : [upper])]
  }
  if (labels.length === 2) return exceptHost(labels, ['docker', 'io'])
  if (labels.length === 3) return exceptHost(labels, ['index', 'docker', 'io'])
  return [caseless(labels.map((a) => atomsText(a)).join('\\.'))]
}

/** The labels' hosts except exactly `words` in lowercase (a Docker Hub spelling); other cases of it stay. */
function exceptHost (labels: readonly Atom[][], words: readonly string[]): string[] {
  const all = caseless(labels.map((a) => atomsText(a)).join('\\.'))
  if (!labels.every((a, i) => acceptsCaseless(a, words[i] as string))) return [all]
  const out: string[] = []
  labels.forEach((_, i) => {
    const other = exceptWord(labels[i] as Atom[], words[i] as string)
    if (other !== undefined) out.push(caseless(labels.map((a, j) => (j === i ? other : atomsText(a))).join('\\.')))
  })
  const upper = withUppercase(wordAtoms(words.join('.')))
  if (upper !== undefined) out.push(upper)
  return out
}

/** Does the variant match docker.io, the host of every Docker Hub name. */
function isDockerHubHost (v: KeyVariant): boolean {
  if (v.ipv6 || v.labels.length !== 2 || !(v.port === '' || v.port === '443')) return false
  const [first, second] = v.labels.map(globAtoms)
  return first !== undefined && second !== undefined && acceptsCaseless(first, 'docker') && acceptsCaseless(second, 'io')
}

/** Image strings whose normalised name starts with one of `prefixes` (publicImages), compared exactly. */
function publicPatterns (prefixes: readonly string[]): string[] {
  const hub: string[] = []
  const byHost = new Map<string, string[]>()
  for (const prefix of prefixes) {
    const slash = prefix.indexOf('/')
    if (slash < 0) continue
    const host = prefix.slice(0, slash)
    const path = prefix.slice(slash + 1)
    if (host === 'docker.io') hub.push(path)
    // A first part without '.' or ':' other than localhost is a Docker Hub path: no name starts with it.
    else if (host !== 'index.docker.io' && (host === 'localhost' || /[.:]/.test(host))) byHost.set(host, [...(byHost.get(host) ?? []), path])
  }
  const out = [...byHost].map(([host, paths]) => `^${escapeRe2(host)}/${prefixTrie(paths)}`)
  if (hub.length > 0) out.push(...dockerHubPatterns(hub))
  return [...new Set(out)].sort()
}
