/**
 * Namespace and ServiceAccount objects → the little pullguard keeps of them.
 */
import { ENFORCE_MOUNTABLE_ANNOTATION, type NamespaceInfo, type ServiceAccountInfo } from './types.js'

interface ObjectLike {
  metadata?: { name?: string, namespace?: string, labels?: Record<string, string> | null, annotations?: Record<string, string> | null }
}

export function summarizeNamespace (ns: ObjectLike): NamespaceInfo {
  return Object.freeze({ name: ns.metadata?.name ?? '', labels: Object.freeze({ ...(ns.metadata?.labels ?? {}) }) })
}

const NONE: readonly string[] = Object.freeze([])

export function summarizeServiceAccount (sa: ObjectLike & { imagePullSecrets?: Array<{ name?: string }> | null }): ServiceAccountInfo {
  const names = (sa.imagePullSecrets ?? []).map((ref) => ref.name).filter((n): n is string => typeof n === 'string' && n !== '')
  return Object.freeze({
    namespace: sa.metadata?.namespace ?? '',
    name: sa.metadata?.name ?? '',
    imagePullSecrets: names.length === 0 ? NONE : Object.freeze(names),
    enforceMountableSecrets: sa.metadata?.annotations?.[ENFORCE_MOUNTABLE_ANNOTATION] === 'true',
  })
}
