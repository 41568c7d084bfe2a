/**
 * An in-process Kubernetes API server double over real HTTP (127.0.0.1) that
 * speaks the real list/watch protocol, for driving pullguard's informers
 * (src/kube/reflector.ts), client-node's ListWatch and
 * CoreV1Api/AdmissionregistrationV1Api for real. Not a mock of pullguard.
 *
 * Mirrored from kube-apiserver (see api-server-double.test.ts for proof):
 * - one global, increasing resourceVersion (etcd's revision); lists carry it
 *   in metadata and their items carry no kind/apiVersion (kubernetes#3030);
 *   gets, write answers and watch events do;
 * - watch: chunked NDJSON, headers flushed at once; events after the given
 *   RV from a bounded history (the watch cache); an RV older than the history
 *   gets a 200 stream whose only event is ERROR Status 410 Expired
 *   "too old resource version: RV (OLDEST-1)" (the cacher's newErrWatcher),
 *   or, with `expiredWatch: 'http'`, an HTTP 410; an RV newer than the store
 *   gets "Too large resource version" 504 after the cacher's 3 s wait. RV
 *   unset or "0" starts with synthetic ADDED events for the current state;
 * - selectors on watches as cacheWatcher.convertToWatchEvent: an object that
 *   stops matching arrives as DELETED (old content, the event's RV), one that
 *   starts matching as ADDED; DELETED carries the last state with the delete's RV;
 * - BOOKMARK (only with allowWatchBookmarks=true): kind, apiVersion and
 *   metadata.resourceVersion only; sendInitialEvents adds the
 *   k8s.io/initial-events-end annotation; one 2 s before timeoutSeconds ends
 *   the watch (cacheWatcher.nextBookmarkTime), periodic ones with
 *   bookmarkIntervalMs (the cacher's are about a minute apart);
 * - lists as cacher.go shouldDelegateList routes them: without a limit, or
 *   with resourceVersion "0", the watch cache answers in one piece (limit
 *   ignored); with a limit otherwise, etcd pages (etcd3/store.go GetList):
 *   keys in order, filtered until `limit` match, `continue` (storage/
 *   continue.go: base64url {"v","rv","start"}) whenever keys remain, every
 *   page at the first page's revision (writes between pages do not show),
 *   remainingItemCount without selectors; RV "" reads the latest revision,
 *   RV N exactly N (410 "The resourceVersion for the provided list is too
 *   old." once compacted); a continue token whose revision was compacted is
 *   410 Expired carrying a token at rv -1 that continues at the latest
 *   revision; continue with a resourceVersion, or a bad token, is 400;
 * - writes: POST 201 (409 AlreadyExists; 500 if metadata.resourceVersion is
 *   set), PUT with optimistic concurrency (409 Conflict; no RV: unconditional;
 *   a no-op update writes nothing), merge and JSON patch, DELETE answering a
 *   Success Status (a Namespace answers itself, Terminating, after its
 *   contents are deleted) unless DeleteOptions.preconditions (uid,
 *   resourceVersion) fail (409 Conflict); Secret type defaults to Opaque, stringData folds
 *   into data, type is immutable (422); an immutable Secret or ConfigMap
 *   keeps its data (422); ConfigMap keys and the 1 MiB data limit (422);
 *   Lease (coordination.k8s.io/v1): durations > 0 and transitions >= 0
 *   (422), MicroTimes decoded strictly with six fraction digits (else 400,
 *   as metav1.MicroTime) and written back in UTC; webhook defaults and
 *   generation;
 * - errors are Status objects: 400, 401, 403 (RBAC wording), 404, 405, 409,
 *   410, 415, 422, 500, 504; unsupported field selectors are 400.
 * Simplified: no resourceVersionMatch, no strategic-merge or apply patches
 * (415), no deletecollection (405), history is one buffer for all resources
 * and stands for both the watch cache and etcd's compaction window (a
 * revision is readable, by a watch or a page, while every event after it is
 * in the buffer), and restart() loses it (like a restarted apiserver whose
 * watch cache is rebuilt from a fresh list) unless told not to.
 */
import { randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { posix } from 'node:path'
import { KubeConfig } from '@kubernetes/client-node'
import jsonpatch, { type Operation } from 'fast-json-patch'

export type Resource = 'namespaces' | 'secrets' | 'serviceaccounts' | 'configmaps' | 'leases' | 'mutatingwebhookconfigurations' | 'validatingwebhookconfigurations'
export type Verb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete'
export interface Meta { name?: string, generateName?: string, namespace?: string, uid?: string, resourceVersion?: string, generation?: number, creationTimestamp?: string, labels?: Record<string, string>, annotations?: Record<string, string>, [field: string]: unknown }

export interface KObject { apiVersion?: string, kind?: string, metadata: Meta, [field: string]: any }
export interface Status { kind: 'Status', apiVersion: 'v1', metadata: { continue?: string }, status: 'Success' | 'Failure', message?: string, reason?: string, details?: Record<string, unknown>, code?: number }
export interface RequestRecord { method: string, path: string, query: Record<string, string>, verb?: Verb, resource?: Resource, namespace?: string, name?: string, status?: number }
export interface ApiServerDoubleOptions {
  port?: number // 0 (default): a free port, kept across restart()
  token?: string | false // the bearer token required (default 'double-token'); false: no authentication
  user?: string // the user named in 403 messages
  historyLimit?: number // watch history, in events (default 1000)
  expiredWatch?: 'event' | 'http' // how a watch from a compacted RV is refused (default 'event', as the watch cache does)
  bookmarkIntervalMs?: number // also send bookmarks periodically (default: only on bookmark())
  namespaceLifecycle?: boolean // 404 on creating into a missing namespace (default false)
}

export class StatusError extends Error {
  constructor (readonly status: Status) { super(status.message); this.name = 'StatusError' }
  get code (): number { return this.status.code ?? 500 }
}

interface Def { group: string, kind: string, namespaced: boolean, fields: readonly string[] }
const ADMISSION = 'admissionregistration.k8s.io'
const DEFS: Record<Resource, Def> = {
  namespaces: { group: '', kind: 'Namespace', namespaced: false, fields: ['metadata.name', 'status.phase'] },
  secrets: { group: '', kind: 'Secret', namespaced: true, fields: ['metadata.name', 'metadata.namespace', 'type'] },
  serviceaccounts: { group: '', kind: 'ServiceAccount', namespaced: true, fields: ['metadata.name', 'metadata.namespace'] },
  configmaps: { group: '', kind: 'ConfigMap', namespaced: true, fields: ['metadata.name', 'metadata.namespace'] },
  leases: { group: 'coordination.k8s.io', kind: 'Lease', namespaced: true, fields: ['metadata.name', 'metadata.namespace'] },
  mutatingwebhookconfigurations: { group: ADMISSION, kind: 'MutatingWebhookConfiguration', namespaced: false, fields: ['metadata.name', 'metadata.namespace'] },
  validatingwebhookconfigurations: { group: ADMISSION, kind: 'ValidatingWebhookConfiguration', namespaced: false, fields: ['metadata.name', 'metadata.namespace'] },
}
const NAMESPACED = (Object.keys(DEFS) as Resource[]).filter((r) => DEFS[r].namespaced)
const isResource = (name: string): name is Resource => Object.hasOwn(DEFS, name)
const apiVersionOf = (def: Def): string => def.group === '' ? 'v1' : `${def.group}/v1`
const qualified = (r: Resource): string => DEFS[r].group === '' ? r : `${r}.${DEFS[r].group}`
const detailsOf = (r: Resource, name?: string): Record<string, unknown> =>
  ({ ...(name ? { name } : {}), ...(DEFS[r].group ? { group: DEFS[r].group } : {}), kind: r })
const keyOf = (r: Resource, namespace: string | undefined, name: string): string => `${r}/${namespace ?? ''}/${name}`
const clone = <T>(value: T): T => structuredClone(value)
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)
const canon = (v: unknown): unknown => Array.isArray(v)
  ? v.map(canon)
  : isObject(v) ? Object.fromEntries(Object.keys(v).sort().filter((k) => v[k] !== undefined).map((k) => [k, canon(v[k])])) : v
const same = (a: unknown, b: unknown): boolean => JSON.stringify(canon(a)) === JSON.stringify(canon(b))
const now = (): string => new Date().toISOString().replace(/\.\d+Z$/, 'Z')
const isTrue = (v: string | undefined): boolean => /^(1|t|true)$/i.test(v ?? '')
const suffix = (): string => Array.from({ length: 5 }, () => 'bcdfghjklmnpqrstvwxz2456789'[Math.floor(Math.random() * 27)]).join('')

function failure (code: number, reason: string, message: string, details?: Record<string, unknown>): StatusError {
  return new StatusError({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code })
}
const badRequest = (message: string): StatusError => failure(400, 'BadRequest', message)
const notFound = (r: Resource, name: string): StatusError => failure(404, 'NotFound', `${qualified(r)} "${name}" not found`, detailsOf(r, name))
const conflict = (r: Resource, name: string): StatusError => failure(409, 'Conflict',
  `Operation cannot be fulfilled on ${qualified(r)} "${name}": the object has been modified; please apply your changes to the latest version and try again`, detailsOf(r, name))
const expired = (rv: number, oldest: number): StatusError => failure(410, 'Expired', `too old resource version: ${rv} (${oldest})`)
// etcd3/store.go interpretListError: a list at a compacted revision; a continue token whose revision was compacted.
const expiredList = (): StatusError => failure(410, 'Expired', 'The resourceVersion for the provided list is too old.')
function expiredContinue (token: string): StatusError {
  const err = failure(410, 'Expired', 'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.')
  err.status.metadata.continue = token
  return err
}
const tooLarge = (rv: number, current: number): StatusError => failure(504, 'Timeout', `Timeout: Too large resource version: ${rv}, current: ${current}`,
  { causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }], retryAfterSeconds: 1 })
const internal = (message: string): StatusError => failure(500, 'InternalError', `Internal error occurred: ${message}`, { causes: [{ message }] })
interface FieldError { field: string, type: 'FieldValueInvalid' | 'FieldValueRequired' | 'FieldValueForbidden' | 'FieldValueTooLong', body: string }
function invalid (r: Resource, name: string, errs: FieldError[]): StatusError {
  const { group, kind } = DEFS[r]
  const messages = errs.map((e) => `${e.field}: ${e.body}`)
  return failure(422, 'Invalid', `${group ? `${kind}.${group}` : kind} "${name}" is invalid: ${messages.length === 1 ? messages[0] : `[${messages.join(', ')}]`}`,
    { name, ...(group ? { group } : {}), kind, causes: errs.map((e) => ({ reason: e.type, message: e.body, field: e.field })) })
}

type Pred = (obj: KObject) => boolean
function fieldValue (obj: KObject, field: string): string {
  if (field === 'metadata.name') return obj.metadata.name ?? ''
  if (field === 'metadata.namespace') return obj.metadata.namespace ?? ''
  if (field === 'status.phase') return String(obj.status?.phase ?? '')
  return String(obj[field] ?? '')
}
function fieldSelector (r: Resource, selector: string): Pred {
  const terms = selector.split(',').filter((t) => t.trim() !== '').map((term): Pred => {
    const [, key = '', op, value = ''] = /^\s*([^!=\s]+)\s*(==|=|!=)\s*(\S*)\s*$/.exec(term) ?? []
    if (op === undefined) throw badRequest(`invalid selector: '${selector}'; can't understand '${term}'`)
    if (!DEFS[r].fields.includes(key)) throw badRequest(`field label not supported: ${key}`)
    return (obj) => (fieldValue(obj, key) === value) === (op !== '!=')
  })
  return (obj) => terms.every((t) => t(obj))
}
function labelSelector (selector: string): Pred {
  type LabelPred = (labels: Record<string, string>) => boolean
  const terms = (selector.match(/(?:[^,(]|\([^)]*\))+/g) ?? []).map((t) => t.trim()).filter((t) => t !== '').map((term): LabelPred => {
    const value = (l: Record<string, string>, k: string): string | undefined => Object.hasOwn(l, k) ? l[k] : undefined
    const set = /^(\S+)\s+(in|notin)\s*\(([^)]*)\)$/.exec(term)
    if (set) {
      const [, key = '', op, list = ''] = set
      const values = list.split(',').map((v) => v.trim())
      return (l) => { const v = value(l, key); return (v !== undefined && values.includes(v)) === (op === 'in') }
    }
    const exists = /^(!?)([\w./-]+)$/.exec(term)
    if (exists) return (l) => (value(l, exists[2] ?? '') !== undefined) === (exists[1] === '')
    const eq = /^([\w./-]+)\s*(==|=|!=)\s*([\w./-]*)$/.exec(term)
    if (eq) return (l) => (value(l, eq[1] ?? '') === eq[3]) === (eq[2] !== '!=')
    throw badRequest(`unable to parse requested label selector: ${selector}`)
  })
  return (obj) => terms.every((t) => t(obj.metadata.labels ?? {}))
}
function mergePatch (target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return clone(patch)
  const out: Record<string, unknown> = isObject(target) ? { ...target } : {}
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k]
    else out[k] = mergePatch(out[k], v)
  }
  return out
}
/**
 * storage/continue.go: base64url (no padding) of {"v","rv","start"}, the
 * start key relative to the list's key prefix. rv -1: continue at the latest
 * revision (the token in an inconsistent-continue 410).
 */
function encodeContinue (key: string, prefix: string, rv: number): string {
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv, start: key.slice(prefix.length) })).toString('base64url')
}
function decodeContinue (token: string, prefix: string): { start: string, rv: number } {
  let c: { v?: unknown, rv?: unknown, start?: unknown }
  try { c = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) } catch { throw badRequest('invalid continue token: continue key is not valid') }
  if (c?.v !== 'meta.k8s.io/v1') throw badRequest(`invalid continue token: server does not recognize this encoded version "${String(c?.v)}"`)
  if (typeof c.rv !== 'number' || c.rv === 0) throw badRequest('invalid continue token: continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)')
  if (typeof c.start !== 'string' || c.start === '') throw badRequest('invalid continue token: continue key is not valid: encoded start key empty (version meta.k8s.io/v1)')
  const key = c.start.startsWith('/') ? c.start : `/${c.start}`
  if (posix.normalize(key).replace(/(.)\/$/, '$1') !== key) throw badRequest(`invalid continue token: continue key is not valid: ${c.start}`)
  return { start: prefix + key.slice(1), rv: c.rv }
}
/** The index of the first key >= `key` in sorted `keys`. */
function lowerBound (keys: readonly string[], key: string): number {
  let lo = 0
  let hi = keys.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if ((keys[mid] as string) < key) lo = mid + 1
    else hi = mid
  }
  return lo
}
function reply (res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) })
  res.end(text)
}
function send (res: ServerResponse, type: string, object: unknown): void {
  if (!res.destroyed && !res.writableEnded) res.write(JSON.stringify({ type, object }) + '\n')
}

type EventType = 'ADDED' | 'MODIFIED' | 'DELETED'
interface HistoryEvent { rv: number, resource: Resource, type: EventType, object: KObject, prev?: KObject }
interface Watcher { resource: Resource, matches: Pred, bookmarks: boolean, res: ServerResponse, timer?: NodeJS.Timeout, bookmarkTimer?: NodeJS.Timeout }

export class ApiServerDouble {
  /** Every request received, in order (method, path, query, and what it was taken for). */
  readonly requests: RequestRecord[] = []
  expiredWatch: 'event' | 'http'
  /** Test instrumentation, not API behaviour: called as each request arrives, before it is served (say, to compact between two pages). */
  onRequest: ((request: RequestRecord) => void) | undefined
  private readonly objects = new Map<string, KObject>()
  /** Every key of a resource, sorted (etcd's key order); dropped when a key comes or goes. */
  private readonly sortedKeys = new Map<Resource, string[]>()
  private history: HistoryEvent[] = []
  private rv = 1
  private oldest = 1 // the oldest RV a watch may resume from (the watch cache's "oldest - 1")
  private readonly watchers = new Set<Watcher>()
  private readonly sockets = new Set<Socket>()
  private readonly denied = new Set<string>()
  private server: Server | undefined
  private ticker: NodeJS.Timeout | undefined
  private port: number
  private readonly token: string | false

  constructor (private readonly options: ApiServerDoubleOptions = {}) {
    this.port = options.port ?? 0
    this.token = options.token ?? 'double-token'
    this.expiredWatch = options.expiredWatch ?? 'event'
  }

  get url (): string { return `http://127.0.0.1:${this.port}` }
  /** The current (latest written) resourceVersion. */
  get resourceVersion (): string { return String(this.rv) }

  async start (): Promise<{ url: string }> {
    if (this.server) return { url: this.url }
    const server = createServer((req, res) => { void this.handle(req, res) })
    server.on('connection', (socket) => { this.sockets.add(socket); socket.on('close', () => this.sockets.delete(socket)) })
    await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(this.port, '127.0.0.1', resolve) })
    this.server = server
    this.port = (server.address() as AddressInfo).port
    if (this.options.bookmarkIntervalMs) this.ticker = setInterval(() => this.bookmark(), this.options.bookmarkIntervalMs).unref()
    return { url: this.url }
  }

  /** An outage: stops listening and destroys every connection, open watches included. */
  async stop (): Promise<void> {
    const server = this.server
    if (!server) return
    this.server = undefined
    clearInterval(this.ticker)
    const closed = new Promise<void>((resolve) => server.close(() => resolve()))
    for (const socket of this.sockets) socket.destroy()
    await closed
  }

  /** Comes back on the same port. Unless keepHistory, older RVs then get 410, as from a restarted apiserver's fresh watch cache. */
  async restart (options: { keepHistory?: boolean } = {}): Promise<{ url: string }> {
    await this.stop()
    if (options.keepHistory !== true) this.compact()
    return await this.start()
  }

  /** Drops the watch history: watches from any RV before now get 410 Expired. */
  compact (): void { this.history = []; this.oldest = this.rv }
  /** Destroys open watch connections mid-stream (no terminating chunk). Returns how many. */
  dropWatches (): number { return this.closeWatches((w) => w.res.socket?.destroy()) }
  /** Ends open watches cleanly, as the apiserver's request timeout does. Returns how many. */
  endWatches (): number { return this.closeWatches((w) => w.res.end()) }
  /** Sends a BOOKMARK at the current RV to every watch that allowed bookmarks. Returns how many. */
  bookmark (): number {
    let sent = 0
    for (const w of this.watchers) if (w.bookmarks) { send(w.res, 'BOOKMARK', this.bookmarkObject(w.resource)); sent++ }
    return sent
  }

  watchCount (resource?: Resource): number { return [...this.watchers].filter((w) => resource === undefined || w.resource === resource).length }
  /** RBAC denial for verbs on a resource (no verbs: all of them) until allow(). */
  deny (resource: Resource, ...verbs: Verb[]): void { for (const v of verbs.length > 0 ? verbs : ['*']) this.denied.add(`${resource}/${v}`) }
  allow (resource?: Resource, ...verbs: Verb[]): void {
    for (const key of [...this.denied]) if (resource === undefined || (key.startsWith(`${resource}/`) && (verbs.length === 0 || verbs.some((v) => key === `${resource}/${v}`)))) this.denied.delete(key)
  }

  kubeConfig (token: string | undefined = this.token === false ? undefined : this.token): KubeConfig {
    const kc = new KubeConfig()
    kc.loadFromOptions({
      clusters: [{ name: 'double', server: this.url, skipTLSVerify: true }],
      users: [{ name: 'double', ...(token === undefined ? {} : { token }) }],
      contexts: [{ name: 'double', cluster: 'double', user: 'double' }],
      currentContext: 'double',
    })
    return kc
  }

  get (resource: Resource, name: string, namespace?: string): KObject {
    const obj = this.objects.get(keyOf(resource, this.nsFor(resource, namespace), name))
    if (!obj) throw notFound(resource, name)
    return clone(obj)
  }

  list (resource: Resource, namespace?: string): KObject[] {
    return this.select(resource, (o) => namespace === undefined || o.metadata.namespace === namespace).map(clone)
  }

  create (resource: Resource, body: KObject, namespace?: string): KObject {
    const obj: KObject = { ...clone(body), metadata: { ...clone(body.metadata ?? {}) } }
    const meta = this.scope(resource, obj.metadata, namespace)
    if (meta.resourceVersion) throw internal('resourceVersion should not be set on objects to be created')
    if (!meta.name) {
      if (!meta.generateName) throw invalid(resource, '', [{ field: 'metadata.name', type: 'FieldValueRequired', body: 'Required value: name or generateName is required' }])
      meta.name = meta.generateName + suffix()
    }
    if (this.options.namespaceLifecycle === true && DEFS[resource].namespaced && !this.objects.has(keyOf('namespaces', '', meta.namespace ?? ''))) throw notFound('namespaces', meta.namespace ?? '')
    if (this.objects.has(keyOf(resource, meta.namespace, meta.name))) throw failure(409, 'AlreadyExists', `${qualified(resource)} "${meta.name}" already exists`, detailsOf(resource, meta.name))
    Object.assign(meta, { uid: randomUUID(), creationTimestamp: now() }, resource.endsWith('webhookconfigurations') ? { generation: 1 } : {})
    const created = this.normalize(resource, obj)
    validateObject(resource, created)
    return this.commit(resource, 'ADDED', created)
  }

  update (resource: Resource, body: KObject, namespace?: string, urlName?: string): KObject {
    const obj: KObject = { ...clone(body), metadata: { ...clone(body.metadata ?? {}) } }
    const meta = this.scope(resource, obj.metadata, namespace)
    const name = meta.name ?? ''
    if (urlName !== undefined && name !== urlName) throw badRequest(`the name of the object (${name}) does not match the name on the URL (${urlName})`)
    const old = this.objects.get(keyOf(resource, meta.namespace, name))
    if (!old) throw notFound(resource, name)
    if (meta.resourceVersion && meta.resourceVersion !== old.metadata.resourceVersion) throw conflict(resource, name)
    if (meta.uid && meta.uid !== old.metadata.uid) throw invalid(resource, name, [{ field: 'metadata.uid', type: 'FieldValueInvalid', body: `Invalid value: "${meta.uid}": field is immutable` }])
    const { uid, creationTimestamp, resourceVersion, generation } = old.metadata
    Object.assign(meta, { uid, creationTimestamp, resourceVersion })
    const next = this.normalize(resource, obj, old)
    validateObject(resource, next)
    if (resource === 'secrets' || resource === 'configmaps') validateDataUpdate(resource, next, old)
    const { metadata: _m1, ...content } = next
    const { metadata: _m2, ...oldContent } = old
    if (generation !== undefined) next.metadata.generation = same(content, oldContent) ? generation : generation + 1
    if (same(next, old)) return clone(old) // a no-op update writes nothing: same RV, no event
    return this.commit(resource, 'MODIFIED', next, old)
  }

  patch (resource: Resource, name: string, patch: unknown, type: 'merge' | 'json' = 'merge', namespace?: string): KObject {
    const old = this.objects.get(keyOf(resource, this.nsFor(resource, namespace), name))
    if (!old) throw notFound(resource, name)
    let patched: unknown
    if (type === 'merge') {
      if (!isObject(patch)) throw badRequest('a merge patch must be a JSON object')
      patched = mergePatch(clone(old), patch)
    } else {
      if (!Array.isArray(patch)) throw badRequest('a JSON patch must be a JSON array of operations')
      try {
        patched = jsonpatch.applyPatch(clone(old), patch as Operation[], true).newDocument
      } catch (err) {
        throw failure(422, 'Invalid', 'the server rejected our request due to an error in our request', { causes: [{ message: (err as Error).message }] })
      }
    }
    if (!isObject(patched) || !isObject(patched.metadata)) throw badRequest('the patch removed metadata')
    return this.update(resource, patched as KObject, old.metadata.namespace, name)
  }

  /**
   * DELETE: answers a Success Status (a Namespace answers itself, Terminating).
   * DeleteOptions.preconditions (uid, resourceVersion) must hold, else 409
   * Conflict worded as storage.Preconditions.Check wrapped by
   * storeerr.InterpretDeleteError (apiserver pkg/storage/interfaces.go, errors/storage.go).
   */
  remove (resource: Resource, ref: string | KObject, namespace?: string, preconditions?: { uid?: string, resourceVersion?: string }): Status | KObject {
    const name = typeof ref === 'string' ? ref : ref.metadata.name ?? ''
    const ns = this.nsFor(resource, namespace ?? (typeof ref === 'string' ? undefined : ref.metadata.namespace))
    const key = keyOf(resource, ns, name)
    const old = this.objects.get(key)
    if (!old) throw notFound(resource, name)
    const failed = preconditions?.uid !== undefined && preconditions.uid !== old.metadata.uid
      ? `UID in precondition: ${preconditions.uid}, UID in object meta: ${old.metadata.uid ?? ''}`
      : preconditions?.resourceVersion !== undefined && preconditions.resourceVersion !== old.metadata.resourceVersion
        ? `ResourceVersion in precondition: ${preconditions.resourceVersion}, ResourceVersion in object meta: ${old.metadata.resourceVersion ?? ''}`
        : undefined
    if (failed !== undefined) {
      const storageKey = `/registry/${resource}/${DEFS[resource].namespaced ? `${ns}/` : ''}${name}`
      throw failure(409, 'Conflict', `Operation cannot be fulfilled on ${qualified(resource)} "${name}": StorageError: invalid object, Code: 4, Key: ${storageKey}, ` +
        `ResourceVersion: 0, AdditionalErrorMsg: Precondition failed: ${failed}`, detailsOf(resource, name))
    }
    let answer: Status | KObject = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { ...detailsOf(resource, name), uid: old.metadata.uid } }
    if (resource === 'namespaces') { // the namespace controller, compressed: Terminating, contents deleted, then gone
      answer = this.commit(resource, 'MODIFIED', { ...clone(old), metadata: { ...clone(old.metadata), deletionTimestamp: now() }, status: { phase: 'Terminating' } }, old)
      for (const r of NAMESPACED) for (const o of this.select(r, (o) => o.metadata.namespace === name)) this.remove(r, o)
    }
    const last = this.objects.get(key) ?? old
    this.commit(resource, 'DELETED', clone(last), last)
    return answer
  }

  private nsFor (resource: Resource, namespace: string | undefined): string {
    return DEFS[resource].namespaced ? namespace ?? 'default' : ''
  }

  private scope (resource: Resource, meta: Meta, namespace: string | undefined): Meta {
    if (!DEFS[resource].namespaced) { delete meta.namespace; return meta }
    if (namespace !== undefined && meta.namespace && meta.namespace !== namespace) throw badRequest('the namespace of the provided object does not match the namespace sent on the request')
    meta.namespace = namespace ?? meta.namespace ?? 'default'
    return meta
  }

  private normalize (resource: Resource, obj: KObject, old?: KObject): KObject {
    const def = DEFS[resource]
    const { kind: _kind, apiVersion: _apiVersion, ...rest } = obj
    const out: KObject = { kind: def.kind, apiVersion: apiVersionOf(def), ...rest }
    if (resource === 'secrets') {
      out.type ||= 'Opaque'
      if (isObject(out.stringData)) {
        const encoded = Object.entries(out.stringData).map(([k, v]) => [k, Buffer.from(String(v)).toString('base64')])
        out.data = { ...out.data, ...Object.fromEntries(encoded) }
      }
      delete out.stringData
    } else if (resource === 'leases' && isObject(out.spec)) {
      // MicroTime is written back as UTC with exactly six fraction digits (metav1.MicroTime.MarshalJSON).
      for (const field of ['acquireTime', 'renewTime']) {
        if (typeof out.spec[field] === 'string') out.spec[field] = microTimeUtc(leaseField(out.spec[field], field))
      }
    } else if (resource === 'namespaces') {
      out.metadata.labels = { ...out.metadata.labels, 'kubernetes.io/metadata.name': out.metadata.name ?? '' }
      out.spec = old ? clone(old.spec) : { ...out.spec, finalizers: ['kubernetes'] }
      out.status = old ? clone(old.status) : { phase: 'Active' }
    } else if (Array.isArray(out.webhooks)) {
      for (const hook of out.webhooks) {
        const defaults = { failurePolicy: 'Fail', matchPolicy: 'Equivalent', namespaceSelector: {}, objectSelector: {}, timeoutSeconds: 10, ...(resource === 'mutatingwebhookconfigurations' ? { reinvocationPolicy: 'Never' } : {}) }
        for (const [k, v] of Object.entries(defaults)) hook[k] ??= v
        if (isObject(hook.clientConfig?.service)) hook.clientConfig.service.port ??= 443
        for (const rule of Array.isArray(hook.rules) ? hook.rules : []) rule.scope ??= '*'
      }
    }
    return out
  }

  private commit (resource: Resource, type: EventType, object: KObject, prev?: KObject): KObject {
    object.metadata.resourceVersion = String(++this.rv)
    const key = keyOf(resource, object.metadata.namespace, object.metadata.name ?? '')
    if (type === 'DELETED' || !this.objects.has(key)) this.sortedKeys.delete(resource)
    if (type === 'DELETED') this.objects.delete(key)
    else this.objects.set(key, object)
    const event: HistoryEvent = { rv: this.rv, resource, type, object, ...(prev ? { prev } : {}) }
    this.history.push(event)
    while (this.history.length > (this.options.historyLimit ?? 1000)) this.oldest = this.history.shift()?.rv ?? this.oldest
    for (const w of this.watchers) if (w.resource === resource) this.deliver(w, event)
    return clone(object)
  }

  // cacheWatcher.convertToWatchEvent
  private deliver (w: Watcher, e: HistoryEvent): void {
    const cur = e.type !== 'DELETED' && w.matches(e.object)
    const old = e.prev !== undefined && w.matches(e.prev)
    if (cur) send(w.res, old ? 'MODIFIED' : 'ADDED', e.object)
    else if (old && e.prev) send(w.res, 'DELETED', { ...e.prev, metadata: { ...e.prev.metadata, resourceVersion: String(e.rv) } })
  }

  private select (resource: Resource, matches: Pred): KObject[] {
    return this.keysOf(resource).map((k) => this.objects.get(k) as KObject).filter(matches)
  }

  private keysOf (resource: Resource): string[] {
    let keys = this.sortedKeys.get(resource)
    if (keys === undefined) {
      const prefix = `${resource}/`
      keys = [...this.objects.keys()].filter((k) => k.startsWith(prefix)).sort()
      this.sortedKeys.set(resource, keys)
    }
    return keys
  }

  /**
   * The resource as it was at `rv` (etcd's MVCC read at a revision): the
   * current objects with every later event undone. Needs every event after
   * `rv`, that is rv >= oldest; the caller checks.
   */
  private viewAt (resource: Resource, rv: number): { keys: readonly string[], get: (key: string) => KObject | undefined } {
    const keys = this.keysOf(resource)
    if (rv >= this.rv) return { keys, get: (k) => this.objects.get(k) }
    const before = new Map<string, KObject | undefined>()
    for (let i = this.history.length - 1; i >= 0; i--) {
      const e = this.history[i] as HistoryEvent
      if (e.rv <= rv) break
      if (e.resource === resource) before.set(keyOf(resource, e.object.metadata.namespace, e.object.metadata.name ?? ''), e.type === 'ADDED' ? undefined : e.prev)
    }
    const gone = [...before.keys()].filter((k) => !this.objects.has(k))
    return { keys: gone.length === 0 ? keys : [...keys, ...gone].sort(), get: (k) => before.has(k) ? before.get(k) : this.objects.get(k) }
  }

  /**
   * One page of a list served the way etcd3/store.go GetList does: keys in
   * order from `start`, filtered, until `limit` match; `continue` names the
   * key after the last one examined, at the same revision, whenever any key
   * is left (so a last page can be empty); remainingItemCount only without
   * selectors.
   */
  private servePage (res: ServerResponse, resource: Resource, prefix: string, matches: Pred, selected: boolean, rv: number, start: string, limit: number): void {
    const def = DEFS[resource]
    const { keys, get } = this.viewAt(resource, rv)
    const items: KObject[] = []
    let i = lowerBound(keys, start)
    let lastKey: string | undefined
    let hasMore = false
    for (; i < keys.length && (keys[i] as string).startsWith(prefix); i++) {
      if (items.length >= limit) { hasMore = true; break }
      const key = keys[i] as string
      lastKey = key
      const obj = get(key)
      if (obj !== undefined && matches(obj)) {
        const { kind: _kind, apiVersion: _apiVersion, ...item } = obj
        items.push(item)
      }
    }
    const metadata: Record<string, unknown> = { resourceVersion: String(rv) }
    if (hasMore && lastKey !== undefined) {
      metadata.continue = encodeContinue(`${lastKey}\u0000`, prefix, rv)
      if (!selected) {
        let end = i
        while (end < keys.length && (keys[end] as string).startsWith(prefix)) end++
        metadata.remainingItemCount = end - i
      }
    }
    reply(res, 200, { kind: `${def.kind}List`, apiVersion: apiVersionOf(def), metadata, items })
  }

  private bookmarkObject (resource: Resource, annotations?: Record<string, string>): KObject {
    const def = DEFS[resource]
    return { kind: def.kind, apiVersion: apiVersionOf(def), metadata: { resourceVersion: String(this.rv), ...(annotations ? { annotations } : {}) } }
  }

  private closeWatches (close: (w: Watcher) => void): number {
    const open = [...this.watchers]
    for (const w of open) { this.watchers.delete(w); clearTimeout(w.timer); clearTimeout(w.bookmarkTimer); close(w) }
    return open.length
  }

  private parseRv (raw: string | undefined): number | undefined {
    if (raw === undefined || raw === '' || raw === '0') return undefined
    if (!/^\d+$/.test(raw)) throw badRequest(`resourceVersion: Invalid value: "${raw}": invalid resource version`)
    return Number(raw)
  }

  private serveWatch (res: ServerResponse, resource: Resource, matches: Pred, query: Record<string, string>): void {
    const from = this.parseRv(query.resourceVersion)
    if (from !== undefined && from < this.oldest && this.expiredWatch === 'http') throw expired(from, this.oldest)
    res.writeHead(200, { 'Content-Type': 'application/json' })
    res.flushHeaders()
    const w: Watcher = { resource, matches, bookmarks: isTrue(query.allowWatchBookmarks), res }
    const fail = (err: StatusError): void => { send(res, 'ERROR', err.status); res.end() }
    const begin = (): void => {
      if (res.destroyed) return
      if (from === undefined) {
        for (const obj of this.select(resource, matches)) send(res, 'ADDED', obj)
        if (w.bookmarks && isTrue(query.sendInitialEvents)) send(res, 'BOOKMARK', this.bookmarkObject(resource, { 'k8s.io/initial-events-end': 'true' }))
      } else if (from < this.oldest) {
        return fail(expired(from, this.oldest))
      } else if (from > this.rv) {
        return fail(tooLarge(from, this.rv))
      } else {
        for (const e of this.history) if (e.resource === resource && e.rv > from) this.deliver(w, e)
      }
      this.watchers.add(w)
      const timeout = Number(query.timeoutSeconds)
      if (timeout > 0) w.timer = setTimeout(() => { this.watchers.delete(w); clearTimeout(w.bookmarkTimer); res.end() }, timeout * 1000)
      // cacheWatcher.nextBookmarkTime: a bookmark 2 s before the deadline, so the client resumes from as recent an RV as possible.
      if (timeout > 2 && w.bookmarks) w.bookmarkTimer = setTimeout(() => send(res, 'BOOKMARK', this.bookmarkObject(resource)), (timeout - 2) * 1000)
    }
    res.on('close', () => { clearTimeout(w.timer); clearTimeout(w.bookmarkTimer); this.watchers.delete(w) })
    if (from !== undefined && from > this.rv) w.timer = setTimeout(begin, 3000) // the cacher waits up to 3 s to catch up
    else begin()
  }

  private async handle (req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://double')
    const record: RequestRecord = { method: req.method ?? 'GET', path: url.pathname, query: Object.fromEntries(url.searchParams) }
    this.requests.push(record)
    try {
      const chunks: Buffer[] = []
      for await (const chunk of req) chunks.push(chunk as Buffer)
      this.onRequest?.(record)
      this.route(req, res, record, Buffer.concat(chunks).toString('utf8'))
    } catch (err) {
      const status = err instanceof StatusError ? err.status : internal(String(err)).status
      if (!res.headersSent) reply(res, status.code ?? 500, status)
      else res.destroy()
    }
    record.status = res.statusCode
  }

  private route (req: IncomingMessage, res: ServerResponse, record: RequestRecord, body: string): void {
    if (this.token !== false && req.headers.authorization !== `Bearer ${this.token}`) throw failure(401, 'Unauthorized', 'Unauthorized')
    const { query } = record
    const m = /^\/(?:api\/v1|apis\/([^/]+)\/v1)\/(.+)$/.exec(record.path)
    let segments = (m?.[2] ?? '').split('/').map(decodeURIComponent)
    let namespace: string | undefined
    if (segments[0] === 'namespaces' && segments.length >= 3) { namespace = segments[1]; segments = segments.slice(2) }
    const [resource = '', name, ...rest] = segments
    const def = isResource(resource) ? DEFS[resource] : undefined
    if (!m || !def || !isResource(resource) || def.group !== (m[1] ?? '') || rest.length > 0 || name === '' ||
      (namespace !== undefined && !def.namespaced) || (def.namespaced && namespace === undefined && name !== undefined)) {
      throw failure(404, 'NotFound', 'the server could not find the requested resource', {})
    }
    const watch = isTrue(query.watch)
    const verbs: Record<string, Verb> = name === undefined
      ? { GET: watch ? 'watch' : 'list', POST: 'create' }
      : { GET: watch ? 'watch' : 'get', PUT: 'update', PATCH: 'patch', DELETE: 'delete' }
    const verb = verbs[req.method ?? '']
    Object.assign(record, { verb, resource, namespace, name })
    if (!verb || (verb === 'create' && def.namespaced && namespace === undefined)) throw failure(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource', {})
    if (this.denied.has(`${resource}/${verb}`) || this.denied.has(`${resource}/*`)) {
      const where = namespace === undefined ? 'at the cluster scope' : `in the namespace "${namespace}"`
      throw failure(403, 'Forbidden', `${qualified(resource)}${name ? ` "${name}"` : ''} is forbidden: User "${this.options.user ?? 'system:serviceaccount:pullguard:pullguard'}" cannot ${verb} resource "${resource}" in API group "${def.group}" ${where}`, detailsOf(resource, name))
    }
    const parse = (): KObject => {
      let obj: KObject
      try { obj = JSON.parse(body) as KObject } catch (err) { throw badRequest(`error decoding body: ${(err as Error).message}`) }
      // Decoding comes first: a malformed MicroTime is a 400 before any 404/409/422.
      if (resource === 'leases' && isObject(obj?.spec)) for (const f of ['acquireTime', 'renewTime']) if (typeof obj.spec[f] === 'string') leaseField(obj.spec[f], f)
      return obj
    }
    if (verb === 'list' || verb === 'watch') {
      const preds: Pred[] = []
      if (namespace !== undefined) preds.push((o) => o.metadata.namespace === namespace)
      if (name !== undefined) preds.push((o) => o.metadata.name === name)
      if (query.fieldSelector) preds.push(fieldSelector(resource, query.fieldSelector))
      if (query.labelSelector) preds.push(labelSelector(query.labelSelector))
      const matches: Pred = (o) => preds.every((p) => p(o))
      if (verb === 'watch') return this.serveWatch(res, resource, matches, query)
      const limit = /^\d+$/.test(query.limit ?? '') ? Number(query.limit) : 0
      const prefix = !def.namespaced ? `${resource}//` : namespace === undefined ? `${resource}/` : `${resource}/${namespace}/`
      const selected = Boolean(query.fieldSelector) || Boolean(query.labelSelector)
      if (query.continue) { // storage.ValidateListOptions, then etcd at the token's revision
        if (query.resourceVersion && query.resourceVersion !== '0') throw badRequest('specifying resource version is not allowed when using continue')
        const { start, rv } = decodeContinue(query.continue, prefix)
        if (rv > 0 && rv < this.oldest) throw expiredContinue(encodeContinue(start, prefix, -1))
        const at = rv > 0 ? rv : this.rv
        return this.servePage(res, resource, prefix, matches, selected, at, start, limit > 0 ? limit : Infinity)
      }
      const at = this.parseRv(query.resourceVersion)
      if (at !== undefined && at > this.rv) throw tooLarge(at, this.rv)
      // cacher.go shouldDelegateList: a limit with any resourceVersion but "0" goes to etcd, paged;
      // "" reads the latest revision, N exactly revision N ("legacy exact match").
      if (limit > 0 && query.resourceVersion !== '0') {
        if (at !== undefined && at < this.oldest) throw expiredList()
        return this.servePage(res, resource, prefix, matches, selected, at ?? this.rv, prefix, limit)
      }
      // Otherwise the watch cache answers, in one piece: it ignores limit.
      const items = this.select(resource, matches).map(({ kind: _kind, apiVersion: _apiVersion, ...item }) => item)
      return reply(res, 200, { kind: `${def.kind}List`, apiVersion: apiVersionOf(def), metadata: { resourceVersion: String(this.rv) }, items })
    }
    if (name === undefined) return reply(res, 201, this.create(resource, parse(), namespace))
    if (verb === 'get') return reply(res, 200, this.get(resource, name, namespace))
    if (verb === 'update') return reply(res, 200, this.update(resource, parse(), namespace, name))
    if (verb === 'delete') return reply(res, 200, this.remove(resource, name, namespace, body.trim() === '' ? undefined : parse().preconditions as { uid?: string, resourceVersion?: string } | undefined))
    const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim()
    if (type !== 'application/merge-patch+json' && type !== 'application/json-patch+json') {
      throw failure(415, 'UnsupportedMediaType', 'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json', {})
    }
    return reply(res, 200, this.patch(resource, name, parse(), type === 'application/merge-patch+json' ? 'merge' : 'json', namespace))
  }
}

// ValidateSecretUpdate / ValidateConfigMapUpdate: a Secret's type is
// immutable; an immutable Secret or ConfigMap keeps its data and stays immutable.
function validateDataUpdate (resource: 'secrets' | 'configmaps', next: KObject, old: KObject): void {
  const errs: FieldError[] = []
  if (resource === 'secrets' && next.type !== old.type) errs.push({ field: 'type', type: 'FieldValueInvalid', body: `Invalid value: "${String(next.type)}": field is immutable` })
  if (old.immutable === true) {
    const forbidden = 'Forbidden: field is immutable when `immutable` is set'
    if (next.immutable !== true) errs.push({ field: 'immutable', type: 'FieldValueForbidden', body: forbidden })
    if (!same(next.data ?? {}, old.data ?? {})) errs.push({ field: 'data', type: 'FieldValueForbidden', body: forbidden })
    if (resource === 'configmaps' && !same(next.binaryData ?? {}, old.binaryData ?? {})) errs.push({ field: 'binaryData', type: 'FieldValueForbidden', body: forbidden })
  }
  if (errs.length > 0) throw invalid(resource, old.metadata.name ?? '', errs)
}

// core/validation ValidateConfigMap (keys: IsConfigMapKey; data plus
// binaryData at most MaxSecretSize, 1 MiB) and coordination/validation
// ValidateLeaseSpec (leaseDurationSeconds > 0, leaseTransitions >= 0).
const MAX_CONFIGMAP_BYTES = 1024 * 1024
function validateObject (resource: Resource, obj: KObject): void {
  const name = obj.metadata.name ?? ''
  const errs: FieldError[] = []
  if (resource === 'configmaps') {
    let total = 0
    for (const field of ['data', 'binaryData'] as const) {
      for (const [key, value] of Object.entries(isObject(obj[field]) ? obj[field] : {})) {
        if (!/^[-._a-zA-Z0-9]+$/.test(key) || key.length > 253 || key === '.' || key === '..') {
          errs.push({ field: `${field}[${key}]`, type: 'FieldValueInvalid', body: `Invalid value: "${key}": a valid config key must consist of alphanumeric characters, '-', '_' or '.'` })
        }
        total += typeof value === 'string' ? Buffer.byteLength(value, field === 'data' ? 'utf8' : 'base64') : 0
      }
    }
    if (total > MAX_CONFIGMAP_BYTES) errs.push({ field: '', type: 'FieldValueTooLong', body: `Too long: must have at most ${MAX_CONFIGMAP_BYTES} bytes` })
  } else if (resource === 'leases' && isObject(obj.spec)) {
    const { leaseDurationSeconds: duration, leaseTransitions: transitions } = obj.spec
    if (typeof duration === 'number' && duration <= 0) errs.push({ field: 'spec.leaseDurationSeconds', type: 'FieldValueInvalid', body: `Invalid value: ${duration}: must be greater than 0` })
    if (typeof transitions === 'number' && transitions < 0) errs.push({ field: 'spec.leaseTransitions', type: 'FieldValueInvalid', body: `Invalid value: ${transitions}: must be greater than or equal to 0` })
  }
  if (errs.length > 0) throw invalid(resource, name, errs)
}

/**
 * metav1.MicroTime.UnmarshalJSON: time.Parse(RFC3339Micro, s), which wants
 * exactly six fraction digits (Go's stdFracSecond0), so a JavaScript
 * Date.toISOString() (three) is a 400 at decoding, before validation.
 */
const MICRO_TIME = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d{6})(Z|[+-]\d\d:\d\d)$/
function leaseField (value: string, field: string): RegExpExecArray {
  const m = MICRO_TIME.exec(value)
  if (m !== null) return m
  const rest = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(.*)$/.exec(value)?.[1]
  const why = rest === undefined ? 'cannot parse' : `cannot parse "${rest}" as ".000000"`
  throw badRequest(`Lease in version "v1" cannot be handled as a Lease: parsing time "${value}" as "2006-01-02T15:04:05.000000Z07:00": ${why} (spec.${field})`)
}
function microTimeUtc (m: RegExpExecArray): string {
  const [, seconds = '', fraction = '', zone = 'Z'] = m
  if (zone === 'Z') return `${seconds}${fraction}Z`
  return `${new Date(`${seconds}${zone}`).toISOString().slice(0, 19)}${fraction}Z`
}
