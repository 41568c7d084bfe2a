/**
 * The few RFC 6902 JSON Patch operations pullguard emits. Patches are built
 * from explicit operations on the raw JSON, never by diffing a re-serialised
 * pod: a diff would rewrite fields we do not own and grow with the pod.
 * Pointers are built and read by text/json-pointer.ts (RFC 6901).
 */
import { parsePointer, pointer } from '../text/json-pointer.js'

export type PatchOperation =
  | { readonly op: 'add', readonly path: string, readonly value: unknown }
  | { readonly op: 'replace', readonly path: string, readonly value: unknown }

export function add (path: string, value: unknown): PatchOperation {
  return { op: 'add', path, value }
}

export function replace (path: string, value: unknown): PatchOperation {
  return { op: 'replace', path, value }
}

/**
 * Sets `key` of the object at `parent` to `value`: `replace` when the member
 * exists (RFC 6902 §4.3 requires it to), `add` when it does not (§4.1).
 */
export function setMember (parent: Readonly<Record<string, unknown>>, parentPath: string, key: string, value: unknown): PatchOperation {
  const path = parentPath + pointer(key)
  return Object.hasOwn(parent, key) ? replace(path, value) : add(path, value)
}

/** `JSONPatch` bodies are base64 in an AdmissionResponse (admission.k8s.io/v1 `patch` is []byte). */
export function encodePatch (ops: readonly PatchOperation[]): string {
  return Buffer.from(JSON.stringify(ops)).toString('base64')
}

/**
 * Applies the operations pullguard emits to a copy of `doc` (for /preview's
 * patched pod). Implements RFC 6902 §4.1 add and §4.3 replace on objects and
 * arrays, including `-` for append; throws on a path that does not exist.
 */
export function applyPatch<T> (doc: T, ops: readonly PatchOperation[]): T {
  const root = structuredClone(doc) as unknown
  for (const op of ops) {
    const tokens = parsePointer(op.path)
    const last = tokens.pop()
    if (last === undefined) throw new Error('patching the document root is not supported')
    let parent: unknown = root
    for (const token of tokens) {
      parent = Array.isArray(parent) ? parent[Number(token)] : (parent as Record<string, unknown> | null)?.[token]
      if (typeof parent !== 'object' || parent === null) throw new Error(`path ${op.path} does not exist`)
    }
    const value = structuredClone(op.value)
    if (Array.isArray(parent)) {
      const index = last === '-' ? parent.length : Number(last)
      if (!Number.isInteger(index) || index < 0 || index > parent.length || (op.op === 'replace' && index >= parent.length)) {
        throw new Error(`path ${op.path} is out of range`)
      }
      if (op.op === 'add') parent.splice(index, 0, value)
      else parent[index] = value
    } else {
      const object = parent as Record<string, unknown>
      if (op.op === 'replace' && !Object.hasOwn(object, last)) throw new Error(`path ${op.path} does not exist`)
      object[last] = value
    }
  }
  return root as T
}
