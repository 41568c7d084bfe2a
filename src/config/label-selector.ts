/**
 * metav1.LabelSelector, evaluated like apimachinery's LabelSelectorAsSelector:
 * matchLabels and matchExpressions are ANDed; an empty selector matches every
 * namespace; NotIn and DoesNotExist match namespaces without the key.
 */
import { echo } from './echo.js'

export interface RawLabelSelectorRequirement {
  key: string
  operator: string
  values?: string[]
}

export interface RawLabelSelector {
  matchLabels?: Record<string, string>
  matchExpressions?: RawLabelSelectorRequirement[]
}

export type Labels = Readonly<Record<string, string>>
export type LabelMatcher = (labels: Labels) => boolean

const OPERATORS = ['In', 'NotIn', 'Exists', 'DoesNotExist']

/** Compiles a selector; problems (naming `at`) are pushed, and the matcher then matches nothing. */
export function compileLabelSelector (selector: RawLabelSelector, at: string, problems: string[]): LabelMatcher {
  const tests: LabelMatcher[] = []
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    tests.push((labels) => Object.hasOwn(labels, key) && labels[key] === value)
  }
  const before = problems.length
  ;(selector.matchExpressions ?? []).forEach((req, i) => {
    const where = `${at}.matchExpressions[${i}]`
    const values = req.values ?? []
    // Absent only when the schema has already reported it (config/parse.ts).
    if (typeof req.operator !== 'string') return
    if (!OPERATORS.includes(req.operator)) {
      problems.push(`${where}.operator: ${echo(req.operator, 'word')} is not one of ${OPERATORS.join(', ')}`)
      return
    }
    const needsValues = req.operator === 'In' || req.operator === 'NotIn'
    if (needsValues && values.length === 0) problems.push(`${where}.values: must not be empty for operator ${req.operator}`)
    if (!needsValues && values.length > 0) problems.push(`${where}.values: must be empty for operator ${req.operator}`)
    const set = new Set(values)
    const { key } = req
    switch (req.operator) {
      case 'In': tests.push((l) => Object.hasOwn(l, key) && set.has(l[key] as string)); break
      case 'NotIn': tests.push((l) => !Object.hasOwn(l, key) || !set.has(l[key] as string)); break
      case 'Exists': tests.push((l) => Object.hasOwn(l, key)); break
      default: tests.push((l) => !Object.hasOwn(l, key))
    }
  })
  if (problems.length > before) return () => false
  return (labels) => tests.every((test) => test(labels))
}
