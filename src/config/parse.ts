/**
 * Config text → RawConfig, and the problems the JSON schema found.
 *
 * YAML is read with the YAML 1.2 core schema, where `off`, `no` and `on` are
 * plain strings; YAML 1.1 parsers turn `alwaysPull: off` into `false`. JSON is
 * YAML 1.2, so one parser reads both.
 *
 * Every problem is reported at once: what failed the schema is removed from
 * the document (array items leave a hole, so the indexes in later messages
 * stay right), and compile.ts runs its checks on everything that is left.
 * Values are quoted only where they cannot be a credential (echo.ts).
 */
import { Ajv, type ErrorObject } from 'ajv'
import { parseAllDocuments } from 'yaml'
import { PullguardError } from '../errors.js'
import { parsePointer } from '../text/json-pointer.js'
import { echo, whyNotShown, type ValueKind } from './echo.js'
import { configSchema, type RawConfig } from './schema.js'

export { echo } from './echo.js'

// allowUnionTypes: a registries[].secrets item is a name or an object.
const ajv = new Ajv({ allErrors: true, strict: true, verbose: true, allowUnionTypes: true })
const validate = ajv.compile<RawConfig>(configSchema)
/** Every property name the schema defines: written in paths as they are. */
const SCHEMA_KEYS: ReadonlySet<string> = new Set(propertyNames(configSchema))

export interface CheckedText {
  /**
   * The document with every part that failed the schema removed. Structurally
   * a RawConfig only when `problems` is empty: otherwise a registries entry
   * may lack `match` or `secrets`, and lists may have holes.
   */
  readonly raw: RawConfig
  /** The schema's problems, one line each. */
  readonly problems: readonly string[]
}

/** Throws only when there is no document to check (not YAML, empty, several documents). */
export function readConfigText (text: string, origin: string): CheckedText {
  const docs = parseAllDocuments(text, { schema: 'core', uniqueKeys: true, prettyErrors: true })
  if (!Array.isArray(docs)) throw configError(origin, ['the file is empty'])
  if (docs.length > 1) throw configError(origin, [`the file holds ${docs.length} YAML documents; expected one`])
  const doc = docs[0]
  if (doc === undefined) throw configError(origin, ['the file is empty'])
  if (doc.errors.length > 0) {
    throw configError(origin, doc.errors.map((e) => `not valid YAML or JSON: ${e.message.split('\n')[0] ?? ''}`))
  }
  const value: unknown = doc.toJS({ maxAliasCount: 100 })
  if (value === null || value === undefined) throw configError(origin, ['the file is empty'])
  if (validate(value)) return { raw: value, problems: [] }
  const errors = validate.errors ?? []
  const problems = errors.map((e) => describeSchemaError(e, value))
  for (const e of errors) removeFailed(value, e)
  const raw = typeof value === 'object' && !Array.isArray(value) ? value as RawConfig : {}
  return { raw, problems }
}

export function configError (origin: string, problems: readonly string[]): PullguardError {
  return new PullguardError('PG_CONFIG_INVALID', `invalid config ${origin}:\n  - ${problems.join('\n  - ')}`)
}

/**
 * `/registries/1/secrets/0` → `registries[1].secrets[0]` (how operators read
 * YAML paths). Keys come from the file (unknown keys, matchLabels keys), so
 * one that could be a credential is described, not written.
 */
function fieldPath (pointer: string, child?: string): string {
  const parts = parsePointer(pointer)
  if (child !== undefined) parts.push(child)
  let out = ''
  for (const part of parts) {
    if (/^\d+$/.test(part)) out += `[${part}]`
    else if (SCHEMA_KEYS.has(part) || whyNotShown(part, 'key') === undefined) out += out === '' ? part : `.${part}`
    else out += `[${echo(part, 'label')}]`
  }
  return out === '' ? '(top level)' : out
}

function valueAt (root: unknown, parts: readonly string[]): unknown {
  let node: unknown = root
  for (const part of parts) {
    if (node === null || typeof node !== 'object') return undefined
    node = (node as Record<string, unknown>)[part]
  }
  return node
}

/** Removes what `e` is about, so the semantic checks see only what passed. */
function removeFailed (root: unknown, e: ErrorObject): void {
  if (e.keyword === 'required') return // nothing there to remove
  const parts = parsePointer(e.instancePath)
  if (e.keyword === 'additionalProperties') parts.push(String(e.params.additionalProperty))
  const last = parts.pop()
  if (last === undefined) return // the document itself: compile gets {}
  const parent = valueAt(root, parts)
  if (parent !== null && typeof parent === 'object') delete (parent as Record<string, unknown>)[last]
}

/** The kind of value at a pointer, for echo(): by the field it is in. */
function kindAt (pointer: string): ValueKind {
  const parts = parsePointer(pointer).filter((p) => !/^\d+$/.test(p))
  if (parts.at(-2) === 'matchLabels') return 'label'
  switch (parts.at(-1)) {
    case 'match': return 'credentialKey'
    case 'secrets':
    case 'name': return 'secretName'
    case 'from': return 'secretRef'
    case 'namespaces':
    case 'excludeNamespaces': return 'namespace'
    case 'publicImages': return 'imagePrefix'
    case 'key':
    case 'values': return 'label'
    default: return 'word'
  }
}

function describeSchemaError (e: ErrorObject, root: unknown): string {
  const at = fieldPath(e.instancePath)
  const value = valueAt(root, parsePointer(e.instancePath))
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = String(e.params.additionalProperty)
      return `${fieldPath(e.instancePath, key)}: unknown key (allowed here: ${allowedKeys(e)})`
    }
    case 'required':
      return `${fieldPath(e.instancePath, String(e.params.missingProperty))}: is required`
    case 'enum':
      return `${at}: ${echo(value, 'word')} is not one of ${(e.params.allowedValues as string[]).join(', ')}`
    case 'type':
      return `${at}: must be ${[e.params.type].flat().join(' or ')}, got ${echo(value, kindAt(e.instancePath))}`
    case 'minLength':
      return `${at}: must not be empty`
    case 'minItems':
      return `${at}: must list at least one item`
    default:
      return `${at}: ${e.message ?? 'is invalid'}`
  }
}

function allowedKeys (e: ErrorObject): string {
  const props = (e.parentSchema as { properties?: Record<string, unknown> } | undefined)?.properties
  return props === undefined ? 'none' : Object.keys(props).join(', ')
}

function propertyNames (schema: unknown): string[] {
  if (schema === null || typeof schema !== 'object') return []
  const own = Object.keys((schema as { properties?: object }).properties ?? {})
  return [...own, ...Object.values(schema).flatMap(propertyNames)]
}
