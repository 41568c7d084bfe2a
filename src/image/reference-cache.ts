/**
 * A memoised parseImageReference. Clusters run the same few hundred images
 * over and over (every pod of a Deployment, every sidecar), and parsing is
 * the largest share of a decision, so each distinct string is parsed once.
 * Results are frozen and depend on nothing but the string.
 *
 * Image strings come from pods, that is from anyone who can create one, so
 * the cache is bounded three ways and can never grow with hostile input:
 * - a string longer than any reference a runtime can pull is parsed but not
 *   cached (MAX_CACHED_REFERENCE_LENGTH); it costs a parse each time, linear
 *   in its length, and nothing afterwards;
 * - at most `limit` entries and about `maxBytes` bytes: when either is
 *   reached the cache starts over, which keeps it O(1).
 */
import { parseImageReference, type ParsedReference } from './reference.js'

const DEFAULT_REFERENCE_CACHE_SIZE = 10_000
/** 10,000 typical entries (~400 bytes each by entryBytes) fit with room to spare. */
export const DEFAULT_REFERENCE_CACHE_BYTES = 8 * 1024 * 1024

/**
 * The longest reference a runtime can pull, as `[domain/]path[:tag][@digest]`
 * (ParseDockerRef keeps the digest when both are given, but accepts both):
 *   domain  253 (a DNS name, RFC 1035 §2.3.4) + ':' + 5 port digits = 259
 *           (a bracketed IPv6 literal with port is at most 53)
 *   '/'       1
 *   path    255 (reference.go RepositoryNameTotalLengthMax, on the path since v0.6)
 *   ':tag'  129 (tag grammar `[\w][\w.-]{0,127}`)
 *   '@'     136 ('@sha512:' + 128 hex, the longest go-digest algorithm)
 * = 780. The grammar itself does not bound the domain, but a longer one is
 * not a name any runtime can resolve, so it is never worth caching.
 */
export const MAX_CACHED_REFERENCE_LENGTH = 259 + 1 + 255 + 129 + 136

/** Map entry, result and reference objects and string headers, generously. */
const ENTRY_OVERHEAD_BYTES = 200

export interface ReferenceCacheStats {
  readonly entries: number
  /** Estimated: two bytes per character of every string held, plus the overhead per entry. */
  readonly bytes: number
}

export interface ReferenceParser {
  (input: string): ParsedReference
  /** What the cache holds now (tests; a metric could read it too). */
  stats (): ReferenceCacheStats
}

export function createReferenceParser (limit = DEFAULT_REFERENCE_CACHE_SIZE, maxBytes = DEFAULT_REFERENCE_CACHE_BYTES): ReferenceParser {
  let cache = new Map<string, ParsedReference>()
  let bytes = 0
  const parse = (input: string): ParsedReference => {
    let parsed = cache.get(input)
    if (parsed === undefined) {
      parsed = parseImageReference(input)
      if (input.length > MAX_CACHED_REFERENCE_LENGTH) return parsed
      const size = entryBytes(input, parsed)
      if (cache.size >= limit || bytes + size > maxBytes) {
        cache = new Map()
        bytes = 0
      }
      cache.set(input, parsed)
      bytes += size
    }
    return parsed
  }
  return Object.assign(parse, { stats: () => ({ entries: cache.size, bytes }) })
}

function entryBytes (input: string, parsed: ParsedReference): number {
  let chars = input.length
  if (parsed.ok) {
    const { domain, path, name, tag, digest, canonical } = parsed.ref
    chars += domain.length + path.length + name.length + (tag?.length ?? 0) + (digest?.length ?? 0) + canonical.length
  }
  // Failures are shared frozen objects (reference.ts FAILURES): only the key counts.
  return 2 * chars + ENTRY_OVERHEAD_BYTES
}
