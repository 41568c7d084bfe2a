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
  for (const op of ops) applyOperation(root, op)
  return root as T
}

/** Applies one operation to `root` in place. */
function applyOperation (root: unknown, op: PatchOperation): void {
  const tokens = parsePointer(op.path)
  const last = tokens.pop()
  if (last === undefined) throw new Error('patching the document root is not supported')
  const parent = resolveParent(root, tokens, op.path)
  const value = structuredClone(op.value)
  if (Array.isArray(parent)) setElement(parent, last, op, value)
  else setObjectMember(parent as Record<string, unknown>, last, op, value)
}

/** Walks `tokens` from `root` (RFC 6901 §4); every step must reach an object or array. */
function resolveParent (root: unknown, tokens: readonly string[], path: string): unknown {
  let parent: unknown = root
  for (const token of tokens) {
    parent = Array.isArray(parent) ? parent[Number(token)] : (parent as Record<string, unknown> | null)?.[token]
    if (typeof parent !== 'object' || parent === null) throw new Error(`path ${path} does not exist`)
  }
  return parent
}

/**
 * Array target: `add` inserts at the index, `-` meaning after the last
 * element (RFC 6902 §4.1); `replace` needs an existing element (§4.3).
 */
function setElement (array: unknown[], last: string, op: PatchOperation, value: unknown): void {
  const index = last === '-' ? array.length : Number(last)
  const end = op.op === 'replace' ? array.length - 1 : array.length
  if (!Number.isInteger(index) || index < 0 || index > end) throw new Error(`path ${op.path} is out of range`)
  if (op.op === 'add') array.splice(index, 0, value)
  else array[index] = value
}

/** Object target: `add` creates or overwrites the member (§4.1), `replace` needs it to exist (§4.3). */
function setObjectMember (object: Record<string, unknown>, last: string, op: PatchOperation, value: unknown): void {
  if (op.op === 'replace' && !Object.hasOwn(object, last)) throw new Error(`path ${op.path} does not exist`)
  object[last] = value
}
