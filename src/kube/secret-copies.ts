/**
 * The secret distributor's API calls: read a source, create, update and
 * delete a copy, and list the copies pullguard manages.
 *
 * Credentials pass through here and nowhere else: a source's data is read
 * with a GET when copies need writing, kept in a SourceReads map for the one
 * round that writes them, and dropped with it. Errors carry only what
 * apiErrorOf() keeps (status code, reason, the Status message, which the API
 * server words without object data), never a request or response body.
 *
 * Every write is conditional, so pullguard only ever changes what it just
 * saw as its own: an update is a PUT of the copy read a moment before
 * (resourceVersion: 409 Conflict if it changed since), made only if that read
 * still shows pullguard's label and annotation; a delete carries the uid and
 * resourceVersion it was decided on as DeleteOptions.preconditions (409
 * Conflict otherwise: storage.Preconditions.Check, apiserver
 * pkg/storage/interfaces.go).
 */
import { CoreV1Api, type KubeConfig, type V1Secret } from '@kubernetes/client-node'
import { refText, type SecretRef } from '../config/distribution.js'
import { PullguardError } from '../errors.js'
import { MANAGED_BY, MANAGED_BY_LABEL } from '../cluster/managed-by.js'
import { copyBody, observeSecret, type ObservedSecret } from '../distribution/copy.js'
import { isPullSecretType } from '../cluster/pull-secret.js'
import { apiErrorOf, type ApiErrorInfo } from './api-error.js'
import { ApiGetError, getListPage } from './api-get.js'

export type CopyOperation = 'create' | 'update' | 'delete' | 'get-source' | 'list'

/** A failed call, with only what is safe to log. */
export class CopyApiError extends PullguardError {
  override name = 'CopyApiError'
  constructor (readonly operation: CopyOperation, readonly info: ApiErrorInfo, what: string) {
    super('PG_SECRET_COPY_FAILED', `cannot ${operation === 'get-source' ? 'get source' : operation} ${what}: ${info.code === undefined ? '' : `${info.code} `}${info.message}`)
  }

  /**
   * 403 from RBAC (`... is forbidden: User "..." cannot create resource
   * "secrets" ...`), which refuses every write alike; not a 403 of a quota,
   * an admission webhook or a namespace being terminated, which refuse one.
   */
  get forbidden (): boolean {
    return this.info.code === 403 && / cannot \w+ resource /.test(this.info.message)
  }

  /** Someone wrote first: 409 Conflict or AlreadyExists. */
  get conflict (): boolean {
    return this.info.code === 409
  }
}

/** The sources read in one round; dropped (and their data with them) when the round ends. */
export type SourceReads = Map<string, V1Secret | undefined>

/** What a write came to; thrown errors are CopyApiErrors. */
type WriteOutcome = 'written' | 'skipped'

// The list of copies is paged like the informers' lists (client-go's pager default).
const PAGE_SIZE = 500
const LIST_TIMEOUT_MS = 60_000
const FIELD_MANAGER = 'pullguard'

export class SecretCopies {
  private readonly core: CoreV1Api

  constructor (private readonly kubeConfig: KubeConfig) {
    this.core = kubeConfig.makeApiClient(CoreV1Api)
  }

  /** The source's type and data, read once per round; undefined when it is gone or not a pull Secret. */
  async source (ref: SecretRef, reads: SourceReads): Promise<V1Secret | undefined> {
    const key = refText(ref)
    if (reads.has(key)) return reads.get(key)
    let secret: V1Secret | undefined
    try {
      secret = await this.core.readNamespacedSecret({ name: ref.name, namespace: ref.namespace })
    } catch (err) {
      const info = apiErrorOf(err)
      if (info.code !== 404) throw new CopyApiError('get-source', info, `Secret ${key}`)
    }
    const usable = secret !== undefined && isPullSecretType(secret.type ?? '') ? { type: secret.type, data: secret.data } : undefined
    reads.set(key, usable)
    return usable
  }

  async create (target: { namespace: string, name: string }, from: SecretRef, source: V1Secret): Promise<WriteOutcome> {
    try {
      await this.core.createNamespacedSecret({ namespace: target.namespace, body: copyBody(target, refText(from), source) as V1Secret, fieldManager: FIELD_MANAGER })
    } catch (err) {
      const info = apiErrorOf(err)
      // The namespace is gone or being deleted: nothing to keep there.
      if ((info.code === 404 && info.reason === 'NotFound') || terminating(info)) return 'skipped'
      throw new CopyApiError('create', info, `Secret ${target.namespace}/${target.name}`)
    }
    return 'written'
  }

  /** Rewrites a copy from the source; skipped when it is gone or no longer pullguard's. An immutable copy is deleted instead (recreated next round). */
  async update (target: { namespace: string, name: string }, from: SecretRef, source: V1Secret): Promise<WriteOutcome> {
    const what = `Secret ${target.namespace}/${target.name}`
    let current: V1Secret
    try {
      current = await this.core.readNamespacedSecret({ name: target.name, namespace: target.namespace })
    } catch (err) {
      const info = apiErrorOf(err)
      if (info.code === 404) return 'skipped'
      throw new CopyApiError('update', info, what)
    }
    const seen = observeSecret(current as never)
    if (!seen.managed) return 'skipped'
    if (current.immutable === true || seen.type !== source.type) return await this.delete(seen)
    try {
      await this.core.replaceNamespacedSecret({ name: target.name, namespace: target.namespace, body: copyBody(target, refText(from), source, current) as V1Secret, fieldManager: FIELD_MANAGER })
    } catch (err) {
      throw new CopyApiError('update', apiErrorOf(err), what)
    }
    return 'written'
  }

  /** Deletes the copy exactly as it was observed (uid and resourceVersion preconditions). */
  async delete (copy: ObservedSecret): Promise<WriteOutcome> {
    try {
      await this.core.deleteNamespacedSecret({
        name: copy.name,
        namespace: copy.namespace,
        body: { preconditions: { uid: copy.uid, resourceVersion: copy.resourceVersion } },
      })
    } catch (err) {
      const info = apiErrorOf(err)
      if (info.code === 404) return 'skipped'
      throw new CopyApiError('delete', info, `Secret ${copy.namespace}/${copy.name}`)
    }
    return 'written'
  }

  /**
   * Every copy pullguard manages in the cluster (label selector, paged),
   * to find those of names no entry distributes any more. Each item is
   * reduced to an ObservedSecret as it is read.
   */
  async listManaged (): Promise<ObservedSecret[]> {
    const found: ObservedSecret[] = []
    let token: string | undefined
    const controller = new AbortController()
    const timer = setTimeout(() => controller.abort(), LIST_TIMEOUT_MS)
    timer.unref()
    try {
      do {
        const page = await getListPage(this.kubeConfig, '/api/v1/secrets', {
          labelSelector: `${MANAGED_BY_LABEL}=${MANAGED_BY}`, limit: PAGE_SIZE, continue: token,
        }, controller.signal)
        const { items } = page
        for (let i = 0; i < items.length; i++) {
          const seen = observeSecret((items[i] ?? {}) as never)
          items[i] = undefined
          if (seen.managed) found.push(seen)
        }
        token = page.metadata.continue
      } while (token !== undefined && token !== '')
    } catch (err) {
      const e = err as { code?: unknown, reason?: unknown, message?: unknown }
      const status = err instanceof ApiGetError ? err.status : e.code
      const info = { code: typeof status === 'number' ? status : undefined, reason: typeof e.reason === 'string' ? e.reason : undefined, message: String(e.message ?? 'list failed').slice(0, 300) }
      throw new CopyApiError('list', info, 'the Secrets labelled app.kubernetes.io/managed-by=pullguard')
    } finally {
      clearTimeout(timer)
    }
    return found
  }
}

/** NamespaceLifecycle admission: "unable to create new content in namespace X because it is being terminated" (403). */
function terminating (info: ApiErrorInfo): boolean {
  return info.code === 403 && /because it is being terminated/.test(info.message)
}
