/**
 * A distributed copy as pullguard writes it and as it reads one back.
 *
 * A copy is labelled `app.kubernetes.io/managed-by: pullguard` and annotated
 * with its source (`pullguard.dev/copied-from: namespace/name`) and the hash
 * of what it holds (`pullguard.dev/data-hash`). Only a Secret carrying both
 * the label and the source annotation is pullguard's: pullguard updates and
 * deletes those and never touches any other Secret (the bootstrap Secret
 * pullguard-tls has the label but no source annotation).
 *
 * Whatever the API server sends about a Secret is reduced to ObservedSecret
 * the moment it arrives: its data is hashed and dropped, never stored, so
 * the watches keep no credential (the same rule as the informers').
 */
import { createHash } from 'node:crypto'
import { MANAGED_BY, MANAGED_BY_LABEL } from '../cluster/managed-by.js'

export const COPIED_FROM_ANNOTATION = 'pullguard.dev/copied-from'
export const DATA_HASH_ANNOTATION = 'pullguard.dev/data-hash'
/** kubectl apply's copy of the whole manifest, data included: never carried into a rewritten copy. */
const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration'

/** What is kept of a Secret: names, versions, who manages it, and a hash of its contents. */
export interface ObservedSecret {
  readonly namespace: string
  readonly name: string
  readonly uid: string
  readonly resourceVersion: string
  readonly type: string
  /** pullguard's copy: labelled managed-by pullguard and annotated with its source. */
  readonly managed: boolean
  /** The source annotation (`namespace/name`) of a copy. */
  readonly copiedFrom: string | undefined
  /** The hash annotation of a copy. */
  readonly annotatedHash: string | undefined
  /** dataHash() of the type and data it holds now. */
  readonly hash: string
}

interface SecretLike {
  readonly metadata?: {
    readonly name?: string
    readonly namespace?: string
    readonly uid?: string
    readonly resourceVersion?: string
    readonly labels?: Readonly<Record<string, string>> | null
    readonly annotations?: Readonly<Record<string, string>> | null
  }
  readonly type?: unknown
  readonly data?: unknown
}

/**
 * sha256 over the type and every data key and value (base64 as the API
 * server sends it): equal for equal contents, whoever wrote them. A hash of a
 * credential is not the credential, but it is not published either: it sits
 * on the copy (readable only by who can read the copy's data) and nowhere
 * else, never in logs, metrics or /preview.
 */
export function dataHash (type: string, data: Readonly<Record<string, unknown>> | null | undefined): string {
  const hash = createHash('sha256')
  hash.update(JSON.stringify(type))
  for (const key of Object.keys(data ?? {}).sort()) {
    const value = (data as Record<string, unknown>)[key]
    hash.update(`\n${JSON.stringify(key)}:${typeof value === 'string' ? value : ''}`)
  }
  return `sha256:${hash.digest('hex')}`
}

/** A Secret → what is kept of it; its data does not outlive the call. */
export function observeSecret (secret: SecretLike): ObservedSecret {
  const meta = secret.metadata ?? {}
  const type = typeof secret.type === 'string' && secret.type !== '' ? secret.type : 'Opaque'
  const data = typeof secret.data === 'object' && secret.data !== null ? secret.data as Record<string, unknown> : undefined
  const copiedFrom = meta.annotations?.[COPIED_FROM_ANNOTATION]
  return Object.freeze({
    namespace: meta.namespace ?? '',
    name: meta.name ?? '',
    uid: meta.uid ?? '',
    resourceVersion: meta.resourceVersion ?? '',
    type,
    managed: meta.labels?.[MANAGED_BY_LABEL] === MANAGED_BY && typeof copiedFrom === 'string' && copiedFrom !== '',
    copiedFrom,
    annotatedHash: meta.annotations?.[DATA_HASH_ANNOTATION],
    hash: dataHash(type, data),
  })
}

interface SecretBody {
  apiVersion: 'v1'
  kind: 'Secret'
  metadata: Record<string, unknown> & { name: string, namespace: string, labels: Record<string, string>, annotations: Record<string, string> }
  type: string
  data: Record<string, string>
}

/**
 * The copy to write: the source's type and data, our label and annotations;
 * for an update, `current` (read just before) keeps its resourceVersion and
 * everyone else's labels and annotations.
 */
export function copyBody (
  target: { namespace: string, name: string }, from: string, source: { type?: string, data?: Record<string, string> },
  current?: { metadata?: object }
): SecretBody {
  const type = source.type ?? 'Opaque'
  const data = { ...source.data }
  const meta = (current?.metadata ?? {}) as { labels?: Record<string, string>, annotations?: Record<string, string> }
  const annotations = { ...meta.annotations }
  delete annotations[LAST_APPLIED]
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      ...current?.metadata,
      name: target.name,
      namespace: target.namespace,
      managedFields: undefined,
      labels: { ...meta.labels, [MANAGED_BY_LABEL]: MANAGED_BY },
      annotations: { ...annotations, [COPIED_FROM_ANNOTATION]: from, [DATA_HASH_ANNOTATION]: dataHash(type, data) },
    },
    type,
    data,
  }
}
