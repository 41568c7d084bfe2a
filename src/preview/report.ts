/**
 * The JSON shape of a multi-object preview: what POST /preview answers for
 * workloads, several documents or a List, and `pullguard preview -o json`
 * prints. Per object, the same fields as the single-Pod answer of /preview
 * (decision, patch, images, warnings, validation), with the patch rooted at
 * the object, plus where it came from and whether it would be admitted.
 */
import type { ImageDecision } from '../admission/outcome.js'
import type { PatchOperation } from '../admission/json-patch.js'
import { decisionOf, type Decision } from '../admission/outcome.js'
import type { ObjectPreview, PodPreview } from './evaluate.js'

export interface ObjectReport {
  readonly source: { readonly file?: string, readonly document: number, readonly item?: number, readonly line?: number }
  readonly kind: string
  readonly apiVersion?: string
  readonly name?: string
  /** 'passed-through': the kind carries no pod template and is left as it is. */
  readonly decision: Decision | 'passed-through'
  readonly namespace?: string
  readonly operation?: string
  /** JSON Pointer of the pod template inside the object (`/spec/template`; '' for a Pod). */
  readonly template?: string
  readonly admitted: boolean
  readonly allowed?: boolean
  readonly denial?: string
  readonly skipped?: string
  readonly patch?: readonly PatchOperation[]
  readonly patchedObject?: unknown
  readonly images?: readonly ImageDecision[]
  readonly warnings?: readonly string[]
  readonly validation?: PodPreview['validation']
}

export interface Summary {
  readonly objects: number
  readonly podTemplates: number
  readonly patched: number
  readonly unchanged: number
  readonly skipped: number
  readonly denied: number
  readonly passedThrough: number
}

export interface PreviewReport {
  /** True when the API server would admit every object's pods. */
  readonly admitted: boolean
  readonly summary: Summary
  readonly objects: readonly ObjectReport[]
}

export function previewReport (previews: readonly ObjectPreview[]): PreviewReport {
  const objects = previews.map(objectReport)
  return { admitted: objects.every((o) => o.admitted), summary: summarize(objects), objects }
}

function summarize (objects: readonly ObjectReport[]): Summary {
  const count = (test: (o: ObjectReport) => boolean): number => objects.filter(test).length
  return {
    objects: objects.length,
    podTemplates: count((o) => o.decision !== 'passed-through'),
    patched: count((o) => o.admitted && o.decision === 'patched'),
    unchanged: count((o) => o.admitted && o.decision === 'allowed'),
    skipped: count((o) => o.admitted && o.decision === 'skipped'),
    denied: count((o) => !o.admitted),
    passedThrough: count((o) => o.decision === 'passed-through'),
  }
}

function objectReport (preview: ObjectPreview): ObjectReport {
  const { object, kind, apiVersion, name, pod } = preview
  const source = {
    ...(object.document.origin === undefined ? {} : { file: object.document.origin }),
    document: object.document.index,
    ...(object.item === undefined ? {} : { item: object.item }),
    ...(object.line === undefined ? {} : { line: object.line }),
  }
  const head = { source, kind, ...(apiVersion === undefined ? {} : { apiVersion }), ...(name === undefined ? {} : { name }) }
  if (pod === undefined) {
    const namespace = (object.value.metadata as { namespace?: unknown } | undefined)?.namespace
    return { ...head, decision: 'passed-through', ...(typeof namespace === 'string' && namespace !== '' ? { namespace } : {}), admitted: true }
  }
  const { input, outcome } = pod
  return {
    ...head,
    decision: decisionOf(outcome),
    namespace: input.namespace,
    operation: input.subResource === '' ? input.operation : `${input.operation}/${input.subResource}`,
    template: preview.template ?? '',
    admitted: preview.admitted,
    allowed: outcome.allowed,
    ...(outcome.denial === undefined ? {} : { denial: outcome.denial.message }),
    ...(outcome.skipped === undefined ? {} : { skipped: outcome.skipped }),
    patch: preview.patch,
    patchedObject: preview.patchedObject,
    images: outcome.images,
    warnings: outcome.warnings,
    validation: pod.validation,
  }
}
