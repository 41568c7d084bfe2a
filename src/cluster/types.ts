/**
 * What pullguard knows about the cluster, as plain read-only data. In cluster
 * mode informers keep it current; the admission hot path only reads it, so it
 * never waits on the API server.
 */
import type { DistributionView } from '../distribution/observation.js'
import type { CredentialKey } from '../registry/credential-key.js'

export const DOCKER_CONFIG_JSON = 'kubernetes.io/dockerconfigjson'
export const DOCKER_CFG = 'kubernetes.io/dockercfg'
export type PullSecretType = typeof DOCKER_CONFIG_JSON | typeof DOCKER_CFG
export const PULL_SECRET_TYPES: readonly PullSecretType[] = [DOCKER_CONFIG_JSON, DOCKER_CFG]
// plugin/pkg/admission/serviceaccount: with this annotation "true" on a
// ServiceAccount, the API server rejects a pod of that account whose
// imagePullSecrets the account does not list. Read into
// ServiceAccountInfo.enforceMountableSecrets (summaries.ts); admission only
// reads that flag, so the vocabulary lives here, below admission/.
export const ENFORCE_MOUNTABLE_ANNOTATION = 'kubernetes.io/enforce-mountable-secrets'

export interface NamespaceInfo {
  readonly name: string
  readonly labels: Readonly<Record<string, string>>
}

/**
 * A pull Secret reduced to what matching needs: its registry keys. The
 * credentials themselves are dropped as soon as the keys are read.
 */
export interface PullSecretInfo {
  readonly namespace: string
  readonly name: string
  readonly type: PullSecretType
  /** Why the data is not a usable docker config; such a Secret is never injected. */
  readonly malformed: string | undefined
  /** The `auths` keys, parsed like the kubelet's keyring (unparsable keys are left out, as the kubelet does). */
  readonly keys: readonly CredentialKey[]
}

export interface ServiceAccountInfo {
  readonly namespace: string
  readonly name: string
  readonly imagePullSecrets: readonly string[]
  /** Annotation kubernetes.io/enforce-mountable-secrets: "true". */
  readonly enforceMountableSecrets: boolean
}

export interface ClusterView {
  namespace (name: string): NamespaceInfo | undefined
  secret (namespace: string, name: string): PullSecretInfo | undefined
  /** Usable pull Secrets of the namespace whose keys match the image, in kubelet order. */
  discover (namespace: string, imageName: string): readonly PullSecretInfo[]
  serviceAccount (namespace: string, name: string): ServiceAccountInfo | undefined
  /** Usable pull Secrets of any namespace whose keys match the image (coverage for alwaysPull: private). */
  covering (imageName: string): readonly PullSecretInfo[]
  /** Secret distribution's watches (src/kube/secret-watches.ts); absent when distribution is off. */
  readonly distribution?: DistributionView | undefined
}
