/**
 * Config text → structurally valid RawConfig.
 *
 * YAML is read with the YAML 1.2 core schema, where `off`, `no` and `on` are
 * plain strings; YAML 1.1 parsers turn `alwaysPull: off` into `false`. JSON is
 * YAML 1.2, so one parser reads both.
 */
import { Ajv, type ErrorObject } from 'ajv'
import { parseAllDocuments } from 'yaml'
import { PullguardError } from '../errors.js'
import { configSchema, type RawConfig } from './schema.js'

const ajv = new Ajv({ allErrors: true, strict: true, verbose: true })
const validate = ajv.compile<RawConfig>(configSchema)

const MAX_VALUE_ECHO = 60

export function parseConfigText (text: string, origin: string): RawConfig {
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
  if (!validate(value)) {
    throw configError(origin, (validate.errors ?? []).map((e) => describeSchemaError(e, value)))
  }
  return value
}

export function configError (origin: string, problems: readonly string[]): PullguardError {
  return new PullguardError('PG_CONFIG_INVALID', `invalid config ${origin}:\n  - ${problems.join('\n  - ')}`)
}

/** `/registries/1/secrets/0` → `registries[1].secrets[0]` (how operators read YAML paths). */
export function fieldPath (pointer: string, child?: string): string {
  const parts = pointer.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
  if (child !== undefined) parts.push(child)
  let out = ''
  for (const part of parts) out += /^\d+$/.test(part) ? `[${part}]` : (out === '' ? part : `.${part}`)
  return out === '' ? '(top level)' : out
}

export function echo (value: unknown): string {
  const text = JSON.stringify(value) ?? String(value)
  return text.length > MAX_VALUE_ECHO ? `${text.slice(0, MAX_VALUE_ECHO)}…` : text
}

function valueAt (root: unknown, pointer: string): unknown {
  let node: unknown = root
  for (const part of pointer.split('/').slice(1)) {
    if (node === null || typeof node !== 'object') return undefined
    node = (node as Record<string, unknown>)[part]
  }
  return node
}

function describeSchemaError (e: ErrorObject, root: unknown): string {
  const at = fieldPath(e.instancePath)
  const value = valueAt(root, e.instancePath)
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = String(e.params.additionalProperty)
      return `${fieldPath(e.instancePath, key)}: unknown key (allowed here: ${allowedKeys(e)})`
    }
    case 'required':
      return `${fieldPath(e.instancePath, String(e.params.missingProperty))}: is required`
    case 'enum':
      return `${at}: ${echo(value)} is not one of ${(e.params.allowedValues as string[]).join(', ')}`
    case 'type':
      return `${at}: must be ${String(e.params.type)}, got ${echo(value)}`
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
