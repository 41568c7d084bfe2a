/**
 * What the policy decided, as plain data: the routes turn it into an
 * AdmissionResponse, /preview into JSON, the logger into one line.
 */
import type { CopyState } from '../distribution/plan.js'
import type { PatchOperation } from './json-patch.js'
import type { ImageList } from './pod.js'
import type { WarningReason } from './warnings.js'

/** Where an injected Secret came from: a registries[] entry, or discovery in the namespace (also a metric label). */
export const SECRET_SOURCES = ['config', 'discovery'] as const
export type SecretSource = typeof SECRET_SOURCES[number]

/** The decision in one word: the review line's `decision` and the metrics' `decision` label. */
export type Decision = 'skipped' | 'patched' | 'allowed' | 'denied'

export function decisionOf (outcome: Outcome): Decision {
  if (!outcome.allowed) return 'denied'
  if (outcome.skipped !== undefined) return 'skipped'
  return outcome.patch.length > 0 ? 'patched' : 'allowed'
}

/** Why a request was let through untouched without looking at its images. */
export type SkipReason =
  | 'not-pods'
  | 'operation'
  | 'subresource'
  | 'excluded-namespace'
  | 'mirror-pod'
  | 'no-new-images'

export interface SecretDecision {
  readonly name: string
  /** A configured registries[] entry, or a pull Secret found in the namespace. */
  readonly source: SecretSource
  /** The registries[] entry that asked for it (config only). */
  readonly entry: number | undefined
  readonly match: string | undefined
  /** False when the pod already listed it (e.g. from its ServiceAccount), or it could not be added. */
  readonly added: boolean
  /** Why it was not added although needed. */
  readonly problem: 'missing' | 'malformed' | 'not-mountable' | 'immutable' | undefined
  /** Set when the Secret is a copy pullguard distributes into this namespace (config `from`). */
  readonly copy?: CopyDecision
}

/**
 * A distributed copy, as /preview shows it: where it is copied from, its
 * state (distribution/plan.ts: current, outdated, pending, unmanaged,
 * source-missing, source-invalid, source-conflict, unknown) and whether
 * pullguard's copy exists in the namespace yet.
 */
export interface CopyDecision {
  readonly from: string
  readonly state: CopyState
  readonly exists: boolean
}

/** A pull-policy field set to Always. */
export interface ForcedPolicy {
  readonly list: ImageList
  readonly field: string
}

export interface ImageDecision {
  /** `spec.containers[0]`, `spec.volumes[1].image`. */
  readonly field: string
  readonly name: string
  /** As written in the pod; only /preview shows it back to its own sender. */
  readonly image: unknown
  /** Normalised name the kubelet's keyring sees, e.g. `docker.io/library/nginx`. */
  readonly registryName: string | undefined
  readonly canonical: string | undefined
  /** Why the reference did not parse (fixed text, never the input). */
  readonly invalid: string | undefined
  readonly matched: ReadonlyArray<{ readonly index: number, readonly match: string }>
  readonly secrets: readonly SecretDecision[]
  /** Whether alwaysPull covers this image. */
  readonly covered: boolean
  /** alwaysPull: private only: why the image counts as private (or is exempt); never names another namespace's Secret. */
  readonly coveredBecause: string | undefined
  readonly pullPolicy: { readonly before: unknown, readonly after: unknown }
}

export interface Denial {
  readonly code: 403
  readonly reason: 'Forbidden'
  readonly message: string
}

export interface Outcome {
  readonly allowed: boolean
  readonly denial: Denial | undefined
  readonly patch: readonly PatchOperation[]
  readonly warnings: readonly string[]
  readonly images: readonly ImageDecision[]
  readonly skipped: SkipReason | undefined
  /** Secrets this patch adds, in order, with what asked for each. */
  readonly injected: ReadonlyArray<Pick<SecretDecision, 'name' | 'source' | 'entry'>>
  readonly forced: readonly ForcedPolicy[]
  /** One reason per distinct warning (including any not shown). */
  readonly warningReasons: readonly WarningReason[]
}

export function skipped (reason: SkipReason): Outcome {
  return { allowed: true, denial: undefined, patch: [], warnings: [], images: [], skipped: reason, injected: [], forced: [], warningReasons: [] }
}
