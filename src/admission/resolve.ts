/**
 * One image site → the configured registry entries (and, with discovery, the
 * namespace's pull Secrets) whose credentials the kubelet would need for it,
 * and whether alwaysPull covers it.
 */
import type { ClusterView, PullSecretInfo } from '../cluster/types.js'
import type { Config, RegistryEntry } from '../config/compile.js'
import type { AlwaysPullMode } from '../config/schema.js'
import type { ImageReference } from '../image/reference.js'
import { coverage, type Coverage } from './coverage.js'
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
  /** Whether `alwaysPull: private` covers the image, and why; only computed in that mode. */
  readonly coverage: Coverage | undefined
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
    if (typeof image !== 'string') return { site, ref: undefined, invalid: 'image is missing or not a string', entries: NONE, discovered: NONE, coverage: undefined }
    let hit = cache.get(image)
    if (hit === undefined) {
      const parsed = config.parseImage(image)
      if (parsed.ok) {
        const entries = config.keyring.lookup(parsed.ref.name, allowed)
        hit = {
          ref: parsed.ref,
          invalid: undefined,
          entries,
          discovered: discover ? cluster.discover(namespace, parsed.ref.name) : NONE,
          coverage: policy.alwaysPull === 'private' ? coverage(parsed.ref, entries, config, cluster, namespace) : undefined,
        }
      } else {
        hit = { ref: undefined, invalid: parsed.error.message, entries: NONE, discovered: NONE, coverage: undefined }
      }
      cache.set(image, hit)
    }
    return { site, ...hit }
  })
}

/**
 * `all` covers every image; `private` every image some known credential
 * applies to, in any namespace (coverage.ts), unless publicImages lists it.
 * An image that does not parse is covered too: the runtime should refuse it
 * as well, but if some runtime reads it differently, Always costs nothing
 * and errs towards enforcement. (A container with no image pulls nothing.)
 */
export function isCovered (mode: AlwaysPullMode, resolution: Resolution): boolean {
  if (mode === 'all') return true
  if (mode === 'private' && resolution.ref === undefined) return typeof resolution.site.image === 'string'
  const c = resolution.coverage
  return mode === 'private' && c !== undefined && c.private !== undefined && c.publicPrefix === undefined
}
