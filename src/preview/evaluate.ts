/**
 * The dry run shared by POST /preview and `pullguard preview`: each object's
 * pod template goes through the very decision the webhook makes (mutate, then
 * validate on the mutated pod, as the API server runs a validating webhook
 * after the mutating ones), and the patch is re-rooted at the template, so it
 * applies to the object as written: the workload is patched, not replaced.
 * Pure: config and cluster view in, plain data out.
 */
import type { ClusterView } from '../cluster/types.js'
import type { Config } from '../config/compile.js'
import { isNamespaceName } from '../config/names.js'
import { applyPatch, type PatchOperation } from '../admission/json-patch.js'
import type { Outcome } from '../admission/outcome.js'
import { isObject, nameOrGenerateName, type JsonObject } from '../admission/pod.js'
import { mutate, validate } from '../admission/policy.js'
import type { AdmissionInput } from '../admission/request.js'
import { decodeReview } from '../admission/review.js'
import { PullguardError } from '../errors.js'
import type { ManifestObject } from './documents.js'
import { podTemplateOf } from './templates.js'
import { pointer } from '../text/json-pointer.js'

const PODS = { group: '', version: 'v1', resource: 'pods' } as const

export interface PodPreview {
  readonly input: AdmissionInput
  readonly outcome: Outcome
  readonly patchedPod: unknown
  /** What /validate would answer on the mutated pod. */
  readonly validation: { readonly allowed: true } | { readonly allowed: false, readonly message: string }
}

/** mutate, apply the patch, validate the result: one request as the API server would run it. */
export function previewPod (input: AdmissionInput, config: Config, cluster: ClusterView | undefined): PodPreview {
  const outcome = mutate(input, config, cluster)
  const patchedPod = outcome.patch.length > 0 ? applyPatch(input.object, outcome.patch) : input.object
  const check = validate({ ...input, object: patchedPod }, config, cluster)
  const validation = check.allowed ? { allowed: true as const } : { allowed: false as const, message: check.denial?.message ?? 'denied' }
  return { input, outcome, patchedPod, validation }
}

/** A Pod CREATE in `namespace`, as /preview has always built it for a bare Pod. */
export function podCreateInput (pod: unknown, namespace: string): AdmissionInput {
  return { uid: 'pullguard-preview', operation: 'CREATE', namespace, resource: PODS, subResource: '', object: pod, oldObject: undefined, username: '', dryRun: true }
}

export interface ObjectPreview {
  readonly object: ManifestObject
  readonly kind: string
  readonly apiVersion: string | undefined
  readonly name: string | undefined
  /** JSON Pointer of the pod template in the object; undefined: no template, passed through untouched. */
  readonly template: string | undefined
  readonly pod: PodPreview | undefined
  /** The mutation as operations on the whole object. */
  readonly patch: readonly PatchOperation[]
  readonly patchedObject: JsonObject
  /** Whether the API server would let the object's pods in: mutation allowed and validation passed. */
  readonly admitted: boolean
}

export interface PreviewContext {
  readonly config: Config
  readonly cluster: ClusterView | undefined
  /** Evaluate every object in this namespace (--namespace, ?namespace=); default: its metadata.namespace, then `default`. */
  readonly namespace?: string | undefined
}

export function previewObject (object: ManifestObject, ctx: PreviewContext): ObjectPreview {
  const value = object.value
  const kind = value.kind
  const where = describeObject(object)
  if (typeof kind !== 'string' || kind === '') throw new PullguardError('PG_NOT_A_POD', `${where}: has no kind`)
  const base = { object, kind, apiVersion: typeof value.apiVersion === 'string' ? value.apiVersion : undefined, name: nameOrGenerateName(value) }
  if (kind === 'AdmissionReview') return fromReview(base, ctx)
  const template = podTemplateOf(value, where)
  if (template === undefined) return { ...base, template: undefined, pod: undefined, patch: [], patchedObject: value, admitted: true }
  const namespace = ctx.namespace ?? namespaceOf(value, where)
  const pod = reword(where, template.path, () => previewPod(podCreateInput(template.pod, namespace), ctx.config, ctx.cluster))
  return withPatch(base, template.path, pod)
}

function fromReview (base: Pick<ObjectPreview, 'object' | 'kind' | 'apiVersion' | 'name'>, ctx: PreviewContext): ObjectPreview {
  const path = ['request', 'object']
  const pod = reword(describeObject(base.object), path, () => previewPod(decodeReview(base.object.value).input, ctx.config, ctx.cluster))
  return withPatch({ ...base, name: nameOrGenerateName(pod.input.object) }, path, pod)
}

function withPatch (base: Pick<ObjectPreview, 'object' | 'kind' | 'apiVersion' | 'name'>, path: readonly string[], pod: PodPreview): ObjectPreview {
  const prefix = pointer(...path)
  const patch = pod.outcome.patch.map((op) => ({ ...op, path: prefix + op.path }))
  return {
    ...base,
    template: prefix,
    pod,
    patch,
    patchedObject: patch.length > 0 ? applyPatch(base.object.value, patch) : base.object.value,
    admitted: pod.outcome.allowed && pod.validation.allowed,
  }
}

/**
 * The policy names fields of the pod (`request.object is not a Pod:
 * spec.containers ...`); in a workload they sit under its template.
 */
function reword<T> (where: string, path: readonly string[], run: () => T): T {
  try {
    return run()
  } catch (err) {
    if (!(err instanceof PullguardError) || err.code !== 'PG_NOT_A_POD') throw err
    const problem = err.message.replace(/^request\.object is not a Pod: /, '')
    const field = path.length > 0 && /^(spec|metadata)\b/.test(problem) ? `${path.join('.')}.${problem}` : problem
    throw new PullguardError('PG_NOT_A_POD', `${where}: ${field}`)
  }
}

function namespaceOf (value: JsonObject, where: string): string {
  const metadata = isObject(value.metadata) ? value.metadata : {}
  const namespace = metadata.namespace
  if (namespace === undefined || namespace === null || namespace === '') return 'default'
  if (!isNamespaceName(namespace)) throw new PullguardError('PG_NOT_A_POD', `${where}: metadata.namespace is not a namespace name (RFC 1123 label)`)
  return namespace
}

/** `deploy.yaml:14 (Deployment web)`, `document 2, items[0] (Pod)` for messages. */
function describeObject (object: ManifestObject): string {
  const { origin, index } = object.document
  let where = origin === undefined
    ? (object.line === undefined ? `document ${index}` : `line ${object.line}`)
    : (object.line === undefined ? `${origin}, document ${index}` : `${origin}:${object.line}`)
  if (object.item !== undefined && object.line === undefined) where += `, items[${object.item}]`
  const kind = typeof object.value.kind === 'string' ? object.value.kind.slice(0, 63) : undefined
  const name = nameOrGenerateName(object.value)
  return kind === undefined ? where : `${where} (${kind}${name === undefined ? '' : ` ${name.slice(0, 253)}`})`
}
