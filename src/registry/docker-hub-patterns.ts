/**
 * RE2 patterns for Docker Hub images as written in a pod spec. A Docker Hub
 * name (docker.io/P) comes from several spellings (distribution/reference
 * normalize.go splitDockerDomain, see src/image/reference.ts):
 *   nginx[:tag|@digest]                 docker.io/library/nginx   (no '/')
 *   acme/app, library/nginx             docker.io/acme/app        (a first part without '.' or ':',
 *                                                                   lowercase, and not `localhost`)
 *   docker.io/nginx, index.docker.io/x  docker.io/library/nginx, docker.io/library/x (one part after)
 *   docker.io/acme/app, index.docker.io/acme/app   docker.io/acme/app
 * Only the lowercase spellings `docker.io` and `index.docker.io` are
 * rewritten; any other case is kept as a registry host of its own. pullguard
 * itself (src/admission/coverage.ts) also reads those, `registry-1.docker.io`
 * and any of them with :443 as Docker Hub (dockerHubAliasPatterns).
 */
import { alternation, escapeRe2, minimalPrefixes, prefixTrie, withUppercase, wordAtoms } from './re2.js'

/**
 * Docker Hub's default-registry key (keyring.go isDefaultRegistryMatch):
 * every image whose name's first part has no '.' or ':' (with ':443'
 * dropped), and Docker Hub in any spelling.
 */
export const DEFAULT_REGISTRY_PATTERNS = ['^[^/]*$', '^[^./:]+(?::443)?/', '^(?i:(?:index\\.|registry-1\\.)?docker\\.io)(?::443)?/']

const FIRST_PART = '[^/.:A-Z]' // a first part that is a Docker Hub path, not a host (besides `localhost`)
const HUB_DOMAIN = '^(?:index\\.)?docker\\.io/'

/**
 * Image strings whose name is docker.io/P with P starting with one of
 * `prefixes` (paths without the leading '/'), in every Docker Hub shape.
 * Exact: used for private keys and public prefixes alike.
 */
export function dockerHubPatterns (prefixes: Iterable<string>): string[] {
  const qs = minimalPrefixes(prefixes)
  const out: string[] = []
  // No '/': docker.io/library/NAME, also after docker.io/ or index.docker.io/.
  if (qs.some((q) => 'library/'.startsWith(q))) {
    out.push('^[^/]*$', `${HUB_DOMAIN}[^/]*$`)
  } else {
    const names = qs.filter((q) => q.startsWith('library/') && !q.slice(8).includes('/')).map((q) => q.slice(8))
    if (names.length > 0) out.push(`^${prefixTrie(names)}[^/]*$`, `${HUB_DOMAIN}${prefixTrie(names)}[^/]*$`)
  }
  // A first part that is a Docker Hub path: the string is the name's path.
  const nested = qs.filter((q) => q.includes('/') && isHubPath(q.slice(0, q.indexOf('/'))))
  if (nested.length > 0) out.push(`^${prefixTrie(nested)}`)
  const plain = qs.filter((q) => !q.includes('/') && !q.includes('.') && !'localhost'.startsWith(q))
  if (plain.length > 0) out.push(`^${prefixTrie(plain)}${FIRST_PART}*/`)
  for (const q of qs.filter((x) => 'localhost'.startsWith(x))) {
    out.push(`^${escapeRe2(q)}${exceptLocalhost('localhost'.slice(q.length), q === '')}/`)
  }
  // docker.io/ or index.docker.io/ then a path with '/': the rest is the name's path.
  const slashed = qs.filter((q) => q.includes('/'))
  if (slashed.length > 0) out.push(`${HUB_DOMAIN}${prefixTrie(slashed)}`)
  const single = qs.filter((q) => !q.includes('/'))
  if (single.length > 0) out.push(`${HUB_DOMAIN}${prefixTrie(single)}[^/:@]*/`)
  return out
}

function isHubPath (first: string): boolean {
  return first !== '' && first !== 'localhost' && !/[.:A-Z]/.test(first)
}

/** First-part characters other than exactly `rest` (and, when nonEmpty, not nothing). */
function exceptLocalhost (rest: string, nonEmpty: boolean): string {
  if (rest === '') return `${FIRST_PART}+`
  const c = rest[0] as string
  const group = `(?:${FIRST_PART.slice(0, -1)}${c}]${FIRST_PART}*|${c}${exceptLocalhost(rest.slice(1), false)})`
  return nonEmpty ? group : `${group}?`
}

/**
 * Docker Hub spellings the runtime keeps as written but pullguard reads as
 * docker.io: docker.io or index.docker.io in another case, registry-1.docker.io
 * in any case, any of them with :443. The rest is the name's path as written
 * and, when it is one component, also under library/ (coverage.ts tries both).
 */
const ALIAS_HOST = alternation([
  '(?i:(?:index\\.|registry-1\\.)?docker\\.io):443',
  '(?i:registry-1\\.docker\\.io)',
  withUppercase(wordAtoms('docker.io')) as string,
  withUppercase(wordAtoms('index.docker.io')) as string,
])

/** Image strings in those spellings whose path, either way, starts with one of `prefixes`. */
export function dockerHubAliasPatterns (prefixes: Iterable<string>): string[] {
  const qs = minimalPrefixes(prefixes)
  if (qs.length === 0) return []
  const host = `^${ALIAS_HOST}/`
  const out = [`${host}${prefixTrie(qs)}`]
  if (qs.some((q) => 'library/'.startsWith(q))) {
    out.push(`${host}[^/]*$`)
  } else {
    const names = qs.filter((q) => q.startsWith('library/') && !q.slice(8).includes('/')).map((q) => q.slice(8))
    if (names.length > 0) out.push(`${host}${prefixTrie(names)}[^/]*$`)
  }
  return out
}
