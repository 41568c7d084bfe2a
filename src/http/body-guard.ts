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
 * The walk is iterative so that the guard itself cannot overflow the stack.
 */
import { PullguardError } from '../errors.js'

export const MAX_BODY_DEPTH = 100

export function guardBody (root: unknown): void {
  const stack: Array<{ value: unknown, depth: number }> = [{ value: root, depth: 1 }]
  while (stack.length > 0) {
    const { value, depth } = stack.pop() as { value: unknown, depth: number }
    if (typeof value !== 'object' || value === null) continue
    if (depth > MAX_BODY_DEPTH) {
      throw new PullguardError('PG_BODY_TOO_DEEP', `body is nested more than ${MAX_BODY_DEPTH} levels deep`)
    }
    if (Array.isArray(value)) {
      for (const item of value) stack.push({ value: item, depth: depth + 1 })
      continue
    }
    for (const key of Object.keys(value)) {
      const child = (value as Record<string, unknown>)[key]
      if (key === '__proto__' || (key === 'constructor' && typeof child === 'object' && child !== null && Object.hasOwn(child, 'prototype'))) {
        throw new PullguardError('PG_BODY_FORBIDDEN_KEY', `body contains the forbidden key "${key}"`)
      }
      stack.push({ value: child, depth: depth + 1 })
    }
  }
}
