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

/**
 * Mutating admission runs before the API server validates the object, so a
 * pod's name can be any length up to the body limit; so can every field of a
 * review sent to the webhook by something other than the API server. What a
 * log line copies from the request is cut to the longest valid value (a
 * DNS-1123 subdomain, 253 characters), so a review cannot turn into megabytes
 * of log.
 */
export const MAX_LOGGED_NAME_LENGTH = 253

export function forLog (value: string | undefined): string | undefined {
  return value !== undefined && value.length > MAX_LOGGED_NAME_LENGTH ? `${value.slice(0, MAX_LOGGED_NAME_LENGTH)}…` : value
}

/** metadata.name, or generateName for pods that do not have a name yet (cut, see forLog). */
export function podNameOf (object: unknown): string | undefined {
  if (!isObject(object) || !isObject(object.metadata)) return undefined
  const { name, generateName } = object.metadata
  if (typeof name === 'string' && name !== '') return forLog(name)
  return typeof generateName === 'string' ? forLog(generateName) : undefined
}
