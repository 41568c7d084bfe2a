/**
 * Turns one answered admission request into metrics: bounded labels only
 * (endpoint, operation, decision, config entry index, reason), never names
 * or images. Lives next to the metrics it records (src/metrics.ts), called by
 * the review and preview routes.
 */
import type { Outcome } from '../admission/outcome.js'
import type { AdmissionInput } from '../admission/request.js'
import type { Endpoint, Metrics } from '../metrics.js'
import { decisionOf } from '../admission/outcome.js'

/** `seconds`: the request's duration, when the caller measured it (the histogram is then observed too). */
export function recordOutcome (metrics: Metrics | undefined, endpoint: Endpoint, input: AdmissionInput, outcome: Outcome, seconds?: number): void {
  if (metrics === undefined) return
  const decision = decisionOf(outcome)
  metrics.admissionRequests.inc({ endpoint, operation: input.operation, subResource: input.subResource, decision })
  if (decision === 'denied') metrics.denials.inc(endpoint)
  for (const secret of outcome.injected) metrics.secretsInjected.inc(secret.source, secret.entry)
  for (const forced of outcome.forced) metrics.pullPoliciesForced.inc(forced.list)
  for (const reason of outcome.warningReasons) metrics.warnings.inc(reason)
  if (seconds !== undefined) metrics.admissionDuration.observe(endpoint, seconds)
}

export function recordError (metrics: Metrics | undefined, endpoint: Endpoint, input: AdmissionInput | undefined): void {
  metrics?.admissionRequests.inc({ endpoint, operation: input?.operation ?? 'other', subResource: input?.subResource, decision: 'error' })
}
