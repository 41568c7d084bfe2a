/**
 * Checks a parsed request body before anything else reads it.
 *
 * - Depth: V8's JSON.parse copes with any nesting, but JSON.stringify (of the
 *   patched pod in /preview, of log objects) recurses and would throw
 *   RangeError on a few thousand levels. The deepest real Pod path, inside
 *   metadata.managedFields, is about 25 levels below the review, so 100 only
 *   stops abuse.
 * - Keys: `__proto__` and `constructor.prototype` are the prototype-pollution
 *   vectors (the same rule as fastify's secure-json-parse). No Kubernetes field
 *   or valid label/annotation key can be named `__proto__`.
 *
 * Cost on the admission path (issue #11): a JSON body is first searched as
 * text, as secure-json-parse does (its `suspectProtoRx` and
 * `suspectConstructorRx`): only a body whose text could spell one of the two
 * keys has its keys walked. The depth walk recurses, but never more than
 * MAX_BODY_DEPTH frames, so it cannot overflow the stack, and it allocates
 * nothing per node (the earlier iterative walk pushed an object per node).
 */
import { PullguardError } from '../errors.js'

export const MAX_BODY_DEPTH = 100

/**
 * A key spelled in JSON text, every letter possibly as a `\uXXXX` escape
 * (RFC 8259 section 7), followed by its colon: secure-json-parse's patterns.
 */
const SUSPECT_PROTO = /"(?:_|\\u005[Ff])(?:_|\\u005[Ff])(?:p|\\u0070)(?:r|\\u0072)(?:o|\\u006[Ff])(?:t|\\u0074)(?:o|\\u006[Ff])(?:_|\\u005[Ff])(?:_|\\u005[Ff])"\s*:/
const SUSPECT_CONSTRUCTOR = /"(?:c|\\u0063)(?:o|\\u006[Ff])(?:n|\\u006[Ee])(?:s|\\u0073)(?:t|\\u0074)(?:r|\\u0072)(?:u|\\u0075)(?:c|\\u0063)(?:t|\\u0074)(?:o|\\u006[Ff])(?:r|\\u0072)"\s*:/

/**
 * Whether JSON text could hold a forbidden key. Most bodies have neither an
 * escape nor the two words, and `includes` rules that out faster than the
 * regular expressions scan.
 */
export function mayHoldForbiddenKey (text: string): boolean {
  if (!text.includes('\\u') && !text.includes('__proto__') && !text.includes('constructor')) return false
  return SUSPECT_PROTO.test(text) || SUSPECT_CONSTRUCTOR.test(text)
}

/**
 * Throws PG_BODY_TOO_DEEP or PG_BODY_FORBIDDEN_KEY. With the JSON text the
 * value was parsed from, keys are walked only if the text is suspect; without
 * it (YAML documents), always.
 */
export function guardBody (root: unknown, text?: string): void {
  if (typeof root !== 'object' || root === null) return
  if (tooDeep(root, 1)) throw new PullguardError('PG_BODY_TOO_DEEP', `body is nested more than ${MAX_BODY_DEPTH} levels deep`)
  if (text !== undefined && !mayHoldForbiddenKey(text)) return
  const key = forbiddenKey(root)
  if (key !== undefined) throw new PullguardError('PG_BODY_FORBIDDEN_KEY', `body contains the forbidden key "${key}"`)
}

/** Recursion stops at MAX_BODY_DEPTH + 1 frames, whatever the input. */
function tooDeep (value: object, depth: number): boolean {
  if (depth > MAX_BODY_DEPTH) return true
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i]
      if (typeof item === 'object' && item !== null && tooDeep(item, depth + 1)) return true
    }
    return false
  }
  for (const key in value) {
    const child: unknown = (value as Record<string, unknown>)[key]
    if (typeof child === 'object' && child !== null && tooDeep(child, depth + 1)) return true
  }
  return false
}

/** Only called on a tree already known to be at most MAX_BODY_DEPTH deep. */
function forbiddenKey (value: object): string | undefined {
  if (Array.isArray(value)) {
    for (const item of value as unknown[]) {
      const found = typeof item === 'object' && item !== null ? forbiddenKey(item) : undefined
      if (found !== undefined) return found
    }
    return undefined
  }
  for (const key of Object.keys(value)) {
    const child: unknown = (value as Record<string, unknown>)[key]
    const isObject = typeof child === 'object' && child !== null
    if (key === '__proto__' || (key === 'constructor' && isObject && Object.hasOwn(child, 'prototype'))) return key
    const found = isObject ? forbiddenKey(child) : undefined
    if (found !== undefined) return found
  }
  return undefined
}
