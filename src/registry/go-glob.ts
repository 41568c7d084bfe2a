/**
 * Go's path/filepath.Match, compiled once per pattern (Unix flavour: '/' is
 * the separator and '\\' escapes).
 *
 *   '*'            any run of non-'/' characters
 *   '?'            one non-'/' character
 *   '[' ['^'] { c | '\\' c | lo '-' hi } ']'
 *                  one character in (or, with '^', not in) the class; a class
 *                  must be non-empty and '-' / ']' must be escaped inside it
 *   '\\' c         the character c
 *
 * The matcher replays Go's own algorithm (chunks of single-character
 * operators, each optionally preceded by a star; the leftmost placement of a
 * chunk wins) over the UTF-8 bytes of the name, so it agrees with Go even in
 * the corners where that algorithm differs from a regular expression (a star
 * never skips past '/', a negated class can match '/', and a star may resume
 * in the middle of a multi-byte character). Like current Go, a malformed
 * pattern is an error whatever the name, so it is reported here, at compile
 * time, as a GlobSyntaxError.
 *
 * Over 300 lines, one file on purpose: a faithful port of Go's
 * path/filepath/match.go (scanChunk, matchChunk, getEsc) and of
 * utf8.DecodeRune, which reads best beside the Go source; the parser and the
 * matcher share the chunk format and would not make sense apart.
 */
import { PullguardError } from '../errors.js'

export class GlobSyntaxError extends PullguardError {
  readonly pattern: string
  readonly reason: string

  constructor (pattern: string, reason: string) {
    super('PG_GLOB_SYNTAX', `malformed glob ${JSON.stringify(pattern)}: ${reason}`)
    this.name = 'GlobSyntaxError'
    this.pattern = pattern
    this.reason = reason
  }
}

/** True when `s` contains a character filepath.Match treats specially: `*`, `?`, `[` or `\`. */
export function hasGlobMeta (s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c === STAR || c === QUESTION || c === LBRACKET || c === BACKSLASH) return true
  }
  return false
}

export type GlobMatcher = (s: string) => boolean

/** Compiles `pattern` with Go filepath.Match semantics; throws GlobSyntaxError when it is malformed. */
export function compileGoGlob (pattern: string): GlobMatcher {
  if (!hasGlobMeta(pattern)) return (s) => s === pattern
  const chunks = parsePattern(pattern, ENCODER.encode(pattern))
  if (chunks.length === 1 && chunks[0]!.star && chunks[0]!.items.length === 0) {
    // Only stars: anything without a separator.
    return (s) => !s.includes('/')
  }
  return (s) => {
    const n = toScratch(s)
    return matchChunks(chunks, scratch, n)
  }
}

// ---------------------------------------------------------------------------

const STAR = 0x2a // *
const QUESTION = 0x3f // ?
const LBRACKET = 0x5b // [
const RBRACKET = 0x5d // ]
const BACKSLASH = 0x5c // \
const CARET = 0x5e // ^
const DASH = 0x2d // -
const SLASH = 0x2f // /
const RUNE_ERROR = 0xfffd

const ENCODER = new TextEncoder()

const KIND_BYTE = 0
const KIND_ANY = 1
const KIND_CLASS = 2
type Kind = typeof KIND_BYTE | typeof KIND_ANY | typeof KIND_CLASS

interface Item {
  readonly kind: Kind
  /** KIND_BYTE: the byte to compare. */
  readonly byte: number
  /** KIND_CLASS: negated with '^'. */
  readonly negated: boolean
  /** KIND_CLASS: lo, hi pairs of code points. */
  readonly ranges: readonly number[]
}

interface Chunk {
  readonly star: boolean
  readonly items: readonly Item[]
}

const ANY: Item = { kind: KIND_ANY, byte: 0, negated: false, ranges: [] }
const BYTE_ITEMS: readonly Item[] = Array.from({ length: 256 }, (_, byte) => ({ kind: KIND_BYTE, byte, negated: false, ranges: [] }))

/** Splits into chunks exactly as Go's scanChunk does, and parses each one, throwing on malformed syntax. */
function parsePattern (pattern: string, p: Uint8Array): Chunk[] {
  const chunks: Chunk[] = []
  let i = 0
  const n = p.length
  while (i < n) {
    let star = false
    while (i < n && p[i] === STAR) {
      i++
      star = true
    }
    // Scan to the next '*' that is not inside a character class.
    const start = i
    let inRange = false
    for (; i < n; i++) {
      const c = p[i]
      if (c === BACKSLASH) {
        if (i + 1 < n) i++
      } else if (c === LBRACKET) {
        inRange = true
      } else if (c === RBRACKET) {
        inRange = false
      } else if (c === STAR && !inRange) {
        break
      }
    }
    chunks.push({ star, items: parseChunk(pattern, p, start, i) })
  }
  return chunks
}

function parseChunk (pattern: string, p: Uint8Array, start: number, end: number): Item[] {
  const items: Item[] = []
  let i = start
  const fail = (reason: string): never => { throw new GlobSyntaxError(pattern, reason) }
  // Go's getEsc: a possibly escaped character of a class; returns the code point and moves i past it.
  const getEsc = (first: boolean): number => {
    if (i >= end) fail('unterminated character class')
    if (p[i] === DASH) fail("'-' must be escaped inside a character class")
    if (p[i] === RBRACKET) fail(first ? "empty character class (a leading ']' must be escaped)" : "']' cannot end a range")
    if (p[i] === BACKSLASH) {
      i++
      if (i >= end) fail('unterminated character class')
    }
    const d = decodeRune(p, i, end)
    const r = d >>> 3
    const size = d & 7
    if (r === RUNE_ERROR && size === 1) fail('invalid UTF-8 in character class')
    i += size
    if (i >= end) fail('unterminated character class')
    return r
  }
  while (i < end) {
    const c = p[i]!
    if (c === LBRACKET) {
      i++
      let negated = false
      if (i < end && p[i] === CARET) {
        negated = true
        i++
      }
      const ranges: number[] = []
      for (;;) {
        if (i < end && p[i] === RBRACKET && ranges.length > 0) {
          i++
          break
        }
        const lo = getEsc(ranges.length === 0)
        let hi = lo
        if (p[i] === DASH) {
          i++
          hi = getEsc(false)
        }
        ranges.push(lo, hi)
      }
      items.push({ kind: KIND_CLASS, byte: 0, negated, ranges })
    } else if (c === QUESTION) {
      items.push(ANY)
      i++
    } else if (c === BACKSLASH) {
      i++
      if (i >= end) fail('trailing backslash')
      items.push(BYTE_ITEMS[p[i]!]!)
      i++
    } else {
      items.push(BYTE_ITEMS[c]!)
      i++
    }
  }
  return items
}

/** Go's Match loop over pre-parsed chunks. */
function matchChunks (chunks: readonly Chunk[], b: Uint8Array, n: number): boolean {
  let pos = 0
  const last = chunks.length - 1
  for (let ci = 0; ci <= last; ci++) {
    const { star, items } = chunks[ci]!
    if (star && items.length === 0) {
      // Trailing star: the rest of the name, unless it has a separator.
      for (let i = pos; i < n; i++) if (b[i] === SLASH) return false
      return true
    }
    let t = matchChunk(items, b, pos, n)
    // The last chunk must also exhaust the name.
    if (t >= 0 && (t === n || ci < last)) {
      pos = t
      continue
    }
    t = star ? matchAfterSkip(items, b, pos, n, ci === last) : -1
    if (t < 0) return false
    pos = t
  }
  return pos === n
}

/**
 * The star's retry in Go's Match (the `continue Pattern` loop): skip i+1
 * bytes, never past a separator, until the chunk matches (and, for the last
 * chunk, exhausts the name). Returns the position after it, or -1.
 */
function matchAfterSkip (items: readonly Item[], b: Uint8Array, pos: number, n: number, isLast: boolean): number {
  for (let i = pos; i < n && b[i] !== SLASH; i++) {
    const t = matchChunk(items, b, i + 1, n)
    if (t >= 0 && !(isLast && t < n)) return t
  }
  return -1
}

/** Matches the chunk at b[pos..n); returns the position after it, or -1. */
function matchChunk (items: readonly Item[], b: Uint8Array, pos: number, n: number): number {
  for (let k = 0; k < items.length; k++) {
    if (pos >= n) return -1
    const item = items[k]!
    switch (item.kind) {
      case KIND_BYTE:
        if (b[pos] !== item.byte) return -1
        pos++
        break
      case KIND_ANY:
        if (b[pos] === SLASH) return -1
        pos += decodeRune(b, pos, n) & 7
        break
      case KIND_CLASS: {
        const d = decodeRune(b, pos, n)
        const r = d >>> 3
        pos += d & 7
        const ranges = item.ranges
        let match = false
        for (let j = 0; j < ranges.length; j += 2) {
          if (ranges[j]! <= r && r <= ranges[j + 1]!) {
            match = true
            break
          }
        }
        if (match === item.negated) return -1
        break
      }
    }
  }
  return pos
}

/**
 * Go's utf8.DecodeRune on b[i..n): returns (rune << 3) | size, with
 * (RuneError, 1) for an invalid or truncated sequence.
 */
// eslint-disable-next-line complexity -- a port of DecodeRune in Go's src/unicode/utf8/utf8.go (its acceptRanges spelled out), kept whole to compare with it
function decodeRune (b: Uint8Array, i: number, n: number): number {
  const b0 = b[i]!
  if (b0 < 0x80) return (b0 << 3) | 1
  const bad = (RUNE_ERROR << 3) | 1
  if (b0 < 0xc2 || b0 > 0xf4) return bad
  if (i + 1 >= n) return bad
  const b1 = b[i + 1]!
  if (b0 < 0xe0) {
    if ((b1 & 0xc0) !== 0x80) return bad
    return ((((b0 & 0x1f) << 6) | (b1 & 0x3f)) << 3) | 2
  }
  let lo = 0x80
  let hi = 0xbf
  if (b0 === 0xe0) lo = 0xa0
  else if (b0 === 0xed) hi = 0x9f
  else if (b0 === 0xf0) lo = 0x90
  else if (b0 === 0xf4) hi = 0x8f
  if (b1 < lo || b1 > hi) return bad
  if (i + 2 >= n) return bad
  const b2 = b[i + 2]!
  if ((b2 & 0xc0) !== 0x80) return bad
  if (b0 < 0xf0) {
    return ((((b0 & 0x0f) << 12) | ((b1 & 0x3f) << 6) | (b2 & 0x3f)) << 3) | 3
  }
  if (i + 3 >= n) return bad
  const b3 = b[i + 3]!
  if ((b3 & 0xc0) !== 0x80) return bad
  return ((((b0 & 0x07) << 18) | ((b1 & 0x3f) << 12) | ((b2 & 0x3f) << 6) | (b3 & 0x3f)) << 3) | 4
}

// Matchers are synchronous and never re-entered, so one scratch buffer serves them all.
let scratch = new Uint8Array(256)

/** Writes the UTF-8 bytes of `s` into `scratch`; returns how many. */
function toScratch (s: string): number {
  const n = s.length
  // A UTF-16 code unit never takes more than 3 UTF-8 bytes.
  if (scratch.length < n * 3) scratch = new Uint8Array(n * 3)
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i)
    if (c >= 0x80) return ENCODER.encodeInto(s, scratch).written
    scratch[i] = c
  }
  return n
}
