/**
 * Where each kind keeps the pod it will create. The API server admits the
 * pods a controller creates from these templates, not the workload itself,
 * so previewing a workload means previewing its template as a Pod.
 * Paths from the Kubernetes API reference (apps/v1, batch/v1, core/v1).
 */
import { isObject, type JsonObject } from '../admission/pod.js'
import { PullguardError } from '../errors.js'

interface TemplateKind {
  /** API groups the kind is served from ('' is core; extensions is the pre-apps group of old clusters). */
  readonly groups: readonly string[]
  readonly path: readonly string[]
}

const APPS = ['apps', 'extensions']
export const POD_TEMPLATE_KINDS: Readonly<Record<string, TemplateKind>> = {
  Pod: { groups: [''], path: [] },
  Deployment: { groups: APPS, path: ['spec', 'template'] },
  StatefulSet: { groups: APPS, path: ['spec', 'template'] },
  DaemonSet: { groups: APPS, path: ['spec', 'template'] },
  ReplicaSet: { groups: APPS, path: ['spec', 'template'] },
  ReplicationController: { groups: [''], path: ['spec', 'template'] },
  Job: { groups: ['batch'], path: ['spec', 'template'] },
  CronJob: { groups: ['batch'], path: ['spec', 'jobTemplate', 'spec', 'template'] },
  PodTemplate: { groups: [''], path: ['template'] },
}

export interface PodTemplate {
  /** Path of the template in the object ([] for a Pod). */
  readonly path: readonly string[]
  /** The template as a Pod: what the API server will be asked to admit. */
  readonly pod: JsonObject
}

/**
 * The object's pod template as a Pod, or undefined for a kind that has none
 * (a Service, a ConfigMap, a custom resource that happens to be called
 * Deployment in another group). A template kind without a template is bad
 * input: `where` names the object in the error.
 */
export function podTemplateOf (object: JsonObject, where: string): PodTemplate | undefined {
  // hasOwn: a kind called "constructor" is not a template kind.
  const kind = typeof object.kind === 'string' && Object.hasOwn(POD_TEMPLATE_KINDS, object.kind) ? POD_TEMPLATE_KINDS[object.kind] : undefined
  if (kind === undefined) return undefined
  if (typeof object.apiVersion === 'string' && !kind.groups.includes(groupOf(object.apiVersion))) return undefined
  if (kind.path.length === 0) return { path: [], pod: object }
  let node: unknown = object
  for (const key of kind.path) node = isObject(node) ? node[key] : undefined
  if (!isObject(node)) {
    throw new PullguardError('PG_NOT_A_POD', `${where}: ${kind.path.join('.')} is missing or not an object`)
  }
  // The template's metadata and spec are a Pod's (the pod's name comes from the controller).
  // metadata only if the template has it: the patch must apply to the template as written.
  const pod: JsonObject = { apiVersion: 'v1', kind: 'Pod', ...(node.metadata === undefined ? {} : { metadata: node.metadata }), spec: node.spec }
  return { path: kind.path, pod }
}

/** `apps/v1` → apps, `v1` → '' (core). An object without apiVersion is taken to be of the kind's group. */
function groupOf (apiVersion: string): string {
  const slash = apiVersion.indexOf('/')
  return slash < 0 ? '' : apiVersion.slice(0, slash)
}
