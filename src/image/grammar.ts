/**
 * The image-reference grammar of github.com/distribution/reference
 * (regexp.go, v0.6.x), written as hand-rolled scanners instead of regexes.
 *
 * Why by hand: the Go package uses RE2, which is linear-time. The same
 * patterns in a backtracking engine (V8) can go quadratic or worse on inputs
 * such as 'a' + '-'.repeat(50000) + '!'. Every function below makes a single
 * left-to-right pass (plus indexOf/lastIndexOf/split, also linear), so the
 * parse of any input is O(n).
 *
 * Go's `\w` and `[[:xdigit:]]` are ASCII-only; so is everything here.
 */

const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39 // 0-9
const isLower = (c: number): boolean => c >= 0x61 && c <= 0x7a // a-z
const isUpper = (c: number): boolean => c >= 0x41 && c <= 0x5a // A-Z
const isLowerAlnum = (c: number): boolean => isLower(c) || isDigit(c)
const isAlnum = (c: number): boolean => isLowerAlnum(c) || isUpper(c)
const isWord = (c: number): boolean => isAlnum(c) || c === 0x5f // \w = [0-9A-Za-z_]
const isXDigit = (c: number): boolean => isDigit(c) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46)
const isLowerHex = (c: number): boolean => isDigit(c) || (c >= 0x61 && c <= 0x66)

function every (s: string, pred: (c: number) => boolean): boolean {
  for (let i = 0; i < s.length; i++) if (!pred(s.charCodeAt(i))) return false
  return true
}

/** `identifier = ([a-f0-9]{64})`, anchored (regexp.go). Go's `$` is end-of-text, no trailing-newline slack. */
export function isHexIdentifier (s: string): boolean {
  return s.length === 64 && every(s, isLowerHex)
}

/** Lowercase hex of an exact length: go-digest algorithm.go anchoredEncodedRegexps (`^[a-f0-9]{n}$`). */
export function isLowerHexOfLength (s: string, n: number): boolean {
  return s.length === n && every(s, isLowerHex)
}

/**
 * `pathComponent = [a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*` (regexp.go).
 * Between two alphanumeric runs there must be exactly one separator run, and
 * it must be '.', '_', '__' or any number of '-' (so '_-', '._', '..' and
 * '___' are all rejected).
 */
export function isPathComponent (s: string): boolean {
  const n = s.length
  if (n === 0 || !isLowerAlnum(s.charCodeAt(0)) || !isLowerAlnum(s.charCodeAt(n - 1))) return false
  let i = 0
  while (i < n) {
    if (isLowerAlnum(s.charCodeAt(i))) { i++; continue }
    const start = i
    while (i < n && !isLowerAlnum(s.charCodeAt(i))) i++
    const run = s.slice(start, i)
    if (!(run === '.' || run === '_' || run === '__' || every(run, (c) => c === 0x2d))) return false
  }
  return true
}

/** `remoteName = pathComponent(?:/pathComponent)*` (regexp.go): empty components ('a//b', 'a/') fail. */
export function isRemoteName (s: string): boolean {
  return s.split('/').every(isPathComponent)
}

/** `domainNameComponent = [a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]` (regexp.go). */
function isDomainComponent (s: string): boolean {
  const n = s.length
  return n > 0 && isAlnum(s.charCodeAt(0)) && isAlnum(s.charCodeAt(n - 1)) &&
    every(s, (c) => isAlnum(c) || c === 0x2d)
}

const isPort = (s: string): boolean => s.length > 0 && every(s, isDigit) // `(?::[0-9]+)?`

/**
 * `domainAndPort = (?:domainName|ipv6address)(?::[0-9]+)?` (regexp.go), where
 * `domainName` is dot-separated domain components and `ipv6address` is
 * `\[(?:[a-fA-F0-9:]+)\]` (no zone ids, no embedded IPv4).
 */
export function isDomainAndPort (s: string): boolean {
  let host = s
  let rest = ''
  if (s.charCodeAt(0) === 0x5b /* [ */) {
    const close = s.indexOf(']')
    if (close < 2) return false
    if (!every(s.slice(1, close), (c) => isXDigit(c) || c === 0x3a)) return false
    rest = s.slice(close + 1)
    if (rest === '') return true
    return rest.charCodeAt(0) === 0x3a && isPort(rest.slice(1))
  }
  const colon = s.indexOf(':')
  if (colon >= 0) {
    host = s.slice(0, colon)
    if (!isPort(s.slice(colon + 1))) return false
  }
  return host.split('.').every(isDomainComponent)
}

/** `tag = [\w][\w.-]{0,127}` (regexp.go). */
export function isTag (s: string): boolean {
  return s.length >= 1 && s.length <= 128 && isWord(s.charCodeAt(0)) &&
    every(s, (c) => isWord(c) || c === 0x2e || c === 0x2d)
}

/**
 * `digestPat = [A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][[:xdigit:]]{32,}`
 * (regexp.go). Note this is the reference package's own, looser pattern: the
 * algorithm may be uppercase and the hex any case/length ≥ 32. go-digest then
 * validates it properly (see validateDigest in reference.ts).
 */
export function isDigestPattern (s: string): boolean {
  const colon = s.indexOf(':')
  if (colon < 1) return false
  const hex = s.slice(colon + 1)
  if (hex.length < 32 || !every(hex, isXDigit)) return false
  let expectLetter = true
  for (let i = 0; i < colon; i++) {
    const c = s.charCodeAt(i)
    if (expectLetter) {
      if (!isLower(c) && !isUpper(c)) return false
      expectLetter = false
    } else if (c === 0x2d || c === 0x5f || c === 0x2b || c === 0x2e) {
      expectLetter = true
    } else if (!isAlnum(c)) {
      return false
    }
  }
  return !expectLetter
}

export interface ReferenceMatch {
  readonly domain: string // '' when the name only matched as a bare path
  readonly path: string
  readonly tag: string | undefined
  readonly digest: string | undefined
}

/**
 * The anchored `referencePat = ^(namePat)(?::(tag))?(?:@(digestPat))?$` plus
 * the `anchoredNameRegexp` domain/path split that reference.go Parse applies
 * to the name. The captures are unambiguous, which is what makes a split-based
 * scan equivalent to the regex:
 *  - '@' appears in no production except as the digest separator, so the
 *    first '@' starts the digest (a second one makes the digest invalid);
 *  - a tag contains neither '/' nor ':', and in the name a ':' can only be a
 *    port, which sits before a '/'; so a ':' after the last '/' starts the tag;
 *  - a domain contains no '/', so if present it is the first component. RE2's
 *    leftmost-first semantics prefer the optional domain group, so the first
 *    component is the domain whenever that split matches; otherwise the whole
 *    name must match as a path and the domain is '' (e.g. 'test_com/foo').
 */
export function matchReference (s: string): ReferenceMatch | undefined {
  let head = s
  let digest: string | undefined
  const at = s.indexOf('@')
  if (at >= 0) {
    head = s.slice(0, at)
    digest = s.slice(at + 1)
    if (!isDigestPattern(digest)) return undefined
  }
  let name = head
  let tag: string | undefined
  const colon = head.lastIndexOf(':')
  if (colon > head.lastIndexOf('/')) {
    name = head.slice(0, colon)
    tag = head.slice(colon + 1)
    if (!isTag(tag)) return undefined
  }
  const slash = name.indexOf('/')
  if (slash >= 0) {
    const domain = name.slice(0, slash)
    const path = name.slice(slash + 1)
    if (isDomainAndPort(domain) && isRemoteName(path)) return { domain, path, tag, digest }
  }
  return isRemoteName(name) ? { domain: '', path: name, tag, digest } : undefined
}

/**
 * Just enough of Go's strings.ToLower for reference.go's "would it match if
 * lowercased?" retry. Besides A-Z, only two runes lowercase into ASCII in
 * Go's Unicode tables: U+0130 (İ → 'i') and U+212A (Kelvin sign → 'k').
 * Any other non-ASCII rune stays non-ASCII under Go's ToLower, and the
 * ASCII-only grammar rejects it either way, so it is left as is. (JavaScript's
 * toLowerCase differs here: it maps İ to 'i' + U+0307.)
 */
export function goLowerForRetry (s: string): string {
  let out = ''
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (isUpper(c)) out += String.fromCharCode(c + 0x20)
    else if (c === 0x130) out += 'i'
    else if (c === 0x212a) out += 'k'
    else out += s[i]
  }
  return out
}
