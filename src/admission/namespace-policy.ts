/**
 * Per-namespace policy from namespace labels. Namespaces are edited by the
 * platform team, not by tenants, so their labels may tune pullguard; labels
 * and annotations on pods are never read for policy, so a tenant cannot
 * weaken enforcement on their own pod.
 */
import type { ClusterView } from '../cluster/types.js'
import type { Config } from '../config/compile.js'
import type { Labels } from '../config/label-selector.js'
import { ALWAYS_PULL_MODES, type AlwaysPullMode } from '../config/schema.js'
import type { Warnings } from './warnings.js'

export const LABEL_ALWAYS_PULL = 'pullguard.dev/always-pull'
export const LABEL_INJECT = 'pullguard.dev/inject'
export const LABEL_DISCOVER = 'pullguard.dev/discover-secrets'

export interface NamespacePolicy {
  readonly alwaysPull: AlwaysPullMode
  /** `pullguard.dev/inject: "false"` turns secret injection off (enforcement stays). */
  readonly inject: boolean
  readonly discover: boolean
  readonly labels: Labels
}

const NO_LABELS: Labels = Object.freeze({})

export function namespacePolicy (config: Config, cluster: ClusterView | undefined, namespace: string, warnings: Warnings): NamespacePolicy {
  const local = { alwaysPull: config.alwaysPull, inject: true, discover: false, labels: NO_LABELS }
  if (cluster === undefined) return local
  const info = cluster.namespace(namespace)
  if (info === undefined) {
    // Pods are only created in existing namespaces: this is informer lag.
    warnings.add('namespace-unknown', `pullguard: namespace "${namespace}" not in cache yet; config defaults used`)
    return { ...local, discover: config.discoverSecrets }
  }
  const labels = info.labels
  return {
    alwaysPull: labelValue(labels, LABEL_ALWAYS_PULL, ALWAYS_PULL_MODES, config.alwaysPull, warnings),
    inject: labelValue(labels, LABEL_INJECT, ['true', 'false'] as const, 'true', warnings) === 'true',
    discover: labelValue(labels, LABEL_DISCOVER, ['true', 'false'] as const, config.discoverSecrets ? 'true' : 'false', warnings) === 'true',
    labels,
  }
}

function labelValue<T extends string> (labels: Labels, key: string, allowed: readonly T[], fallback: T, warnings: Warnings): T {
  if (!Object.hasOwn(labels, key)) return fallback
  const value = labels[key] as string
  if ((allowed as readonly string[]).includes(value)) return value as T
  warnings.add('bad-label', `pullguard: namespace label ${key}=${value.slice(0, 20)} is not one of ${allowed.join('|')}; ignored`)
  return fallback
}
