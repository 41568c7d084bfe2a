/**
 * What one review line in the log says about an outcome: the decision, the
 * Secret names added, the fields forced to Always and the warnings (which
 * hold no credential material, see admission/warnings.ts); never images,
 * Secret data or request bodies.
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
    secretsAdded: outcome.injected.map((i) => i.name),
    policiesForced: outcome.forced.map((f) => f.field),
    warnings: outcome.warnings,
  }
}

/** metadata.name, or generateName for pods that do not have a name yet. */
export function podNameOf (object: unknown): string | undefined {
  if (!isObject(object) || !isObject(object.metadata)) return undefined
  const { name, generateName } = object.metadata
  if (typeof name === 'string' && name !== '') return name
  return typeof generateName === 'string' ? generateName : undefined
}
