/**
 * Secret distribution as pure functions of (config, namespaces, what the
 * watches see): where each copy belongs, the state of each, and what the
 * leader must write. The controller (src/kube/secret-distributor.ts), the
 * admission decision and /preview all call these, so they agree on what a
 * copy's state is.
 *
 * The rules (config/distribution.ts decides where a copy belongs):
 * - a Secret of the copy's name that pullguard does not manage is never
 *   written or deleted, only reported (`unmanaged`);
 * - a namespace where two entries distribute different sources under one
 *   name gets no write at all (`source-conflict`): whatever is there stays;
 * - a missing source keeps its copies (pods keep pulling) unless
 *   `onSourceDeleted: delete`; a source that is not a pull Secret is not
 *   copied, and its existing copies are kept;
 * - a copy of another type than its source is deleted, then created again
 *   (a Secret's type is immutable);
 * - a managed copy no entry wants (entry removed, namespace out of scope or
 *   excluded) is deleted;
 * - nothing is decided on what the watches have not listed yet.
 */
import { isPullSecretType } from '../cluster/pull-secret.js'
import type { NamespaceInfo } from '../cluster/types.js'
import { refText, type Distribution, type DistributedSecret, type SecretRef } from '../config/distribution.js'
import type { Labels } from '../config/label-selector.js'
import type { ObservedSecret } from './copy.js'
import type { DistributionView, Observation } from './observation.js'

export const COPY_STATES = ['current', 'outdated', 'pending', 'unmanaged', 'source-missing', 'source-invalid', 'source-conflict', 'unknown'] as const
export type CopyState = typeof COPY_STATES[number]

export interface CopyStatus {
  /** The source, `namespace/name` (with a source-conflict, the first entry's). */
  readonly from: string
  /** The registries[] index of the (first) entry distributing it here. */
  readonly entry: number
  readonly state: CopyState
  /** A copy pullguard manages is in the namespace now (possibly outdated). */
  readonly exists: boolean
}

/** The distributed Secrets named `name` whose copy belongs in this namespace. */
function distributedHere (distribution: Distribution, namespace: string, labels: Labels, name: string): DistributedSecret[] {
  return (distribution.byName.get(name) ?? []).filter((s) => s.applies(namespace, labels))
}

/** The copy of `name` in this namespace; undefined when no entry distributes that name here. */
export function copyStatus (distribution: Distribution, view: DistributionView, namespace: string, labels: Labels, name: string): CopyStatus | undefined {
  return statusOf(distributedHere(distribution, namespace, labels, name), view, namespace, name)
}

function statusOf (here: readonly DistributedSecret[], view: DistributionView, namespace: string, name: string): CopyStatus | undefined {
  const first = here[0]
  if (first === undefined) return undefined
  const target = view.observe(namespace, name)
  const exists = typeof target === 'object' && target.managed
  const status = (state: CopyState): CopyStatus => ({ from: refText(first.from), entry: first.entry, state, exists })
  if (new Set(here.map((s) => refText(s.from))).size > 1) return status('source-conflict')
  return status(stateOf(target, view.observe(first.from.namespace, first.from.name), first.from))
}

function stateOf (target: Observation, source: Observation, from: SecretRef): CopyState {
  if (target === 'unknown') return 'unknown'
  if (typeof target === 'object' && !target.managed) return 'unmanaged'
  if (source === 'unknown') return 'unknown'
  if (source === 'absent') return 'source-missing'
  if (!isPullSecretType(source.type)) return 'source-invalid'
  if (target === 'absent') return 'pending'
  return isCurrent(target, source, from) ? 'current' : 'outdated'
}

/** The copy holds what the source holds and says so. */
function isCurrent (copy: ObservedSecret, source: ObservedSecret, from: SecretRef): boolean {
  return copy.hash === source.hash && copy.annotatedHash === source.hash && copy.copiedFrom === refText(from)
}

export type CopyAction =
  | { readonly kind: 'create', readonly namespace: string, readonly name: string, readonly from: SecretRef }
  | { readonly kind: 'update', readonly namespace: string, readonly name: string, readonly from: SecretRef, readonly current: ObservedSecret }
  | { readonly kind: 'delete', readonly namespace: string, readonly name: string, readonly current: ObservedSecret, readonly why: DeleteReason }

type DeleteReason = 'not-wanted' | 'source-deleted' | 'type-changed'

/** A problem to report, once, until it goes away; `key` identifies it. */
export interface Problem {
  readonly key: string
  readonly state: 'unmanaged' | 'source-missing' | 'source-invalid' | 'source-conflict'
  readonly namespace: string
  readonly name: string
  /** The entries involved, `registries[0].secrets[1] (namespace/name)`. */
  readonly entries: readonly string[]
}

export interface DistributionPlan {
  readonly actions: readonly CopyAction[]
  /** Every copy that belongs somewhere, by state. */
  readonly copies: Readonly<Record<CopyState, number>>
  readonly problems: readonly Problem[]
  /** registries[] indexes whose source is missing or not a pull Secret. */
  readonly sourceProblems: ReadonlyArray<{ readonly entry: number, readonly problem: 'missing' | 'not-a-pull-secret' }>
}

/**
 * What the leader must write now. `managed`: every copy pullguard manages
 * that it knows of (the watched names, and older names found by listing).
 */
export function planDistribution (
  distribution: Distribution, namespaces: Iterable<NamespaceInfo>, view: DistributionView, managed: Iterable<ObservedSecret>
): DistributionPlan {
  const actions: CopyAction[] = []
  const copies = Object.fromEntries(COPY_STATES.map((s) => [s, 0])) as Record<CopyState, number>
  const problems: Problem[] = []
  const wanted = new Set<string>()
  for (const ns of namespaces) {
    for (const name of distribution.byName.keys()) {
      const here = distributedHere(distribution, ns.name, ns.labels, name)
      const first = here[0]
      if (first === undefined) continue
      wanted.add(`${ns.name}/${name}`)
      const status = statusOf(here, view, ns.name, name) as CopyStatus
      copies[status.state]++
      const target = view.observe(ns.name, name)
      const problem = (state: Problem['state'], involved = here): void => {
        problems.push({ key: `${state} ${ns.name}/${name}`, state, namespace: ns.name, name, entries: involved.map((s) => `${s.at} (${refText(s.from)})`) })
      }
      switch (status.state) {
        case 'source-conflict': problem('source-conflict', uniqueSources(here)); break
        case 'unmanaged': problem('unmanaged', [first]); break
        case 'pending': actions.push({ kind: 'create', namespace: ns.name, name, from: first.from }); break
        case 'outdated': actions.push(outdated(target as ObservedSecret, view.observe(first.from.namespace, first.from.name) as ObservedSecret, first.from)); break
        case 'source-missing':
          if (distribution.onSourceDeleted === 'delete' && typeof target === 'object') actions.push({ kind: 'delete', namespace: ns.name, name, current: target, why: 'source-deleted' })
          break
        default: break
      }
    }
  }
  // A source is never deleted, even one that is itself a copy (distribution chained through a namespace).
  for (const s of distribution.secrets) wanted.add(refText(s.from))
  for (const copy of managed) {
    if (!wanted.has(`${copy.namespace}/${copy.name}`)) actions.push({ kind: 'delete', namespace: copy.namespace, name: copy.name, current: copy, why: 'not-wanted' })
  }
  const { sourceProblems, reports } = sourceReports(distribution, view)
  return { actions, copies, problems: [...reports, ...problems], sourceProblems }
}

function outdated (copy: ObservedSecret, source: ObservedSecret, from: SecretRef): CopyAction {
  if (copy.type !== source.type) return { kind: 'delete', namespace: copy.namespace, name: copy.name, current: copy, why: 'type-changed' }
  return { kind: 'update', namespace: copy.namespace, name: copy.name, from, current: copy }
}

function uniqueSources (here: readonly DistributedSecret[]): DistributedSecret[] {
  const seen = new Map<string, DistributedSecret>()
  for (const s of here) if (!seen.has(refText(s.from))) seen.set(refText(s.from), s)
  return [...seen.values()]
}

/** Sources that are missing or not pull Secrets, once per distributed Secret (whether or not any namespace wants a copy yet). */
function sourceReports (distribution: Distribution, view: DistributionView): { sourceProblems: DistributionPlan['sourceProblems'], reports: Problem[] } {
  const sourceProblems: Array<DistributionPlan['sourceProblems'][number]> = []
  const reports: Problem[] = []
  for (const s of distribution.secrets) {
    const source = view.observe(s.from.namespace, s.from.name)
    if (source === 'unknown') continue
    const state = source === 'absent' ? 'source-missing' : isPullSecretType(source.type) ? undefined : 'source-invalid'
    if (state === undefined) continue
    sourceProblems.push({ entry: s.entry, problem: state === 'source-missing' ? 'missing' : 'not-a-pull-secret' })
    reports.push({ key: `${state} ${s.at}`, state, namespace: s.from.namespace, name: s.from.name, entries: [`${s.at} (${refText(s.from)})`] })
  }
  return { sourceProblems, reports }
}
