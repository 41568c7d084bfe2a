/**
 * The parts of a Pod pullguard reads, checked on the raw JSON. Mutating
 * webhooks run before the API server validates the object, so nothing here
 * may be assumed: a field of the wrong type is a clear PG_NOT_A_POD error, never
 * a TypeError deep in the policy.
 */
import { PullguardError } from '../errors.js'

export type JsonObject = Record<string, unknown>

/** The container lists of a PodSpec, in the order the in-tree visitor walks them (pkg/api/pod VisitContainersWithPath). */
export const CONTAINER_LISTS = ['initContainers', 'containers', 'ephemeralContainers'] as const
/**
 * The PodSpec lists that hold images: the container lists and volumes (a
 * volume's `image.reference`, KEP-4639). The owner of this vocabulary, also
 * the `field` label of pullguard_pull_policies_forced_total.
 */
export const IMAGE_LISTS = [...CONTAINER_LISTS, 'volumes'] as const
export type ImageList = typeof IMAGE_LISTS[number]

export interface Pod {
  readonly raw: JsonObject
  readonly spec: JsonObject
  readonly annotations: Readonly<Record<string, unknown>>
  readonly name: string
}

export function isObject (value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

type Fail = (problem: string) => never

/** Checks the shape of `value` as a Pod; `which` names it in errors (`object`, `oldObject`). */
export function asPod (value: unknown, which: string): Pod {
  const fail: Fail = (problem) => {
    throw new PullguardError('PG_NOT_A_POD', `request.${which} is not a Pod: ${problem}`)
  }
  if (!isObject(value)) return fail('not a JSON object')
  checkTypeMeta(value, fail)
  const annotations = annotationsOf(value, fail)
  const spec = value.spec
  if (!isObject(spec)) return fail('spec is missing or not an object')
  checkLists(spec, fail)
  return { raw: value, spec, annotations, name: nameOrGenerateName(value) ?? '' }
}

/** kind and apiVersion may be absent (an embedded object need not carry them), but if set must be a core/v1 Pod. */
function checkTypeMeta (value: JsonObject, fail: Fail): void {
  if (value.kind !== undefined && value.kind !== 'Pod') fail(`kind is ${JSON.stringify(value.kind)}`)
  if (value.apiVersion !== undefined && value.apiVersion !== 'v1') fail(`apiVersion is ${JSON.stringify(value.apiVersion)}`)
}

function annotationsOf (value: JsonObject, fail: Fail): JsonObject {
  const metadata = value.metadata ?? {}
  if (!isObject(metadata)) return fail('metadata is not an object')
  const annotations = metadata.annotations ?? {}
  if (!isObject(annotations)) return fail('metadata.annotations is not an object')
  return annotations
}

/** spec.containers is required; every list pullguard reads, when present, must be a list of objects. */
function checkLists (spec: JsonObject, fail: Fail): void {
  if (!Array.isArray(spec.containers)) fail('spec.containers is missing or not a list')
  for (const list of [...IMAGE_LISTS, 'imagePullSecrets']) {
    const items = spec[list]
    if (items === undefined || items === null) continue
    if (!Array.isArray(items)) fail(`spec.${list} is not a list`)
    else items.forEach((item, i) => { if (!isObject(item)) fail(`spec.${list}[${i}] is not an object`) })
  }
}

/**
 * metadata.name, else metadata.generateName: pods a controller creates can
 * reach the webhook with generateName alone (the API server derives the name
 * from it, apiserver pkg/registry/rest/create.go BeforeCreate). Undefined
 * when neither is a non-empty string; `value` may be any object (the
 * preview names workloads with it too).
 */
export function nameOrGenerateName (value: unknown): string | undefined {
  const metadata = isObject(value) && isObject(value.metadata) ? value.metadata : {}
  if (typeof metadata.name === 'string' && metadata.name !== '') return metadata.name
  return typeof metadata.generateName === 'string' && metadata.generateName !== '' ? metadata.generateName : undefined
}

export function listOf (spec: JsonObject, list: string): readonly JsonObject[] {
  const items = spec[list]
  return Array.isArray(items) ? items as JsonObject[] : []
}

/** Names already in spec.imagePullSecrets (possibly put there by the ServiceAccount admission plugin). */
export function pullSecretNames (spec: JsonObject): Set<string> {
  const names = new Set<string>()
  for (const ref of listOf(spec, 'imagePullSecrets')) if (typeof ref.name === 'string') names.add(ref.name)
  return names
}
