/**
 * What pullguard did to a pod, written down twice:
 * - `auditAnnotations` on the AdmissionResponse: the API server records them
 *   in its audit log under the webhook's name (`pods.pullguard.dev/<key>`;
 *   k8s.io/apiserver admission/plugin/webhook/mutating dispatcher.go). The
 *   authoritative record: a tenant cannot write it.
 * - with `annotatePods: true`, the pod annotation `pullguard.dev/mutation`, a
 *   compact JSON summary a `kubectl get pod -o yaml` shows. Informational
 *   only: a tenant can set the same annotation on their own pod.
 * Both carry Secret names and field paths only, never credential material,
 * and are bounded in size.
 */
import { add, setMember, type PatchOperation } from './json-patch.js'
import type { Outcome } from './outcome.js'
import type { JsonObject } from './pod.js'
import { pointer } from '../text/json-pointer.js'

export const MUTATION_ANNOTATION = 'pullguard.dev/mutation'
// The API server limits annotation values only in total (256 KiB per object);
// audit backends and humans want far less. Past this, the list is cut with a
// count of what was left out.
const MAX_VALUE_LENGTH = 512

export type AuditAnnotations = Readonly<Record<string, string>>

/** `secrets-added` and `pull-policies-forced`, for a mutation that changed something; else undefined. */
export function auditAnnotations (outcome: Pick<Outcome, 'injected' | 'forced'>): AuditAnnotations | undefined {
  const out: Record<string, string> = {}
  if (outcome.injected.length > 0) out['secrets-added'] = bounded(outcome.injected.map((i) => i.name))
  if (outcome.forced.length > 0) out['pull-policies-forced'] = bounded(outcome.forced.map((f) => f.field))
  return Object.keys(out).length === 0 ? undefined : out
}

/** The summary written into the pod annotation. */
export function mutationSummary (outcome: Pick<Outcome, 'injected' | 'forced'>): string {
  const secrets = outcome.injected.map((i) => ({ name: i.name, source: i.source === 'config' ? `registries[${i.entry ?? '?'}]` : 'discovery' }))
  const summary = { secrets, forced: outcome.forced.map((f) => f.field) }
  const text = JSON.stringify(summary)
  if (text.length <= MAX_VALUE_LENGTH * 4) return text
  return JSON.stringify({ secrets: secrets.length, forced: summary.forced.length, truncated: true })
}

/**
 * The operation that sets the annotation: `/metadata/annotations` is added
 * whole when the pod has none (RFC 6902 4.1: the parent must exist), the key
 * escaped per RFC 6901 ('/' is '~1').
 */
export function annotationOp (pod: JsonObject, value: string): PatchOperation {
  const metadata = pod.metadata
  if (!isPlainObject(metadata)) return add(pointer('metadata'), { annotations: { [MUTATION_ANNOTATION]: value } })
  const annotations = metadata.annotations
  if (!isPlainObject(annotations)) return add(pointer('metadata', 'annotations'), { [MUTATION_ANNOTATION]: value })
  return setMember(annotations, pointer('metadata', 'annotations'), MUTATION_ANNOTATION, value)
}

function isPlainObject (value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function bounded (items: readonly string[]): string {
  let out = ''
  for (const [i, item] of items.entries()) {
    const next = out === '' ? item : `${out},${item}`
    if (next.length > MAX_VALUE_LENGTH) return `${out},… ${items.length - i} more`
    out = next
  }
  return out
}
