/**
 * An immutable, indexed BasicDockerKeyring: lookup returns what the kubelet's
 * Lookup would, in the kubelet's order, without scanning every entry.
 *
 * Kubelet order: keys reverse-sorted by Go (UTF-8 byte) order, so that
 * 'quay.io/coreos' comes before 'quay.io'; entries sharing a key in the order
 * they were added. When nothing matches and the image is a Docker Hub image
 * (isDefaultRegistryMatch), the entries keyed exactly 'index.docker.io'
 * (which 'https://index.docker.io/v1/' normalises to) are returned instead.
 *
 * Index: entries whose host has no glob are found by exact host and port,
 * then by exact path for each distinct key-path length (a key matches when its
 * path is a string prefix of the image's, so only the image path's prefixes of
 * those lengths can match: 10,000 'ghcr.io/org-N' keys cost a few map reads,
 * not 10,000 startsWith calls); glob hosts are bucketed by label count, port and their trailing literal
 * labels ('*.azurecr.io' under 2 × 'azurecr.io'), so a lookup reads only
 * the entries that could match. Each entry's rank in kubelet order is fixed
 * at construction, so a lookup only sorts its few hits.
 */
import { labelsMatch, type CredentialKey } from './credential-key.js'
import { isDefaultRegistryMatch, parseImageLocation } from './image-location.js'
import { hasGlobMeta } from './go-glob.js'

export interface KeyringEntry<T> {
  readonly key: CredentialKey
  readonly value: T
}

/** Literal-host entries of one host:port, by exact key path. */
interface HostBucket<T> {
  readonly byPath: Map<string, Array<Slot<T>>>
  /** The distinct key-path lengths in byPath, ascending. */
  readonly lengths: number[]
}

interface Slot<T> {
  /** Position in kubelet order. */
  readonly rank: number
  readonly key: CredentialKey
  readonly value: T
}

export class Keyring<T> {
  /** Number of entries. */
  readonly size: number
  /** host + '/' + port → entries whose host has no glob, by path, each list in rank order. */
  readonly #literal = new Map<string, HostBucket<T>>()
  /** labelCount/port/suffixLength/suffix → glob-host entries, in rank order. */
  readonly #glob = new Map<string, Array<Slot<T>>>()
  /** labelCount/port → the suffix lengths present in #glob, ascending. */
  readonly #suffixLengths = new Map<string, number[]>()
  /** Entries keyed exactly 'index.docker.io', in insertion order. */
  readonly #dockerHub: ReadonlyArray<Slot<T>>
  /** Image name → its matches (#matchesOf). */
  readonly #memo = new Map<string, Matches<T>>()

  constructor (entries: ReadonlyArray<KeyringEntry<T>>) {
    this.size = entries.length
    const order = entries.map((_, i) => i)
    order.sort((a, b) => compareGoStrings(entries[b]!.key.key, entries[a]!.key.key) || a - b)
    const slots: Array<Slot<T>> = new Array(entries.length)
    order.forEach((index, rank) => {
      const { key, value } = entries[index]!
      slots[index] = Object.freeze({ rank, key, value })
    })

    // Insert in rank order so every bucket is already sorted.
    for (const index of order) {
      const slot = slots[index]!
      const { key } = slot
      if (!key.hostHasGlob) {
        const hostPort = `${key.host}/${key.port}`
        let bucket = this.#literal.get(hostPort)
        if (bucket === undefined) {
          bucket = { byPath: new Map(), lengths: [] }
          this.#literal.set(hostPort, bucket)
        }
        push(bucket.byPath, key.path, slot)
        if (!bucket.lengths.includes(key.path.length)) bucket.lengths.push(key.path.length)
        continue
      }
      const count = key.labels.length
      const suffixLength = trailingLiteralLabels(key)
      const group = `${count}/${key.port}`
      push(this.#glob, `${group}/${suffixLength}/${key.labels.slice(count - suffixLength).join('.')}`, slot)
      const lengths = this.#suffixLengths.get(group)
      if (lengths === undefined) this.#suffixLengths.set(group, [suffixLength])
      else if (!lengths.includes(suffixLength)) lengths.push(suffixLength)
    }
    for (const lengths of this.#suffixLengths.values()) lengths.sort((a, b) => a - b)
    for (const bucket of this.#literal.values()) bucket.lengths.sort((a, b) => a - b)
    this.#dockerHub = Object.freeze(slots.filter((slot) => slot.key.isDefaultRegistry))
    Object.freeze(this)
  }

  /**
   * The values of every entry whose key matches `imageName` (a normalised
   * name without tag or digest, e.g. 'docker.io/library/nginx') and that
   * `allow` accepts, in kubelet order; or, when none does and the image is
   * on Docker Hub, the accepted entries keyed 'index.docker.io'.
   */
  lookup (imageName: string, allow?: (value: T) => boolean): T[] {
    const { matches, dockerHub } = this.#matchesOf(imageName)
    const values: T[] = []
    for (const value of matches) if (allow === undefined || allow(value)) values.push(value)
    if (values.length > 0 || !dockerHub) return values
    for (const slot of this.#dockerHub) {
      if (allow === undefined || allow(slot.value)) values.push(slot.value)
    }
    return values
  }

  /**
   * Every entry matching `imageName`, before any filter, and whether the
   * Docker Hub fallback applies to it. Memoised: the keyring never changes
   * (a new config builds a new one), and a cluster pulls the same few hundred
   * images over and over, so a lookup is then one Map read instead of
   * splitting the name again (issue #11). Names come from pods, that is
   * from anyone who may create one, so the memo is bounded as
   * image/reference-cache.ts bounds its cache: long names are never kept,
   * and a full memo starts over.
   */
  #matchesOf (imageName: string): Matches<T> {
    let found = this.#memo.get(imageName)
    if (found === undefined) {
      found = this.#match(imageName)
      if (imageName.length <= MAX_MEMOISED_NAME_LENGTH) {
        if (this.#memo.size >= MAX_MEMOISED_NAMES) this.#memo.clear()
        this.#memo.set(imageName, found)
      }
    }
    return found
  }

  #match (imageName: string): Matches<T> {
    const hits: Array<Slot<T>> = []
    const location = parseImageLocation(imageName)
    if (location !== undefined) {
      const { host, port, labels, path } = location

      const literal = this.#literal.get(`${host}/${port}`)
      if (literal !== undefined) {
        for (const length of literal.lengths) {
          if (length > path.length) break
          const slots = literal.byPath.get(length === path.length ? path : path.slice(0, length))
          if (slots !== undefined) hits.push(...slots)
        }
      }

      const count = labels.length
      const group = `${count}/${port}`
      const lengths = this.#suffixLengths.get(group)
      if (lengths !== undefined) {
        for (const suffixLength of lengths) {
          const bucket = this.#glob.get(`${group}/${suffixLength}/${suffixOf(host, suffixLength)}`)
          if (bucket === undefined) continue
          for (const slot of bucket) {
            if (path.startsWith(slot.key.path) && labelsMatch(slot.key, labels)) hits.push(slot)
          }
        }
      }
    }
    if (hits.length > 1) hits.sort((a, b) => a.rank - b.rank)
    const dockerHub = this.#dockerHub.length > 0 && isDefaultRegistryMatch(imageName)
    return Object.freeze({ matches: Object.freeze(hits.map((slot) => slot.value)), dockerHub })
  }
}

interface Matches<T> {
  /** Values of every matching entry, in kubelet order. */
  readonly matches: readonly T[]
  /** Whether the 'index.docker.io' entries stand in when nothing (allowed) matches. */
  readonly dockerHub: boolean
}

/** As many distinct image names as a large cluster runs; past it the memo starts over. */
const MAX_MEMOISED_NAMES = 10_000
/** image/reference-cache.ts MAX_CACHED_REFERENCE_LENGTH, less tag and digest: the longest name a runtime can pull. */
const MAX_MEMOISED_NAME_LENGTH = 259 + 1 + 255

/**
 * Compares as Go compares strings (by UTF-8 bytes, i.e. by code point),
 * which UTF-16 comparison gets wrong for surrogates versus U+E000–U+FFFF.
 */
export function compareGoStrings (a: string, b: string): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i)
    const y = b.charCodeAt(i)
    if (x !== y) return codePointRank(x) - codePointRank(y)
  }
  return a.length - b.length
}

/** Orders UTF-16 code units as the code points they start: surrogates above U+FFFF. */
function codePointRank (unit: number): number {
  if (unit >= 0xd800 && unit <= 0xdfff) return unit + 0x2000
  if (unit >= 0xe000) return unit - 0x800
  return unit
}

/** How many labels at the end of the key's host are plain literals. */
function trailingLiteralLabels (key: CredentialKey): number {
  const labels = key.labels
  let n = 0
  while (n < labels.length && !hasGlobMeta(labels[labels.length - 1 - n]!)) n++
  return n
}

/** The last `n` dot-separated labels of `host` ('' for none). */
function suffixOf (host: string, n: number): string {
  if (n === 0) return ''
  let at = host.length
  for (let i = 0; i < n; i++) {
    at = host.lastIndexOf('.', at - 1)
    if (at < 0) return host
  }
  return host.slice(at + 1)
}

function push<K, V> (map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key)
  if (list === undefined) map.set(key, [value])
  else list.push(value)
}
