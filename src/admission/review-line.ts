/**
 * What one review line in the log says: who (uid, namespace, pod), what
 * (endpoint, operation, dryRun) and the outcome: the decision, the Secret
 * names added, the fields forced to Always and the warnings (which hold no
 * credential material, see admission/warnings.ts); never images, env, args,
 * annotations, Secret data or request bodies. That is what lets the line skip
 * pino's redaction (logger.ts, createReviewLog), and test/routes/review.test.ts
 * plants credential-shaped text in every other field of a pod to prove it.
 */
import { decisionOf, type Decision, type Outcome } from './outcome.js'
import { nameOrGenerateName } from './pod.js'
import type { AdmissionInput } from './request.js'
import { truncate } from '../text/truncate.js'

export interface ReviewLine {
  readonly uid: string | undefined
  readonly endpoint: string
  readonly namespace: string | undefined
  readonly pod: string | undefined
  readonly operation: string | undefined
  readonly dryRun: boolean
  readonly decision: Decision
  /** Absent (undefined, which pino leaves out) unless the request was skipped. */
  readonly skipped: string | undefined
  readonly secretsAdded: readonly string[]
  readonly policiesForced: readonly string[]
  readonly warnings: readonly string[]
  readonly durationMs: number
}

/** One object literal of a fixed shape, so the line costs one allocation and pino's key loop stays monomorphic. */
export function reviewLine (endpoint: string, input: AdmissionInput, outcome: Outcome, durationMs: number): ReviewLine {
  return {
    uid: forLog(input.uid),
    endpoint,
    namespace: forLog(input.namespace),
    pod: podNameOf(input.object),
    operation: forLog(input.subResource === '' ? input.operation : `${input.operation}/${input.subResource}`),
    dryRun: input.dryRun,
    decision: decisionOf(outcome),
    skipped: outcome.skipped,
    secretsAdded: outcome.injected.map(nameOf),
    policiesForced: outcome.forced.map(fieldOf),
    warnings: outcome.warnings,
    durationMs,
  }
}

function nameOf (secret: { readonly name: string }): string { return secret.name }
function fieldOf (forced: { readonly field: string }): string { return forced.field }

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
  return value === undefined ? undefined : truncate(value, MAX_LOGGED_NAME_LENGTH)
}

/** The pod's name as admission/pod.ts nameOrGenerateName gives it (cut, see forLog). */
export function podNameOf (object: unknown): string | undefined {
  return forLog(nameOrGenerateName(object))
}
