/**
 * The namespaces pullguard leaves alone (config `excludeNamespaces`, names
 * and Go filepath.Match globs, src/config/names.ts; plus its own namespace)
 * as one anchored RE2 pattern over a namespace name, so that the policy
 * pullguard-always-pull-private skips them as pullguard does
 * (src/admission/gate.ts) while pullguard is down. The writer puts it in
 * the ConfigMap as `data.excludedNamespaces` ('' = none).
 *
 * NEVER LOOSER than pullguard: the pattern matches only names that
 * config.isExcluded() matches; a name it missed would only be enforced
 * where pullguard would not (stricter). Over real namespace names (RFC 1123
 * labels, `[a-z0-9-]`: apimachinery validation.go IsDNS1123Label) it is
 * exact: a name without glob syntax is its escaped self (isExcluded's exact
 * set), and a glob becomes RE2 item by item (re2.ts globAtomsOver, that
 * alphabet, with case, as Go compares bytes). On strings without '/' Go's
 * Match is a plain regular match: its chunks are fixed-length, so placing
 * each at the leftmost position that fits, as Go does, never misses a match.
 * An item that admits no name character (`[A-Z]`) makes its glob match no
 * namespace, so that glob adds nothing.
 *
 * Size: CEL charges `matches()` ceil(0.1 × (1 + |name|)) × ceil(0.25 ×
 * |pattern|) (cel-go interpreter/runtimecost.go), at most 7 × 2,048 = 14,336
 * for a 63-character name and the limit below, once per request (a policy
 * variable). Alternatives past the limit are left out: fewer exclusions,
 * more enforcement, never less.
 */
import { GlobSyntaxError, hasGlobMeta } from '../registry/go-glob.js'
import { atomsText, escapeRe2, globAtomsOver, type GlobAlphabet } from '../registry/re2.js'

/** Longest pattern written, in characters. */
export const DEFAULT_EXCLUDED_CHARS = 8192

// IsDNS1123Label's characters, in code-point order; compared with case.
const NAMESPACE_ALPHABET: GlobAlphabet = Object.freeze({ chars: '-0123456789abcdefghijklmnopqrstuvwxyz', caseless: false })

export interface ExcludedNamespacesPattern {
  /** `^(?:...)$`, or '' when nothing is excluded. */
  readonly pattern: string
  /** Entries left out to fit the limit (each then enforced by the policy). */
  readonly dropped: number
}

/** `entries` as isExcluded reads them, in order of priority (the first are kept when the limit binds). */
export function excludedNamespacesPattern (entries: readonly string[], maxChars = DEFAULT_EXCLUDED_CHARS): ExcludedNamespacesPattern {
  const alternatives = [...new Set(entries.map(alternativeOf).filter((a): a is string => a !== undefined))]
  let kept = alternatives
  while (kept.length > 0 && anchored(kept).length > maxChars) kept = kept.slice(0, -1)
  return Object.freeze({ pattern: anchored(kept), dropped: alternatives.length - kept.length })
}

function anchored (alternatives: readonly string[]): string {
  return alternatives.length === 0 ? '' : `^(?:${alternatives.join('|')})$`
}

/** RE2 for the names one entry excludes, or undefined when it excludes none. */
function alternativeOf (entry: string): string | undefined {
  if (entry === '') return undefined
  if (!hasGlobMeta(entry)) return escapeRe2(entry)
  let atoms
  try {
    atoms = globAtomsOver(entry, NAMESPACE_ALPHABET)
  } catch (err) {
    // The config only holds globs compileNamespacePattern accepted; anything else excludes nothing here.
    if (err instanceof GlobSyntaxError) return undefined
    throw err
  }
  return atoms === undefined ? undefined : atomsText(atoms)
}
