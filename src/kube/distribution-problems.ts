/**
 * What secret distribution tells the operator in its log: each problem once
 * while it lasts (a plan is made every round; the same warning every two
 * seconds would bury everything else), and once more when it is gone. Lines
 * name namespaces, Secrets and config entries, never data or hashes.
 */
import type { Logger } from 'pino'
import type { Distribution } from '../config/distribution.js'
import type { Problem } from '../distribution/plan.js'

export class ProblemLog {
  private reported = new Map<string, Problem>()

  constructor (private readonly log: Logger) {}

  /** The problems of this round's plan. */
  report (problems: readonly Problem[], distribution: Distribution): void {
    const next = new Map(problems.map((p) => [p.key, p]))
    for (const [key, p] of next) {
      if (!this.reported.has(key)) this.log.warn({ state: p.state, namespace: p.namespace, secret: p.name, entries: p.entries }, problemMessage(p, distribution))
    }
    for (const [key, p] of this.reported) {
      if (!next.has(key)) this.log.info({ state: p.state, namespace: p.namespace, secret: p.name }, 'secret distribution problem resolved')
    }
    this.reported = next
  }
}

function problemMessage (p: Problem, distribution: Distribution): string {
  switch (p.state) {
    case 'unmanaged': return 'a Secret of a copy\'s name exists and pullguard does not manage it: left alone, no copy there'
    case 'source-conflict': return 'entries distribute different sources under one name into this namespace: no copy is written there'
    case 'source-missing': return distribution.onSourceDeleted === 'delete'
      ? 'the source Secret does not exist: its copies are deleted (onSourceDeleted: delete)'
      : 'the source Secret does not exist: its copies are kept (onSourceDeleted: keep)'
    default: return 'the source Secret is not of type kubernetes.io/dockerconfigjson or kubernetes.io/dockercfg: not copied'
  }
}

/** A failed Lease step, with the Role to fix when RBAC refused it. */
export function leaseFailure (namespace: string, name: string, code: number | undefined, message: string): string {
  if (code === 403) {
    return `forbidden to get or update leases.coordination.k8s.io/${name} in namespace ${namespace}: give pullguard's ServiceAccount get, update and create on it ` +
      `(Role pullguard-secret-distribution, manifests/components/secret-distribution): ${message}`
  }
  return `cannot get or update leases.coordination.k8s.io/${name} in namespace ${namespace}: ${code === undefined ? '' : `${code} `}${message}`
}
