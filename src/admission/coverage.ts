/**
 * Which images `alwaysPull: private` covers, and why.
 *
 * The point of forcing Always (as the in-tree AlwaysPullImages plugin does)
 * is that a node which already pulled a private image for one tenant must not
 * start it for another without asking the registry. So an image is private
 * when ANY credential pullguard knows of applies to it:
 * - any registries[] entry, whatever its namespaces/namespaceSelector: the
 *   namespaces that may NOT use a credential are exactly the ones that must
 *   be made to ask the registry;
 * - in cluster mode, any usable pull Secret in any namespace.
 * Namespace scope decides which Secrets are injected, never whether a pull is
 * checked. A tenant who creates a pull Secret therefore widens what is private
 * for everyone: safe (more checks, never fewer), at the cost of registry
 * traffic. `publicImages` is the platform team's escape hatch.
 *
 * Matching is the kubelet's (keyring.go), and then, because this decision may
 * only err towards enforcement, once more with the registry host lowercased
 * and the https port 443 dropped: `GHCR.IO/acme/app` and
 * `ghcr.io:443/acme/app` reach the same registry as `ghcr.io/acme/app` but
 * the kubelet's keyring does not give them its credentials (globs are
 * case-sensitive, ports must be equal). They are covered, and warned about.
 */
import type { ClusterView } from '../cluster/types.js'
import type { Config, RegistryEntry } from '../config/compile.js'
import type { ImageReference } from '../image/reference.js'

export type PrivateReason =
  | { readonly kind: 'entry', readonly index: number, readonly match: string, readonly allowedHere: boolean, readonly respelled: boolean }
  | { readonly kind: 'pull-secret', readonly here: boolean, readonly respelled: boolean }

export interface Coverage {
  /** Why the image counts as private; undefined when it does not. */
  readonly private: PrivateReason | undefined
  /** The publicImages prefix that exempts it from `private`, if any. */
  readonly publicPrefix: string | undefined
}

const DOCKER_HUB = 'docker.io'
const DOCKER_HUB_ALIASES = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io'])
const HTTPS_PORT = ':443'

/**
 * `allowed`: the entries that matched the image AND are allowed in the pod's
 * namespace (already looked up by the caller), most specific first.
 */
export function coverage (ref: ImageReference, allowed: readonly RegistryEntry[], config: Config, cluster: ClusterView | undefined, namespace: string): Coverage {
  const publicPrefix = config.publicImages.find((prefix) => ref.name.startsWith(prefix))
  return { private: privateReason(ref, allowed, config, cluster, namespace), publicPrefix }
}

function privateReason (ref: ImageReference, allowed: readonly RegistryEntry[], config: Config, cluster: ClusterView | undefined, namespace: string): PrivateReason | undefined {
  const first = allowed[0]
  if (first !== undefined) return { kind: 'entry', index: first.index, match: first.match, allowedHere: true, respelled: false }
  for (const [name, respelled] of spellings(ref)) {
    const entry = config.keyring.lookup(name)[0]
    // Not among `allowed`: matched exactly it is not allowed here; respelled,
    // the kubelet would not use it anywhere.
    if (entry !== undefined) return { kind: 'entry', index: entry.index, match: entry.match, allowedHere: false, respelled }
    const secrets = cluster?.covering(name) ?? []
    if (secrets.length > 0) return { kind: 'pull-secret', here: secrets.some((s) => s.namespace === namespace), respelled }
  }
  return undefined
}

/**
 * The name as the kubelet sees it, then the same registry spelled the way
 * keys are usually written (lowercase host, no :443; Docker Hub as
 * docker.io, with library/ for one-component paths). Respelled names are
 * only for coverage, never for injection.
 */
function spellings (ref: ImageReference): Array<[string, boolean]> {
  const out: Array<[string, boolean]> = [[ref.name, false]]
  if (ref.domain === '') return out
  let domain = ref.domain.toLowerCase()
  if (domain.endsWith(HTTPS_PORT)) domain = domain.slice(0, -HTTPS_PORT.length)
  if (DOCKER_HUB_ALIASES.has(domain)) domain = DOCKER_HUB
  const paths = domain === DOCKER_HUB && !ref.path.includes('/') ? [ref.path, `library/${ref.path}`] : [ref.path]
  for (const path of paths) {
    const name = `${domain}/${path}`
    if (name !== ref.name && !out.some(([n]) => n === name)) out.push([name, true])
  }
  return out
}

/** For /preview: why the image is (or is not) forced, without naming other namespaces' Secrets. */
export function describeCoverage (c: Coverage, namespace: string): string | undefined {
  if (c.publicPrefix !== undefined) return `listed in publicImages (${c.publicPrefix}): never forced by alwaysPull: private`
  const why = c.private
  if (why === undefined) return undefined
  const spelled = why.respelled ? ' (registry spelled with other case or :443)' : ''
  if (why.kind === 'entry') {
    const scope = why.allowedHere || why.respelled ? '' : `, not allowed in ${namespace}`
    return `private: matches registries[${why.index}] (${why.match})${spelled}${scope}`
  }
  return `private: matches a pull Secret in ${why.here ? 'this' : 'another'} namespace${spelled}`
}
