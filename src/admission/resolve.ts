/**
 * One image site → the registry entries whose secrets the kubelet would need
 * for it, and whether alwaysPull covers it.
 */
import type { Config, RegistryEntry } from '../config/compile.js'
import type { AlwaysPullMode } from '../config/schema.js'
import { parseImageReference, type ImageReference } from '../image/reference.js'
import type { ImageSite } from './image-sites.js'

export interface Resolution {
  readonly site: ImageSite
  readonly ref: ImageReference | undefined
  readonly invalid: string | undefined
  /** Matching entries allowed in the namespace, most specific first (kubelet order). */
  readonly entries: readonly RegistryEntry[]
}

/**
 * Resolves every site of one request. Identical image strings (a sidecar on
 * every pod, the same image in init and main containers) are parsed and looked
 * up once.
 */
export function resolveSites (sites: readonly ImageSite[], config: Config, namespace: string): Resolution[] {
  const cache = new Map<string, Omit<Resolution, 'site'>>()
  const allowed = (entry: RegistryEntry): boolean => entry.allows(namespace)
  return sites.map((site) => {
    const image = site.image
    if (typeof image !== 'string') return { site, ref: undefined, invalid: 'image is missing or not a string', entries: [] }
    let hit = cache.get(image)
    if (hit === undefined) {
      const parsed = parseImageReference(image)
      hit = parsed.ok
        ? { ref: parsed.ref, invalid: undefined, entries: config.keyring.lookup(parsed.ref.name, allowed) }
        : { ref: undefined, invalid: parsed.error.message, entries: [] }
      cache.set(image, hit)
    }
    return { site, ...hit }
  })
}

/** `all` covers every image; `private` only images that matched an entry (so they need a credential). */
export function isCovered (mode: AlwaysPullMode, resolution: Resolution): boolean {
  return mode === 'all' || (mode === 'private' && resolution.entries.length > 0)
}

/** Secret names a resolution asks for, in entry order, without repeats. */
export function neededSecrets (resolution: Resolution): Array<{ name: string, entry: RegistryEntry }> {
  const out: Array<{ name: string, entry: RegistryEntry }> = []
  const seen = new Set<string>()
  for (const entry of resolution.entries) {
    for (const name of entry.secrets) {
      if (seen.has(name)) continue
      seen.add(name)
      out.push({ name, entry })
    }
  }
  return out
}
