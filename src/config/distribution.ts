/**
 * Secret distribution in the config: `registries[].secrets[]` given as
 * `{name, from: namespace/name}` asks pullguard to keep a copy of the source
 * Secret, named `name`, in every namespace the entry applies to
 * (src/kube/secret-distributor.ts does it; admission only injects the name).
 *
 * Where a copy belongs is decided here, once per config, as one predicate per
 * distributed Secret: where its entry applies (`namespaces` or
 * `namespaceSelector`), never in an excluded namespace (pullguard's own
 * included), and in the source's own namespace only when that namespace is
 * listed by name (a glob or a selector that happens to match it does not
 * count); the source itself is never its own copy.
 *
 * Two entries may not distribute different sources under one name into the
 * same namespace. Where that is certain from the config alone (an entry
 * without any scope, a namespace named by both, or named by one and matched
 * by the other's glob) it is a config error naming both entries; where it
 * depends on namespaces that may or may not exist, or on their labels (two
 * globs, a selector), the controller finds it per namespace at run time,
 * writes no copy there and reports it (plan.ts).
 */
import { hasGlobMeta } from '../registry/go-glob.js'
import type { Labels } from './label-selector.js'
import { compileNamespacePattern, isNamespaceName, secretNameProblem } from './names.js'
import { echo } from './echo.js'
import type { OnSourceDeletedMode } from './schema.js'

export interface SecretRef {
  readonly namespace: string
  readonly name: string
}

/** What distribution needs of a registries[] entry. */
export interface EntryScope {
  readonly index: number
  readonly namespaces: readonly string[] | undefined
  readonly hasNamespaceSelector: boolean
  readonly allows: (namespace: string, labels: Labels) => boolean
}

export interface DistributedSecret {
  /** The copy's name, which is also what pods get in imagePullSecrets. */
  readonly name: string
  readonly from: SecretRef
  /** `registries[0].secrets[1]`, for messages. */
  readonly at: string
  /** The registries[] index. */
  readonly entry: number
  /** Whether a copy belongs in this namespace (labels: the namespace's). */
  readonly applies: (namespace: string, labels: Labels) => boolean
}

export interface Distribution {
  /** Every distributed Secret, in config order. */
  readonly secrets: readonly DistributedSecret[]
  /** By copy name. */
  readonly byName: ReadonlyMap<string, readonly DistributedSecret[]>
  readonly onSourceDeleted: OnSourceDeletedMode
}

/** A `from` as the config wrote it, before its entry is compiled. */
export interface RawDistributed {
  readonly name: string
  readonly from: SecretRef
  readonly at: string
  readonly entry: number
}

export function refText (ref: SecretRef): string {
  return `${ref.namespace}/${ref.name}`
}

/** `namespace/name` → the reference, or why it is not one. */
export function parseSecretRef (text: string): SecretRef | string {
  const parts = text.split('/')
  if (parts.length !== 2) return 'is not of the form namespace/name'
  const [namespace = '', name = ''] = parts
  if (!isNamespaceName(namespace)) return 'does not start with a valid namespace name (RFC 1123 label)'
  const problem = secretNameProblem(name)
  return problem === undefined ? { namespace, name } : `names a Secret that ${problem}`
}

/**
 * The distributed Secrets of a config, with the config-time conflicts
 * pushed to `problems`. `entries[i]` is registries[i] (undefined when it did
 * not compile: its Secrets are then left out, its problems already reported).
 */
export function compileDistribution (
  raw: readonly RawDistributed[], entries: ReadonlyArray<EntryScope | undefined>, isExcluded: (namespace: string) => boolean,
  onSourceDeleted: OnSourceDeletedMode, problems: string[]
): Distribution {
  const secrets: DistributedSecret[] = []
  for (const r of raw) {
    const entry = entries[r.entry]
    if (entry === undefined) continue
    const listed = new Set(entry.namespaces ?? [])
    const { name, from } = r
    secrets.push(Object.freeze({
      ...r,
      applies: (namespace: string, labels: Labels): boolean => {
        if (isExcluded(namespace) || !entry.allows(namespace, labels)) return false
        if (namespace !== from.namespace) return true
        return listed.has(namespace) && name !== from.name
      },
    }))
  }
  problems.push(...certainConflicts(secrets, entries, isExcluded))
  const byName = new Map<string, DistributedSecret[]>()
  for (const s of secrets) byName.set(s.name, [...(byName.get(s.name) ?? []), s])
  return Object.freeze({ secrets: Object.freeze(secrets), byName, onSourceDeleted })
}

/** Pairs that distribute different sources under one name into a namespace both certainly reach. */
function certainConflicts (secrets: readonly DistributedSecret[], entries: ReadonlyArray<EntryScope | undefined>, isExcluded: (namespace: string) => boolean): string[] {
  const problems: string[] = []
  const reported = new Set<DistributedSecret>()
  for (const [j, b] of secrets.entries()) {
    for (const a of secrets.slice(0, j)) {
      if (a.name !== b.name || refText(a.from) === refText(b.from) || reported.has(b)) continue
      const where = sharedNamespace(entries[a.entry] as EntryScope, entries[b.entry] as EntryScope, isExcluded)
      if (where === undefined) continue
      reported.add(b)
      problems.push(`${b.at}: distributes ${echo(refText(b.from), 'secretRef')} as ${echo(b.name)} ${where}, where ${a.at} ` +
        `distributes ${echo(refText(a.from), 'secretRef')} under the same name; use one source, or another name`)
    }
  }
  return problems
}

/** How two entries certainly overlap ("into namespace x", ...), or undefined when only the cluster can tell. */
function sharedNamespace (a: EntryScope, b: EntryScope, isExcluded: (namespace: string) => boolean): string | undefined {
  const unscoped = (e: EntryScope): boolean => e.namespaces === undefined && !e.hasNamespaceSelector
  if (unscoped(a) && unscoped(b)) return 'into every namespace'
  if (unscoped(a)) return `into every namespace registries[${b.index}] applies to`
  if (unscoped(b)) return `into every namespace registries[${a.index}] applies to`
  for (const [x, y] of [[a, b], [b, a]] as const) {
    const matches = namesMatcher(y.namespaces)
    for (const name of x.namespaces ?? []) {
      if (!hasGlobMeta(name) && !isExcluded(name) && matches(name)) return `into namespace ${echo(name, 'namespace')}`
    }
  }
  return undefined
}

function namesMatcher (patterns: readonly string[] | undefined): (namespace: string) => boolean {
  const matchers = (patterns ?? []).map(compileNamespacePattern).filter((m): m is (ns: string) => boolean => typeof m === 'function')
  return (namespace) => matchers.some((m) => m(namespace))
}
