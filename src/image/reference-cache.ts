/**
 * A memoised parseImageReference. Clusters run the same few hundred images
 * over and over (every pod of a Deployment, every sidecar), and parsing is
 * the largest share of a decision, so each distinct string is parsed once.
 * Results are frozen and depend on nothing but the string. The cache is
 * bounded: when full it starts over, which keeps it O(1) and can never grow
 * with hostile input.
 */
import { parseImageReference, type ParsedReference } from './reference.js'

export const DEFAULT_REFERENCE_CACHE_SIZE = 10_000

export type ReferenceParser = (input: string) => ParsedReference

export function createReferenceParser (limit = DEFAULT_REFERENCE_CACHE_SIZE): ReferenceParser {
  let cache = new Map<string, ParsedReference>()
  return (input) => {
    let parsed = cache.get(input)
    if (parsed === undefined) {
      parsed = parseImageReference(input)
      if (cache.size >= limit) cache = new Map()
      cache.set(input, parsed)
    }
    return parsed
  }
}
