/**
 * One image site → the configured registry entries (and, with discovery, the
 * namespace's pull Secrets) whose credentials the kubelet would need for it,
 * and whether alwaysPull covers it.
 */
import type { ClusterView, PullSecretInfo } from '../cluster/types.js'
import type { Config, RegistryEntry } from '../config/compile.js'
import type { AlwaysPullMode } from '../config/schema.js'
import type { ImageReference } from '../image/reference.js'
import type { ImageSite } from './image-sites.js'
import type { NamespacePolicy } from './namespace-policy.js'
import type { Warnings } from './warnings.js'

/** Everything one request's decision reads. */
export interface RequestContext {
  readonly config: Config
  readonly cluster: ClusterView | undefined
  readonly namespace: string
  readonly policy: NamespacePolicy
  readonly warnings: Warnings
}

export interface Resolution {
  readonly site: ImageSite
  readonly ref: ImageReference | undefined
  readonly invalid: string | undefined
  /** Matching entries allowed in the namespace, most specific first (kubelet order). */
  readonly entries: readonly RegistryEntry[]
  /** Matching pull Secrets of the namespace (discovery), most specific first. */
  readonly discovered: readonly PullSecretInfo[]
}

const NONE: readonly never[] = Object.freeze([])

/**
 * Resolves every site of one request. Identical image strings (a sidecar on
 * every pod, the same image in init and main containers) are parsed and looked
 * up once.
 */
export function resolveSites (sites: readonly ImageSite[], ctx: RequestContext): Resolution[] {
  const { config, cluster, namespace, policy } = ctx
  const cache = new Map<string, Omit<Resolution, 'site'>>()
  const allowed = (entry: RegistryEntry): boolean => entry.allows(namespace, policy.labels)
  const discover = cluster !== undefined && policy.discover && policy.inject
  return sites.map((site) => {
    const image = site.image
    if (typeof image !== 'string') return { site, ref: undefined, invalid: 'image is missing or not a string', entries: NONE, discovered: NONE }
    let hit = cache.get(image)
    if (hit === undefined) {
      const parsed = config.parseImage(image)
      hit = parsed.ok
        ? {
            ref: parsed.ref,
            invalid: undefined,
            entries: config.keyring.lookup(parsed.ref.name, allowed),
            discovered: discover ? cluster.discover(namespace, parsed.ref.name) : NONE,
          }
        : { ref: undefined, invalid: parsed.error.message, entries: NONE, discovered: NONE }
      cache.set(image, hit)
    }
    return { site, ...hit }
  })
}

/**
 * `all` covers every image; `private` only images that need a credential:
 * those matched by a configured entry or a discovered pull Secret.
 */
export function isCovered (mode: AlwaysPullMode, resolution: Resolution): boolean {
  return mode === 'all' || (mode === 'private' && (resolution.entries.length > 0 || resolution.discovered.length > 0))
}
