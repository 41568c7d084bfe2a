/**
 * Reads and writes the bootstrap Secret, always with optimistic concurrency:
 * a create fails with 409 AlreadyExists when another replica created it
 * first, and a replace carries the resourceVersion it was decided on, so it
 * fails with 409 Conflict when anyone wrote in between
 * (https://kubernetes.io/docs/reference/using-api/api-concepts/#resource-versions).
 * The caller re-reads and decides again; nothing here retries or overwrites
 * blindly.
 * The layout of the Secret is in secret-layout.ts.
 */
import type { CoreV1Api, V1Secret } from '@kubernetes/client-node'
import { apiErrorOf } from '../kube/api-error.js'
import {
  PHASE_ANNOTATION, SECRET_KEYS, SECRET_TYPE, SINCE_ANNOTATION, secretAnnotations, secretTexts,
  type RawSecret, type SecretContent,
} from './secret-layout.js'
import { MANAGED_BY, MANAGED_BY_LABEL } from '../cluster/managed-by.js'

export interface StoredSecret {
  readonly resourceVersion: string
  readonly raw: RawSecret
  readonly object: V1Secret
}

export class BootstrapSecretStore {
  constructor (
    private readonly core: CoreV1Api,
    readonly namespace: string,
    readonly name: string
  ) {}

  /** The Secret, or undefined when there is none (404). */
  async read (): Promise<StoredSecret | undefined> {
    let object: V1Secret
    try {
      object = await this.core.readNamespacedSecret({ name: this.name, namespace: this.namespace })
    } catch (err) {
      if (apiErrorOf(err).code === 404) return undefined
      throw err
    }
    return { resourceVersion: object.metadata?.resourceVersion ?? '', raw: decode(object), object }
  }

  /** POST; 409 AlreadyExists when another replica was first. Returns the new resourceVersion. */
  async create (content: SecretContent): Promise<string> {
    const body: V1Secret = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: this.name,
        namespace: this.namespace,
        labels: { [MANAGED_BY_LABEL]: MANAGED_BY },
        annotations: secretAnnotations(content),
      },
      type: SECRET_TYPE,
      data: encode(secretTexts(content)),
    }
    const created = await this.core.createNamespacedSecret({ namespace: this.namespace, body })
    return created.metadata?.resourceVersion ?? ''
  }

  /**
   * PUT with the resourceVersion `previous` was read at; 409 Conflict when it
   * changed since. Labels, annotations and data keys that are not ours are
   * kept; so is the type (it is immutable: a Secret someone created as
   * Opaque stays Opaque rather than failing every write with 422).
   */
  async replace (previous: StoredSecret, content: SecretContent): Promise<string> {
    const old = previous.object
    const data: Record<string, string> = {}
    for (const [key, value] of Object.entries(old.data ?? {})) {
      if (!(SECRET_KEYS as readonly string[]).includes(key)) data[key] = value
    }
    const annotations = { ...old.metadata?.annotations }
    delete annotations[PHASE_ANNOTATION]
    delete annotations[SINCE_ANNOTATION]
    const metadata = {
      ...old.metadata,
      name: this.name,
      namespace: this.namespace,
      resourceVersion: previous.resourceVersion,
      labels: { ...old.metadata?.labels, [MANAGED_BY_LABEL]: MANAGED_BY },
      annotations: { ...annotations, ...secretAnnotations(content) },
    }
    // Left out, the API server keeps the managed fields as they are.
    delete metadata.managedFields
    const body: V1Secret = {
      ...old,
      apiVersion: 'v1',
      kind: 'Secret',
      metadata,
      type: old.type ?? SECRET_TYPE,
      data: { ...data, ...encode(secretTexts(content)) },
    }
    delete body.stringData
    const replaced = await this.core.replaceNamespacedSecret({ name: this.name, namespace: this.namespace, body })
    return replaced.metadata?.resourceVersion ?? ''
  }
}

function decode (object: V1Secret): RawSecret {
  const data: Record<string, string> = {}
  for (const [key, value] of Object.entries(object.data ?? {})) data[key] = Buffer.from(value, 'base64').toString('utf8')
  return { data, annotations: { ...object.metadata?.annotations } }
}

function encode (texts: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(texts).map(([key, text]) => [key, Buffer.from(text, 'utf8').toString('base64')]))
}
