/**
 * The label values pullguard's metrics may carry, and the one function that
 * bounds a value to them. Every label value goes through a fixed allow-list
 * before it reaches prom-client: a time series exists per distinct label
 * set, and a value taken from a request (an operation, a subresource) could
 * otherwise create series without bound
 * (https://prometheus.io/docs/practices/naming/#labels: "Do not use labels
 * to store dimensions with high cardinality"). Anything outside a list is
 * counted as `other`, so totals stay right.
 *
 * Where a vocabulary belongs to another module, it is imported from there, or
 * checked against that module's type with `satisfies` so the two cannot
 * drift (kube/informers.ts: importing a value from kube/ would load
 * @kubernetes/client-node in local mode).
 */
import { SECRET_SOURCES, type Decision, type SecretSource } from '../admission/outcome.js'
import { IMAGE_LISTS, type ImageList } from '../admission/pod.js'
import { WARNING_REASONS } from '../admission/warnings.js'
// A type only: importing a value from kube/ would load @kubernetes/client-node in local mode.
import type { InformedResource } from '../kube/informers.js'

export const OTHER = 'other'

export const ENDPOINTS = ['mutate', 'validate', 'preview'] as const
/**
 * The admission endpoints the API server calls, as the `webhook` label:
 * `mutate` is the MutatingWebhookConfiguration, `validate` the
 * ValidatingWebhookConfiguration of the validating-webhook component. Named
 * by endpoint because an AdmissionReview does not say which webhook sent it.
 */
export const WEBHOOKS = ['mutate', 'validate'] as const
/** admission.k8s.io/v1 Operation values, with the one subresource pullguard handles. */
export const OPERATIONS = ['CREATE', 'UPDATE', 'UPDATE/ephemeralcontainers', 'DELETE', 'CONNECT'] as const
/** admission/outcome.ts decisionOf's answers, and `error` for a request that got none. */
export const DECISIONS = ['patched', 'allowed', 'skipped', 'denied', 'error'] as const satisfies ReadonlyArray<Decision | 'error'>
/** Where an injected Secret came from (admission/outcome.ts). */
export { SECRET_SOURCES }
/** The pod spec lists a pull policy can be forced in (admission/pod.ts), and image volumes. */
export const POLICY_FIELDS = IMAGE_LISTS
/** Why a warning was returned (admission/warnings.ts); the text itself is never a label. */
export { WARNING_REASONS }
export const RELOAD_RESULTS = ['success', 'failure'] as const
/** The informers pullguard runs in cluster mode (kube/informers.ts). */
export const INFORMER_RESOURCES = ['namespaces', 'secrets/dockerconfigjson', 'secrets/dockercfg', 'serviceaccounts'] as const satisfies readonly InformedResource[]
export const CERTIFICATES = ['serving', 'ca'] as const

export type Endpoint = typeof ENDPOINTS[number]
export type Webhook = typeof WEBHOOKS[number]
export type AdmissionDecision = typeof DECISIONS[number]
export type { SecretSource }
export type PolicyField = ImageList
export type WarningReason = typeof WARNING_REASONS[number]
export type ReloadResult = typeof RELOAD_RESULTS[number]
export type InformerResource = typeof INFORMER_RESOURCES[number]
export type CertificateKind = typeof CERTIFICATES[number]

export function bounded (value: unknown, allowed: readonly string[]): string {
  return typeof value === 'string' && allowed.includes(value) ? value : OTHER
}

/**
 * The operation label: `CREATE`, `UPDATE`, `UPDATE/ephemeralcontainers`,
 * `DELETE`, `CONNECT`, else `other` (the `status` and `binding`
 * subresources, operations a future API server may add, and garbage).
 */
export function operationLabel (operation: unknown, subResource?: unknown): string {
  if (typeof operation !== 'string') return OTHER
  const full = typeof subResource === 'string' && subResource !== '' ? `${operation}/${subResource}` : operation
  return bounded(full, OPERATIONS)
}

/** registries[] indexes: bounded by the length of the operator's config. */
export function entryLabel (entry: unknown): string {
  return typeof entry === 'number' && Number.isSafeInteger(entry) && entry >= 0 ? String(entry) : OTHER
}
