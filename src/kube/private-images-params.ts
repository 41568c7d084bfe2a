/**
 * What the ConfigMap pullguard-private-images says, computed from what
 * pullguard knows: the RE2 patterns of every private image
 * (registry/private-image-patterns.ts), the config's `alwaysPull` default
 * and the excluded namespaces (excluded-namespaces.ts), which the
 * ValidatingAdmissionPolicy pullguard-always-pull-private reads as params.
 * Pure: private-images-writer.ts decides when to write it, and the policy
 * tests evaluate the same params offline.
 */
import type { V1ConfigMap } from '@kubernetes/client-node'
import type { ClusterStore } from '../cluster/store.js'
import type { Config } from '../config/compile.js'
import type { AlwaysPullMode } from '../config/schema.js'
import type { CredentialKey } from '../registry/credential-key.js'
import {
  DEFAULT_PATTERN_LIMITS, joinPatterns, privateImagePatterns, type PatternLimits, type PatternPrecision,
} from '../registry/private-image-patterns.js'
import { excludedNamespacesPattern } from './excluded-namespaces.js'
import { MANAGED_BY, MANAGED_BY_LABEL } from '../cluster/managed-by.js'

/** The ConfigMap and the Lease (manifests/base: the binding's paramRef and the Role's resourceNames). */
export const PRIVATE_IMAGES_NAME = 'pullguard-private-images'
export const PRECISION_ANNOTATION = 'pullguard.dev/private-images-precision'
const LABELS = { 'app.kubernetes.io/name': 'pullguard', [MANAGED_BY_LABEL]: MANAGED_BY }

export interface PrivateImagesInputs {
  /** Every key pullguard knows: config registries (any namespace scope) and usable pull Secrets of every namespace. */
  readonly keys: readonly CredentialKey[]
  readonly publicImages: readonly string[]
  /** The mode of a namespace without a valid pullguard.dev/always-pull label. */
  readonly alwaysPull: AlwaysPullMode
  /** Names and globs pullguard never touches (the config's, which include its own namespace when it knows it). */
  readonly excludeNamespaces: readonly string[]
}

/** What pullguard knows: every configured key whatever its namespace scope, every usable pull Secret's keys, its namespace defaults. */
export function privateImagesInputs (
  config: Pick<Config, 'registries' | 'publicImages' | 'alwaysPull' | 'excludeNamespaces'>, store: Pick<ClusterStore, 'pullSecretKeys'>
): PrivateImagesInputs {
  return {
    keys: [...config.registries.map((e) => e.key), ...store.pullSecretKeys()],
    publicImages: config.publicImages,
    alwaysPull: config.alwaysPull,
    excludeNamespaces: config.excludeNamespaces,
  }
}

export interface PrivateImagesParams {
  /**
   * The ConfigMap's data: `private`, `public` and `excludedNamespaces`, one
   * RE2 pattern each ('' for none: the policy then matches nothing), and
   * `alwaysPull`, the default mode. An older pullguard wrote only `private`
   * and `public`; the policy reads that as "labels only".
   */
  readonly data: Readonly<Record<string, string>>
  readonly precision: PatternPrecision
  /** publicImages prefixes left out to fit the cost limit. */
  readonly publicDropped: number
  /** excludeNamespaces entries left out to fit the cost limit. */
  readonly excludedDropped: number
}

/** What the leader writes for these inputs; `ownNamespace`: where pullguard runs, excluded whatever the config says. */
export function privateImagesParams (inputs: PrivateImagesInputs, ownNamespace: string, limits: PatternLimits = DEFAULT_PATTERN_LIMITS): PrivateImagesParams {
  const patterns = privateImagePatterns(inputs.keys, inputs.publicImages, limits)
  // Its own namespace first: the first entries are the ones a size limit keeps.
  const excluded = excludedNamespacesPattern([ownNamespace, ...inputs.excludeNamespaces])
  return {
    data: Object.freeze({
      private: joinPatterns(patterns.private),
      public: joinPatterns(patterns.public),
      alwaysPull: inputs.alwaysPull,
      excludedNamespaces: excluded.pattern,
    }),
    precision: patterns.precision,
    publicDropped: patterns.publicDropped,
    excludedDropped: excluded.dropped,
  }
}

/** What decides a write: the data and the precision annotation. */
export type Content = Pick<PrivateImagesParams, 'data' | 'precision'>

/** Does the ConfigMap already say exactly this. */
export function configMapHolds (current: V1ConfigMap, desired: Content): boolean {
  const data = current.data ?? {}
  const keys = Object.keys(data)
  return keys.length === Object.keys(desired.data).length &&
    keys.every((k) => data[k] === desired.data[k]) &&
    current.binaryData === undefined &&
    current.metadata?.annotations?.[PRECISION_ANNOTATION] === desired.precision
}

/** The object to write: ours entirely in data; labels and annotations of others are kept. */
export function privateImagesConfigMap (namespace: string, name: string, desired: Content, current?: V1ConfigMap): V1ConfigMap {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      ...current?.metadata,
      name,
      namespace,
      labels: { ...current?.metadata?.labels, ...LABELS },
      annotations: { ...current?.metadata?.annotations, [PRECISION_ANNOTATION]: desired.precision },
      managedFields: undefined,
    },
    data: { ...desired.data },
  }
}
