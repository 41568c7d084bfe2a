/**
 * Where the kubelet pulls an image from, read from the image name as it
 * reads it before matching credential keys: a faithful port of
 * ParseSchemelessURL + SplitURL and isDefaultRegistryMatch from kubernetes
 * pkg/credentialprovider/keyring.go, with Go's net.SplitHostPort and
 * url.Parse's host[:port] checks (credential-key.ts matches keys against it).
 */

/** Where an image is pulled from, split the way the kubelet splits it. */
export interface ImageLocation {
  readonly host: string
  readonly port: string
  readonly labels: readonly string[]
  readonly path: string
}

/**
 * Splits an image name as the kubelet's ParseSchemelessURL + SplitURL do:
 * host[:port] up to the first '/', the rest is the path; the port is split
 * with net.SplitHostPort semantics (no port, or an unsplittable host, gives
 * the whole host and port ''). Undefined where Go's url.Parse would fail, so
 * the kubelet matches nothing.
 */
export function parseImageLocation (imageName: string): ImageLocation | undefined {
  let s = imageName
  const hash = s.indexOf('#')
  if (hash >= 0) s = s.slice(0, hash)
  const query = s.indexOf('?')
  if (query >= 0) s = s.slice(0, query)
  const slash = s.indexOf('/')
  let hostport = slash < 0 ? s : s.slice(0, slash)
  const path = slash < 0 ? '' : s.slice(slash)
  const at = hostport.lastIndexOf('@')
  if (at >= 0) hostport = hostport.slice(at + 1)

  // url.Parse's own checks on host[:port].
  if (hostport.startsWith('[')) {
    const close = hostport.lastIndexOf(']')
    if (close < 0 || !validOptionalPort(hostport, close + 1)) return undefined
  } else {
    const colon = hostport.indexOf(':')
    if (colon >= 0 && (colon !== hostport.lastIndexOf(':') || !validOptionalPort(hostport, colon))) return undefined
  }

  const split = splitHostPort(hostport)
  const host = split === undefined ? hostport : split.host
  const port = split === undefined ? '' : split.port
  return { host, port, labels: host.split('.'), path }
}

/** Go's validOptionalPort on s[from:]: empty, or ':' followed by digits. */
function validOptionalPort (s: string, from: number): boolean {
  if (from === s.length) return true
  if (s.charCodeAt(from) !== 0x3a) return false
  for (let i = from + 1; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c < 0x30 || c > 0x39) return false
  }
  return true
}

/** Go's net.SplitHostPort; undefined where it returns an error. */
export function splitHostPort (hostport: string): { host: string, port: string } | undefined {
  const i = hostport.lastIndexOf(':')
  if (i < 0) return undefined // missing port
  let host: string
  let j = 0
  let k = 0
  if (hostport.startsWith('[')) {
    const end = hostport.indexOf(']')
    if (end < 0) return undefined // missing ']'
    if (end + 1 !== i) return undefined // missing port, or too many colons
    host = hostport.slice(1, end)
    j = 1
    k = end + 1
  } else {
    host = hostport.slice(0, i)
    if (host.includes(':')) return undefined // too many colons
  }
  if (hostport.indexOf('[', j) >= 0) return undefined
  if (hostport.indexOf(']', k) >= 0) return undefined
  return { host, port: hostport.slice(i + 1) }
}

/**
 * keyring.go isDefaultRegistryMatch: would the image be pulled from Docker
 * Hub, judging by its first path component.
 */
export function isDefaultRegistryMatch (imageName: string): boolean {
  const slash = imageName.indexOf('/')
  const first = slash < 0 ? imageName : imageName.slice(0, slash)
  if (first.length === 0) return false
  if (slash < 0) return true // e.g. "ubuntu"
  if (first === 'docker.io' || first === 'index.docker.io') return true
  // Docker reads a first component with '.' or ':' as a registry host.
  return !first.includes('.') && !first.includes(':')
}
