/**
 * What one review line in the log says about an outcome: decisions, secret
 * names and counts, never images, Secret data or request bodies.
 */
import type { Outcome } from '../admission/outcome.js'
import { isObject } from '../admission/pod.js'

export type Decision = 'skipped' | 'patched' | 'allowed' | 'denied'

export function decisionOf (outcome: Outcome): Decision {
  if (!outcome.allowed) return 'denied'
  if (outcome.skipped !== undefined) return 'skipped'
  return outcome.patch.length > 0 ? 'patched' : 'allowed'
}

export function summarize (outcome: Outcome): Record<string, unknown> {
  return {
    decision: decisionOf(outcome),
    ...(outcome.skipped === undefined ? {} : { skipped: outcome.skipped }),
    secretsAdded: outcome.secretsAdded,
    policiesForced: outcome.policiesForced,
    warnings: outcome.warnings.length,
  }
}

/** metadata.name, or generateName for pods that do not have a name yet. */
export function podNameOf (object: unknown): string | undefined {
  if (!isObject(object) || !isObject(object.metadata)) return undefined
  const { name, generateName } = object.metadata
  if (typeof name === 'string' && name !== '') return name
  return typeof generateName === 'string' ? generateName : undefined
}
