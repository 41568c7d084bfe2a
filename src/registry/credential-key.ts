/**
 * Credential keys (the `auths` keys of a .dockerconfigjson) and how the
 * kubelet matches them against image names: a faithful port of
 * BasicDockerKeyring.Add and URLsMatchStr / URLsMatch from kubernetes
 * pkg/credentialprovider/keyring.go (the image side, SplitURL and
 * isDefaultRegistryMatch, is image-location.ts).
 *
 * The key is parsed by hand the way Go's url.Parse reads it (JS `new URL()`
 * lowercases, punycodes and normalises, and rejects `*` in hosts). Because the
 * keys are operator configuration, whatever Go would refuse (so the kubelet
 * would silently ignore), or whatever could never match an image, is rejected
 * here with a message that quotes the key.
 */
import { compileGoGlob, GlobSyntaxError, hasGlobMeta, type GlobMatcher } from './go-glob.js'
import { parseImageLocation, type ImageLocation } from './image-location.js'
import { truncate } from '../text/truncate.js'

export interface CredentialKey {
  /** The key as configured. */
  readonly raw: string
  /** What the kubelet indexes: host[:port] plus the effective path, scheme and /v1/ or /v2/ dropped. */
  readonly key: string
  /** The host without port (an IPv6 literal without its brackets). */
  readonly host: string
  /** The port, '' when there is none. */
  readonly port: string
  /** `host` split on '.': each a Go filepath.Match pattern. */
  readonly labels: readonly string[]
  /** The path the image's path must start with (a plain string prefix), e.g. '/acme', or ''. */
  readonly path: string
  /** key === 'index.docker.io': the kubelet's Docker Hub fallback credential. */
  readonly isDefaultRegistry: boolean
  /** Some label has glob syntax (else each label matches only itself). */
  readonly hostHasGlob: boolean
  /** One compiled matcher per label. */
  readonly labelMatchers: readonly GlobMatcher[]
}

export type CredentialKeyResult =
  | { readonly ok: true, readonly key: CredentialKey }
  | {
    readonly ok: false
    /** `credential key "<the key>" <reason>`: quotes the key whatever it holds. */
    readonly error: string
    /** Why, without the key; parts of it appear only where they cannot be a credential (see fragment()). */
    readonly reason: string
  }

const DEFAULT_REGISTRY_KEY = 'index.docker.io'

/** Parses and validates one credential key the way BasicDockerKeyring.Add normalises it. */
export function parseCredentialKey (raw: string): CredentialKeyResult {
  const bad = (what: string): CredentialKeyResult => ({ ok: false, error: `credential key ${quote(raw)} ${what}`, reason: what })

  const rest = withoutScheme(raw)
  const textProblem = keyTextProblem(raw, rest)
  if (textProblem !== undefined) return bad(textProblem)

  const slash = rest.indexOf('/')
  const authority = slash < 0 ? rest : rest.slice(0, slash)
  const rawPath = slash < 0 ? '' : rest.slice(slash)
  if (authority.includes('@')) {
    // Never echo this key: the part before '@' is a credential.
    const reason = "has user info ('user@host'); credentials belong in the Secret, not in the key"
    return { ok: false, error: `credential key ${reason} (key not shown)`, reason }
  }
  if (rest.includes('%')) return bad("contains percent-encoding ('%'), which is not supported")
  if (authority.length === 0) return bad('has an empty host')

  const split = splitKeyAuthority(authority)
  if (typeof split === 'string') return bad(split)
  const { host, port } = split

  if (/[*?[]/.test(rawPath)) {
    return bad("has a wildcard in the path: '*', '?' and '[' are only supported in host labels (the path is a plain prefix)")
  }

  const labels = host.split('.')
  const labelMatchers = compileLabels(labels)
  if (typeof labelMatchers === 'string') return bad(labelMatchers)

  const path = registryPath(rawPath)
  const key = authority + path

  return {
    ok: true,
    key: Object.freeze({
      raw,
      key,
      host,
      port,
      labels: Object.freeze(labels),
      path,
      isDefaultRegistry: key === DEFAULT_REGISTRY_KEY,
      hostHasGlob: labels.some(hasGlobMeta),
      labelMatchers: Object.freeze(labelMatchers),
    }),
  }
}

/** Add: prefix https:// unless it has http:// or https:// (case-sensitively, as Go's HasPrefix); here, the key without it. */
function withoutScheme (raw: string): string {
  if (raw.startsWith('https://')) return raw.slice(8)
  if (raw.startsWith('http://')) return raw.slice(7)
  return raw
}

/** What makes the whole key unusable before it is split: emptiness, characters url.Parse refuses, another scheme, a fragment or a query. */
function keyTextProblem (raw: string, rest: string): string | undefined {
  if (raw.length === 0) return 'is empty'
  if (/\s/u.test(raw) || hasControlByte(raw)) return 'contains whitespace or a control character'
  if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(rest)) {
    return 'has an unsupported scheme: only a lowercase http:// or https:// prefix is recognised'
  }
  if (rest.includes('#')) return "has a URL fragment ('#')"
  if (rest.includes('?')) {
    return "has a URL query ('?'); '?' cannot be used as a wildcard because it starts the query of the URL the key is parsed as"
  }
  return undefined
}

/** One Go filepath.Match matcher per host label, or why a label cannot be one. */
function compileLabels (labels: readonly string[]): GlobMatcher[] | string {
  if (labels.includes('')) {
    return "has an empty label in the host (a leading, trailing or doubled '.'), which no image host has, so the key would never match"
  }
  const labelMatchers: GlobMatcher[] = []
  for (const label of labels) {
    try {
      labelMatchers.push(compileGoGlob(label))
    } catch (err) {
      if (err instanceof GlobSyntaxError) return `has a malformed glob in host label ${fragment(label)}: ${err.reason}`
      throw err
    }
  }
  return labelMatchers
}

/** Add: a leading /v1/ or /v2/ is the registry API, not a repository path. */
function registryPath (rawPath: string): string {
  const path = rawPath.startsWith('/v2/') || rawPath.startsWith('/v1/') ? rawPath.slice(3) : rawPath
  return path === '/' ? '' : path
}

/**
 * An ASCII control character: below ' ' or DEL, exactly Go's
 * net/url stringContainsCTLByte, which makes url.Parse fail. Not \p{Cc}: that
 * also covers U+0080..U+009F, which Go reads as ordinary non-ASCII bytes.
 */
function hasControlByte (s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const code = s.charCodeAt(i)
    if (code < 0x20 || code === 0x7f) return true
  }
  return false
}

/**
 * Splits a key's host[:port] as Go's url.Parse and net.SplitHostPort would,
 * or says why the key is refused.
 */
function splitKeyAuthority (authority: string): { host: string, port: string } | string {
  return authority.startsWith('[') ? splitBracketedAuthority(authority) : splitPlainAuthority(authority)
}

/** `[ipv6]:port`: Go's url.Parse takes a leading '[' as an IPv6 literal (net/url parseHost). */
function splitBracketedAuthority (authority: string): { host: string, port: string } | string {
  const close = authority.indexOf(']')
  if (close < 0) return "has an unterminated IPv6 literal (missing ']')"
  const inner = authority.slice(1, close)
  const after = authority.slice(close + 1)
  if (!/^[0-9A-Fa-f:.]+$/.test(inner) || !inner.includes(':')) {
    return `has an invalid IPv6 literal ${fragment(`[${inner}]`)} (a host starting with '[' must be a bracketed IPv6 address, not a glob)`
  }
  if (after === '') {
    return 'has a bracketed IPv6 host without a port: the kubelet cannot split it and would read it as a glob character class, so the key would never match'
  }
  if (!after.startsWith(':')) return `has unexpected text ${fragment(after)} after the IPv6 literal`
  const problem = portProblem(after.slice(1))
  if (problem !== undefined) return problem
  return { host: inner, port: after.slice(1) }
}

/** `host[:port]`, split at the last ':'. */
function splitPlainAuthority (authority: string): { host: string, port: string } | string {
  const colon = authority.lastIndexOf(':')
  const host = colon < 0 ? authority : authority.slice(0, colon)
  const port = colon < 0 ? '' : authority.slice(colon + 1)
  if (host.length === 0) return 'has an empty host'
  if (host.includes(':')) return "has too many colons in the host (an IPv6 address must be in brackets: '[::1]:5000')"
  const problem = (colon >= 0 ? portProblem(port) : undefined) ?? hostCharacterProblem(host)
  if (problem !== undefined) return problem
  if (colon >= 0 && (host.includes('[') || host.includes(']'))) {
    return "uses '[' or ']' in the host together with a port: the kubelet cannot then split off the port, so the key would never match"
  }
  return { host, port }
}

/** The first host character Go's URL parser rejects, with what that rules out for globs. */
function hostCharacterProblem (host: string): string | undefined {
  const invalid = invalidHostCharacter(host)
  if (invalid === undefined) return undefined
  const why = invalid === '^'
    ? " (so negated classes '[^...]' cannot be used in a host)"
    : invalid === '\\' ? ' (so escapes cannot be used in a host)' : ''
  return `has the character ${fragment(invalid)} in the host, which Go's URL parser (and so the kubelet) rejects${why}`
}

function portProblem (port: string): string | undefined {
  if (/[*?[\]\\]/.test(port)) return `has a wildcard in the port ${fragment(port)}: wildcards are only supported in host labels`
  if (port.length === 0) return "has an empty port (nothing after ':')"
  if (!/^[0-9]+$/.test(port)) return `has a non-numeric port ${fragment(port)}`
  return undefined
}

/**
 * The first ASCII character Go's url.Parse refuses in a host (it allows
 * letters, digits, `-._~!$&'()*+,;=:[]<>"` and any non-ASCII byte).
 */
function invalidHostCharacter (host: string): string | undefined {
  const m = /[^A-Za-z0-9\-._~!$&'()*+,;=:[\]<>"\u0080-\u{10ffff}]/u.exec(host)
  return m === null ? undefined : m[0]
}

/** kubelet URLsMatchStr(key.key, imageName). */
export function keyMatchesImage (key: CredentialKey, imageName: string): boolean {
  const location = parseImageLocation(imageName)
  return location !== undefined && keyMatchesLocation(key, location)
}

/** kubelet URLsMatch on an image already split by parseImageLocation. */
function keyMatchesLocation (key: CredentialKey, location: ImageLocation): boolean {
  if (key.port !== location.port) return false
  if (key.labels.length !== location.labels.length) return false
  // A plain string prefix, exactly as the kubelet: 'ghcr.io/acme' also covers 'ghcr.io/acme-evil/x'.
  if (!location.path.startsWith(key.path)) return false
  return labelsMatch(key, location.labels)
}

/** Every label of the image matches the key's glob for it (same count assumed). */
export function labelsMatch (key: CredentialKey, labels: readonly string[]): boolean {
  const matchers = key.labelMatchers
  for (let i = 0; i < matchers.length; i++) {
    if (!matchers[i]!(labels[i]!)) return false
  }
  return true
}

function quote (s: string): string {
  return truncate(JSON.stringify(s), 200)
}

/**
 * A part of a key inside a reason: quoted when it cannot be a credential (one
 * character, or a short lowercase host, port or glob fragment), else only its
 * length. `robot:TOKEN` reads as host "robot" and port "TOKEN".
 */
function fragment (s: string): string {
  const harmless = [...s].length === 1 || (s.length <= 32 && /^[a-z0-9.:*?[\]^-]*$/.test(s) && !/[a-z0-9]{17}/.test(s))
  return harmless ? quote(s) : `(${s.length} characters, not shown)`
}
