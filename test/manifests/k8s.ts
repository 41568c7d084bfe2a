/**
 * Helpers for the manifest tests: render kustomizations with `kubectl
 * kustomize`, parse the multi-document YAML, and validate every object
 * offline against the Kubernetes API schemas.
 *
 * Validation is two checks, because neither alone is enough:
 * - the JSON schemas of `kubernetes-models` (types, enums, required fields;
 *   cert-manager objects through `@kubernetes-models/cert-manager`), which
 *   accept unknown fields, and
 * - unknown-field detection against the OpenAPI model classes of
 *   `@kubernetes/client-node` (what `kubectl apply --validate=strict` would
 *   reject: a misspelt `imagePullPolicee` would otherwise pass unnoticed).
 * An object whose apiVersion/kind neither package knows is an error.
 */
import { execFile } from 'node:child_process'
import { mkdir, writeFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { promisify } from 'node:util'
import * as clientNode from '@kubernetes/client-node'
import { parseAllDocuments } from 'yaml'
import { firstExecutable, onPath } from '../helpers/executable.js'

const execFileAsync = promisify(execFile)

// Rendered Kubernetes objects are free-form JSON; the tests index into them.

export type KObject = Record<string, any>

export const KUBECTL_MISSING = 'kubectl not found: the manifest tests render with `kubectl kustomize` ' +
  '(kubectl >= 1.27, built-in kustomize v5). Install kubectl (this machine image has it at /usr/bin/kubectl) ' +
  'or set KUBECTL=/path/to/kubectl.'

/** The kubectl to use: $KUBECTL, /usr/bin/kubectl, or kubectl on PATH. */
export function findKubectl (env: NodeJS.ProcessEnv = process.env, wellKnown: readonly string[] = ['/usr/bin/kubectl']): string | undefined {
  return firstExecutable([env.KUBECTL, ...wellKnown, ...onPath('kubectl', env)])
}

/**
 * A kustomization in `tmp/name` composing the base of `manifests` with some
 * of its components, as an operator's own overlay would; returns its folder.
 */
export async function composedOverlay (manifests: string, tmp: string, name: string, components: readonly string[]): Promise<string> {
  const dir = join(tmp, name)
  await mkdir(dir)
  const rel = (p: string): string => relative(dir, join(manifests, p))
  await writeFile(join(dir, 'kustomization.yaml'), [
    'apiVersion: kustomize.config.k8s.io/v1beta1',
    'kind: Kustomization',
    `resources: [${rel('base')}]`,
    'components:',
    ...components.map((c) => `  - ${rel(join('components', c))}`),
    '',
  ].join('\n'))
  return dir
}

/** `kubectl kustomize DIR`, parsed into objects (empty documents dropped). */
export async function kustomize (kubectl: string, dir: string): Promise<KObject[]> {
  let stdout: string
  try {
    ;({ stdout } = await execFileAsync(kubectl, ['kustomize', dir], { timeout: 60_000, maxBuffer: 32 * 1024 * 1024 }))
  } catch (err) {
    const e = err as { stderr?: string, message: string }
    throw new Error(`kubectl kustomize ${dir} failed: ${e.stderr?.trim() || e.message}`)
  }
  return parseObjects(stdout, dir)
}

/** Multi-document YAML to objects; any YAML error throws. */
export function parseObjects (text: string, origin: string): KObject[] {
  const objects: KObject[] = []
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new Error(`${origin}: ${doc.errors.map((e) => e.message).join('; ')}`)
    const value: unknown = doc.toJS()
    if (value === null || value === undefined) continue
    if (typeof value !== 'object' || Array.isArray(value)) throw new Error(`${origin}: a document is not an object`)
    objects.push(value as KObject)
  }
  return objects
}

export function describe (obj: KObject): string {
  const ns = obj.metadata?.namespace === undefined ? '' : `${obj.metadata.namespace}/`
  return `${obj.kind}/${ns}${obj.metadata?.name}`
}

/** The one object of this kind (and name, if given); throws if not exactly one. */
export function one (objects: readonly KObject[], kind: string, name?: string): KObject {
  const found = objects.filter((o) => o.kind === kind && (name === undefined || o.metadata?.name === name))
  if (found.length !== 1) throw new Error(`expected exactly one ${kind}${name === undefined ? '' : ` ${name}`}, found ${found.length}`)
  return found[0] as KObject
}

export function all (objects: readonly KObject[], kind: string): KObject[] {
  return objects.filter((o) => o.kind === kind)
}

/** metav1.LabelSelector semantics: does `selector` (undefined: none) select an object with these labels. */
export function selects (selector: KObject | undefined, labels: Readonly<Record<string, string>>): boolean {
  if (selector === undefined) return false
  for (const [k, v] of Object.entries((selector.matchLabels ?? {}) as Record<string, string>)) if (labels[k] !== v) return false
  for (const e of (selector.matchExpressions ?? []) as KObject[]) {
    const has = Object.hasOwn(labels, e.key)
    const value = labels[e.key]
    switch (e.operator) {
      case 'In': if (!has || !(e.values as string[]).includes(value as string)) return false; break
      case 'NotIn': if (has && (e.values as string[]).includes(value as string)) return false; break
      case 'Exists': if (!has) return false; break
      case 'DoesNotExist': if (has) return false; break
      default: throw new Error(`unknown operator ${e.operator}`)
    }
  }
  return true
}

// --- schema validation --------------------------------------------------------

interface ModelClass {
  new (data: unknown): { validate (): void }
  readonly apiVersion?: string
  readonly kind?: string
}

/** Where the model class of a group lives. */
function modelModule (group: string, version: string, kind: string): string | undefined {
  if (!/^[A-Za-z0-9]+$/.test(kind) || !/^v\d+((alpha|beta)\d+)?$/.test(version)) return undefined
  if (group === '') return `kubernetes-models/v1/${kind}`
  if (group.endsWith('cert-manager.io')) return `@kubernetes-models/cert-manager/${group}/${version}/${kind}`
  if (/^[a-z0-9.-]+$/.test(group)) return `kubernetes-models/${group}/${version}/${kind}`
  return undefined
}

function splitApiVersion (apiVersion: string): { group: string, version: string } {
  const slash = apiVersion.indexOf('/')
  return slash < 0 ? { group: '', version: apiVersion } : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) }
}

async function modelClass (apiVersion: string, kind: string): Promise<ModelClass | undefined> {
  const { group, version } = splitApiVersion(apiVersion)
  const specifier = modelModule(group, version, kind)
  if (specifier === undefined) return undefined
  let mod: Record<string, unknown>
  try {
    mod = await import(specifier) as Record<string, unknown>
  } catch {
    return undefined
  }
  const cls = mod[kind] as ModelClass | undefined
  if (typeof cls !== 'function' || cls.apiVersion !== apiVersion || cls.kind !== kind) return undefined
  return cls
}

interface Attribute { readonly baseName: string, readonly type: string }
type OpenApiClass = { getAttributeTypeMap (): Attribute[] }
const openApiTypes = clientNode as unknown as Record<string, OpenApiClass | undefined>

function capitalize (s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1)
}

/** The @kubernetes/client-node model class name of a built-in kind, if any. */
function openApiRootType (apiVersion: string, kind: string): string | undefined {
  const { group, version } = splitApiVersion(apiVersion)
  const groupPrefix = capitalize((group.split('.')[0] ?? '').replace(/[^a-z0-9]/gi, ''))
  for (const name of [`${groupPrefix}${capitalize(version)}${kind}`, `${capitalize(version)}${kind}`]) {
    if (typeof openApiTypes[name]?.getAttributeTypeMap === 'function') return name
  }
  return undefined
}

/** Unknown fields of `value` (an instance of the OpenAPI type `type`). */
function unknownFields (value: unknown, type: string, path: string, out: string[]): void {
  if (value === null || value === undefined) return
  const array = /^Array<(.+)>$/.exec(type)
  if (array !== null) {
    if (Array.isArray(value)) value.forEach((item, i) => unknownFields(item, array[1] as string, `${path}[${i}]`, out))
    return
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type)
  if (map !== null) {
    if (typeof value === 'object') for (const [k, v] of Object.entries(value)) unknownFields(v, map[1] as string, `${path}[${JSON.stringify(k)}]`, out)
    return
  }
  const cls = openApiTypes[type]
  if (cls === undefined || typeof cls.getAttributeTypeMap !== 'function') return // a scalar (string, number, IntOrString, any, ...)
  if (typeof value !== 'object' || Array.isArray(value)) return // wrong type: the JSON schema check reports it
  const attributes = cls.getAttributeTypeMap()
  for (const [key, v] of Object.entries(value)) {
    const attribute = attributes.find((a) => a.baseName === key)
    if (attribute === undefined) out.push(`${path === '' ? '' : `${path}.`}${key}: unknown field (not in ${type})`)
    else unknownFields(v, attribute.type, path === '' ? key : `${path}.${key}`, out)
  }
}

/**
 * A copy with newlines removed from base64 (`format: byte`) fields that
 * kustomize wraps: Secret `data` from a secretGenerator and a caBundle copied
 * from it. The API server decodes these with Go's base64, which skips \r and
 * \n (encoding/base64: "New line characters are ignored"), so they are valid
 * there; the JSON schema's `byte` format is stricter than that.
 */
function asTheApiServerDecodes (obj: KObject): KObject {
  const copy = structuredClone(obj)
  const unwrap = (v: unknown): unknown => (typeof v === 'string' ? v.replace(/[\r\n]/g, '') : v)
  if (copy.apiVersion === 'v1' && copy.kind === 'Secret' && copy.data !== null && typeof copy.data === 'object') {
    for (const key of Object.keys(copy.data)) copy.data[key] = unwrap(copy.data[key])
  }
  for (const webhook of Array.isArray(copy.webhooks) ? copy.webhooks as KObject[] : []) {
    if (webhook?.clientConfig?.caBundle !== undefined) webhook.clientConfig.caBundle = unwrap(webhook.clientConfig.caBundle)
  }
  return copy
}

/** Problems with one object; empty when it is valid. */
export async function validateObject (obj: KObject): Promise<string[]> {
  const where = describe(obj)
  if (typeof obj.apiVersion !== 'string' || typeof obj.kind !== 'string') return [`${where}: no apiVersion/kind`]
  const Model = await modelClass(obj.apiVersion, obj.kind)
  if (Model === undefined) return [`${where}: unknown kind ${obj.apiVersion}/${obj.kind} (no offline schema for it)`]
  const problems: string[] = []
  try {
    new Model(asTheApiServerDecodes(obj)).validate()
  } catch (err) {
    problems.push(`${where}: ${(err as Error).message}`)
  }
  const root = openApiRootType(obj.apiVersion, obj.kind)
  if (root !== undefined) {
    const unknown: string[] = []
    unknownFields(obj, root, '', unknown)
    problems.push(...unknown.map((p) => `${where}: ${p}`))
  }
  return problems
}

/** Whether unknown-field checking covers this kind (built-in Kubernetes kinds). */
export function strictFieldsCovered (obj: KObject): boolean {
  return openApiRootType(String(obj.apiVersion), String(obj.kind)) !== undefined
}
