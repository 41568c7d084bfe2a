/**
 * Turns one answered request into metrics: bounded labels only (endpoint,
 * operation, decision, config entry index, reason), never names or images.
 */
import type { Outcome } from '../admission/outcome.js'
import type { AdmissionInput } from '../admission/request.js'
import type { Endpoint, Metrics } from '../metrics.js'
import { decisionOf } from './summary.js'

export function recordOutcome (metrics: Metrics | undefined, endpoint: Endpoint, input: AdmissionInput, outcome: Outcome): void {
  if (metrics === undefined) return
  const decision = decisionOf(outcome)
  metrics.admissionRequests.inc({ endpoint, operation: input.operation, subResource: input.subResource, decision })
  if (decision === 'denied') metrics.denials.inc(endpoint)
  for (const secret of outcome.injected) metrics.secretsInjected.inc(secret.source, secret.entry)
  for (const forced of outcome.forced) metrics.pullPoliciesForced.inc(forced.list)
  for (const reason of outcome.warningReasons) metrics.warnings.inc(reason)
}

export function recordError (metrics: Metrics | undefined, endpoint: Endpoint, input: AdmissionInput | undefined): void {
  metrics?.admissionRequests.inc({ endpoint, operation: input?.operation ?? 'other', subResource: input?.subResource, decision: 'error' })
}
