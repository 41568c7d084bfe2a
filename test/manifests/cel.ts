/**
 * Evaluates a ValidatingAdmissionPolicy (and webhook matchConditions) the way
 * the API server does, with @bufbuild/cel, a conformance-tested CEL
 * evaluator: matchConditions (all must be true, else the policy is skipped),
 * then `variables` in order (each sees the ones before it as
 * `variables.NAME`), then each validation (false = denied, with its
 * messageExpression, else its message).
 *
 * Like the API server (cel-go), a field that is absent is an error, not
 * null or empty: an expression that forgets has() on an optional list throws
 * here, and the tests fail, instead of the policy failing in a cluster.
 * Kubernetes adds libraries on top of standard CEL; only the extended string
 * library (`join`) is used by the policy, and it is registered here too.
 */
import { isCelError, run, type CelInput } from '@bufbuild/cel'
import { strings } from '@bufbuild/cel/ext'
import type { KObject } from './k8s.js'

/** JSON to CEL input: objects become maps, integers stay numbers (doubles). */
function toCel (value: unknown): CelInput {
  if (Array.isArray(value)) return value.map(toCel)
  if (value !== null && typeof value === 'object') return new Map(Object.entries(value).map(([k, v]) => [k, toCel(v)]))
  return value as CelInput
}

function evaluate (expression: string, bindings: Record<string, CelInput>, what: string): unknown {
  const result = run(expression, bindings, { funcs: strings })
  if (isCelError(result)) throw new Error(`${what}: CEL error: ${result.message}\n  expression: ${expression}`)
  return result
}

export interface AdmissionInput {
  readonly operation: 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT'
  readonly subResource?: string
  readonly username?: string
  readonly object: KObject | null
  readonly oldObject: KObject | null
  /** The binding's parameter object (paramKind/paramRef); null for policies without one, as in the API server. */
  readonly params?: KObject | null
  /**
   * The request's Namespace as the API server passes it to policies
   * (`namespaceObject`, Kubernetes >= 1.28: apiserver admission/plugin/cel
   * CreateNamespaceObject keeps metadata, spec and status); null when not
   * given, as for cluster-scoped requests.
   */
  readonly namespaceObject?: KObject | null
}

function bindingsFor (input: AdmissionInput): Record<string, CelInput> {
  const request = {
    operation: input.operation,
    subResource: input.subResource ?? '',
    userInfo: { username: input.username ?? 'alice@example.com', groups: ['system:authenticated'] },
    namespace: input.object?.metadata?.namespace ?? input.oldObject?.metadata?.namespace ?? 'default',
  }
  return {
    request: toCel(request),
    object: toCel(input.object),
    oldObject: toCel(input.oldObject),
    params: toCel(input.params ?? null),
    namespaceObject: toCel(input.namespaceObject ?? null),
  }
}

/** True when every matchCondition holds (the webhook or policy is called). */
export function matchConditionsHold (conditions: ReadonlyArray<{ name: string, expression: string }> | undefined, input: AdmissionInput): boolean {
  const bindings = bindingsFor(input)
  return (conditions ?? []).every((c) => {
    const value = evaluate(c.expression, bindings, `matchCondition ${c.name}`)
    if (typeof value !== 'boolean') throw new Error(`matchCondition ${c.name} returned ${typeof value}, not bool`)
    return value
  })
}

export interface PolicyResult {
  /** Skipped by matchConditions. */
  readonly skipped: boolean
  readonly allowed: boolean
  readonly messages: string[]
}

/** Evaluates spec of a ValidatingAdmissionPolicy against one request. */
export function evaluatePolicy (policy: KObject, input: AdmissionInput): PolicyResult {
  const spec = policy.spec as KObject
  if (!matchConditionsHold(spec.matchConditions, input)) return { skipped: true, allowed: true, messages: [] }
  const bindings = bindingsFor(input)
  const variables = new Map<string, CelInput>()
  bindings.variables = variables
  for (const v of (spec.variables ?? []) as Array<{ name: string, expression: string }>) {
    variables.set(v.name, evaluate(v.expression, bindings, `variable ${v.name}`) as CelInput)
  }
  const messages: string[] = []
  for (const [i, validation] of ((spec.validations ?? []) as KObject[]).entries()) {
    const ok = evaluate(validation.expression, bindings, `validations[${i}]`)
    if (typeof ok !== 'boolean') throw new Error(`validations[${i}] returned ${typeof ok}, not bool`)
    if (ok) continue
    const message = validation.messageExpression === undefined
      ? validation.message
      : evaluate(validation.messageExpression, bindings, `validations[${i}].messageExpression`)
    messages.push(String(message))
  }
  return { skipped: false, allowed: messages.length === 0, messages }
}
