/**
 * Container image references, parsed and normalised the way the kubelet and
 * containerd/CRI do it: github.com/distribution/reference `ParseDockerRef`
 * (normalize.go), which is `ParseNormalizedNamed` + `TagNameOnly`, and which
 * keeps only the digest when a reference carries both a tag and a digest.
 * Digests are then checked like github.com/opencontainers/go-digest
 * (digest.go, algorithm.go).
 *
 * Tracks distribution/reference v0.6.x. The one behaviour that differs from
 * older copies (docker/distribution v2.x, distribution/reference v0.5.0) is the
 * 255-character limit: since distribution/reference PR #9 ("Exclude domain
 * from name length check") it applies to the path only, not domain + '/' +
 * path. Being the more lenient of the two, it never rejects an image a runtime
 * of either generation would pull.
 *
 * Pure: no I/O, never throws, linear time (the grammar is scanned by hand in
 * grammar.ts rather than with backtracking regexes).
 */
import {
  goLowerForRetry, isHexIdentifier, isLowerHexOfLength, matchReference, type ReferenceMatch
} from './grammar.js'

export interface ImageReference {
  /**
   * 'docker.io', 'ghcr.io', 'localhost:5000', '[::1]:5000'. Kept as written
   * (uppercase too: 'Foo/bar' has domain 'Foo'). It is '' in one Go quirk: a
   * first component with '.' or ':' that is not a valid domain but still
   * matches as a path ('a_b.c/d') is left as a bare path by reference.go.
   */
  readonly domain: string
  readonly path: string // 'library/nginx'
  /** domain + '/' + path (just path when domain is ''): what the kubelet passes to its keyring. */
  readonly name: string
  /** 'latest' when neither tag nor digest was given; absent when a digest is kept. */
  readonly tag?: string
  readonly digest?: string // 'sha256:...'
  /** What the runtime pulls: name + ':' + tag, or name + '@' + digest. */
  readonly canonical: string
}

export type ReferenceErrorCode =
  | 'empty' | 'invalid-format' | 'uppercase' | 'name-too-long' | 'hex-identifier' | 'digest-unsupported' | 'digest-invalid'

/** `message` is a fixed sentence per code: it never echoes the input (which may hold e.g. 'user:pass@host/x'). */
export interface ReferenceError { readonly code: ReferenceErrorCode, readonly message: string }

export type ParsedReference =
  | { readonly ok: true, readonly ref: ImageReference }
  | { readonly ok: false, readonly error: ReferenceError }

/** The fixed messages, worded after the Go errors they stand for. */
export const REFERENCE_ERROR_MESSAGES: Readonly<Record<ReferenceErrorCode, string>> = Object.freeze({
  // Go's own ParseDockerRef("") reports "invalid reference format" (it parses
  // "docker.io/library/"); a separate code is more useful to callers.
  empty: 'image reference must not be empty',
  'invalid-format': 'invalid reference format', // reference.go ErrReferenceInvalidFormat
  uppercase: 'invalid reference format: repository name must be lowercase', // ErrNameContainsUppercase
  'name-too-long': 'repository name must not be more than 255 characters', // ErrNameTooLong
  'hex-identifier': 'invalid repository name: cannot specify 64-byte hexadecimal strings', // normalize.go
  'digest-unsupported': 'unsupported digest algorithm', // go-digest ErrDigestUnsupported
  'digest-invalid': 'invalid checksum digest format' // go-digest ErrDigestInvalidFormat
})

/** reference.go RepositoryNameTotalLengthMax (applied to the path, see the file comment). */
const REPOSITORY_NAME_MAX_LENGTH = 255

// normalize.go constants.
const DEFAULT_DOMAIN = 'docker.io'
const LEGACY_DEFAULT_DOMAIN = 'index.docker.io'
const OFFICIAL_REPO_PREFIX = 'library/'
const DEFAULT_TAG = 'latest'

/** go-digest algorithm.go: the registered algorithms and their hex lengths (lowercase only). */
const DIGEST_HEX_LENGTH: ReadonlyMap<string, number> = new Map([['sha256', 64], ['sha384', 96], ['sha512', 128]])

// Errors carry no input, so every failure can be one shared frozen object.
const FAILURES = Object.fromEntries(
  (Object.keys(REFERENCE_ERROR_MESSAGES) as ReferenceErrorCode[]).map((code) => [
    code, Object.freeze({ ok: false as const, error: Object.freeze({ code, message: REFERENCE_ERROR_MESSAGES[code] }) })
  ])
) as Record<ReferenceErrorCode, ParsedReference & { ok: false }>

export function parseImageReference (input: string): ParsedReference {
  if (typeof input !== 'string') return FAILURES['invalid-format'] // defensive: callers pass JSON-derived values
  if (input === '') return FAILURES.empty

  // normalize.go ParseNormalizedNamed: a bare 64-hex string would be ambiguous with an image ID.
  if (isHexIdentifier(input)) return FAILURES['hex-identifier']

  const [domain, remainder] = splitDockerDomain(input)

  // normalize.go: the repository part (up to the first ':', which may be the
  // tag's or the digest algorithm's) must be lowercase. This runs before the
  // grammar, so 'foo@MD5:...' is 'uppercase' while 'foo:t@MD5:...' reaches go-digest.
  const tagSep = remainder.indexOf(':')
  const remote = tagSep >= 0 ? remainder.slice(0, tagSep) : remainder
  if (remote.toLowerCase() !== remote) return FAILURES.uppercase

  // reference.go Parse, on the re-joined string.
  const joined = domain + '/' + remainder
  const m = matchReference(joined)
  if (m === undefined) {
    // reference.go: if the lowercased input would have matched, blame the case.
    const lower = goLowerForRetry(joined)
    return lower !== joined && matchReference(lower) !== undefined ? FAILURES.uppercase : FAILURES['invalid-format']
  }
  if (m.path.length > REPOSITORY_NAME_MAX_LENGTH) return FAILURES['name-too-long']
  if (m.digest !== undefined) {
    const bad = validateDigest(m.digest)
    if (bad !== undefined) return FAILURES[bad]
  }
  return Object.freeze({ ok: true as const, ref: dockerRef(m) })
}

export function isDockerHub (ref: ImageReference): boolean {
  return ref.domain === DEFAULT_DOMAIN
}

/**
 * normalize.go splitDockerDomain. The first '/'-separated component is a
 * domain only if it is 'localhost', contains '.' or ':', or has an uppercase
 * letter (repository paths cannot, so it must be a host). 'index.docker.io'
 * becomes 'docker.io', and a single-component Docker Hub path gets the
 * 'library/' prefix. Without any '/', the whole input is a Hub name, which is
 * why 'localhost:5000' means docker.io/library/localhost tagged '5000'.
 */
function splitDockerDomain (name: string): [string, string] {
  const slash = name.indexOf('/')
  if (slash < 0) return [DEFAULT_DOMAIN, OFFICIAL_REPO_PREFIX + name]
  const maybeDomain = name.slice(0, slash)
  const maybeRemote = name.slice(slash + 1)
  let domain: string
  let remote: string
  if (maybeDomain === 'localhost') {
    [domain, remote] = [maybeDomain, maybeRemote]
  } else if (maybeDomain === LEGACY_DEFAULT_DOMAIN) {
    [domain, remote] = [DEFAULT_DOMAIN, maybeRemote]
  } else if (maybeDomain.includes('.') || maybeDomain.includes(':') || maybeDomain.toLowerCase() !== maybeDomain) {
    [domain, remote] = [maybeDomain, maybeRemote]
  } else {
    [domain, remote] = [DEFAULT_DOMAIN, name]
  }
  if (domain === DEFAULT_DOMAIN && !remote.includes('/')) remote = OFFICIAL_REPO_PREFIX + remote
  return [domain, remote]
}

/**
 * go-digest digest.go Validate. The reference grammar already guarantees
 * `alg:hex` with ≥ 32 hex digits of either case. A registered algorithm needs
 * exactly its length of lowercase hex. An unregistered one is "unsupported"
 * if it passes go-digest's own DigestRegexpAnchored (here: the algorithm is
 * lowercase, since hex always passes `[a-zA-Z0-9=_-]+`), else "invalid".
 */
function validateDigest (digest: string): 'digest-unsupported' | 'digest-invalid' | undefined {
  const colon = digest.indexOf(':')
  const algorithm = digest.slice(0, colon)
  const length = DIGEST_HEX_LENGTH.get(algorithm)
  if (length === undefined) return algorithm.toLowerCase() === algorithm ? 'digest-unsupported' : 'digest-invalid'
  return isLowerHexOfLength(digest.slice(colon + 1), length) ? undefined : 'digest-invalid'
}

/** normalize.go ParseDockerRef: digest wins over tag; a bare name gets TagNameOnly's 'latest'. */
function dockerRef (m: ReferenceMatch): ImageReference {
  const name = m.domain === '' ? m.path : m.domain + '/' + m.path // reference.go repository.Name
  if (m.digest !== undefined) {
    return Object.freeze({ domain: m.domain, path: m.path, name, digest: m.digest, canonical: name + '@' + m.digest })
  }
  const tag = m.tag ?? DEFAULT_TAG
  return Object.freeze({ domain: m.domain, path: m.path, name, tag, canonical: name + ':' + tag })
}
