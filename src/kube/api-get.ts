/**
 * The two reads an informer makes, list and watch, as plain GETs over
 * node:http(s). client-node's KubeConfig supplies authentication and TLS
 * (applyToHTTPSOptions: the bearer token, re-read from the mounted file as
 * it rotates, client certificates, the CA, a proxy agent), asked once per
 * list or watch; nothing else of client-node is in the path, so no response
 * is deserialised into typed models or kept anywhere: the caller gets the raw
 * JSON and keeps only what it summarises.
 *
 * A failure is an ApiGetError (PG_KUBE_READ_FAILED) carrying the Status code
 * the API server answered as `status`, and its reason (410 Expired drives the
 * relist), with a one-line message.
 * Never the request, its headers (the token) or the body beyond the Status.
 */
import http, { type IncomingMessage } from 'node:http'
import https from 'node:https'
import type { KubeConfig } from '@kubernetes/client-node'
import { PullguardError } from '../errors.js'

export type Query = Readonly<Record<string, string | number | boolean | undefined>>

export class ApiGetError extends PullguardError {
  constructor (
    message: string,
    /** The HTTP status or the Status object's code; undefined when no answer came (connection refused, reset, aborted). */
    readonly status: number | undefined,
    /** metav1.Status reason, e.g. `Expired`, `Gone`, `Forbidden`; '' when the answer had none. */
    readonly reason = ''
  ) {
    super('PG_KUBE_READ_FAILED', message)
    this.name = 'ApiGetError'
  }
}

/** A Status object (from an error response or a watch ERROR event) as an ApiGetError. */
export function statusError (status: unknown, httpCode?: number): ApiGetError {
  const s = (typeof status === 'object' && status !== null ? status : {}) as { code?: unknown, reason?: unknown, message?: unknown }
  const code = typeof s.code === 'number' ? s.code : httpCode
  const message = typeof s.message === 'string' ? oneLine(s.message) : `HTTP ${String(httpCode ?? '')}`
  return new ApiGetError(message, code, typeof s.reason === 'string' ? s.reason : '')
}

/** 410: the resourceVersion or continue token is older than the server keeps (reason Expired or Gone). */
export function isGone (err: unknown): boolean {
  return err instanceof ApiGetError && err.status === 410
}

/**
 * GET path?query; resolves with the response once its status is 200. Any
 * other status is read (at most 64 KiB: a Status object) and thrown.
 */
export async function openGet (kubeConfig: KubeConfig, path: string, query: Query, signal: AbortSignal): Promise<IncomingMessage> {
  const cluster = kubeConfig.getCurrentCluster()
  if (cluster === null) throw new ApiGetError('the kubeconfig has no current cluster', undefined)
  const url = new URL(cluster.server.replace(/\/+$/, '') + path)
  for (const [key, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(key, String(value))
  const options: https.RequestOptions = {}
  await kubeConfig.applyToHTTPSOptions(options)
  const get = url.protocol === 'https:' ? https.get : http.get
  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    const req = get(url, { headers: { ...options.headers, Accept: 'application/json' }, agent: options.agent, auth: options.auth, signal }, resolve)
    // As client-node's Watch and Go's dialer: keep-alive probes notice a peer that vanished.
    req.on('socket', (socket) => socket.setKeepAlive(true, 30_000))
    req.on('error', (err) => reject(new ApiGetError(oneLine(err.message), undefined)))
  })
  if (res.statusCode === 200) return res
  const body = await readBody(res, 64 * 1024).catch(() => '')
  let status: unknown
  try { status = JSON.parse(body) } catch { status = undefined }
  throw statusError(status, res.statusCode)
}

/** The JSON of one object, as the API server sends it. */
export interface RawObject {
  readonly metadata?: { readonly name?: string, readonly namespace?: string, readonly resourceVersion?: string }
  readonly [field: string]: unknown
}

export interface ListPage {
  /** The caller may clear entries as it goes, to let each object go early. */
  readonly items: Array<RawObject | undefined>
  readonly metadata: { resourceVersion?: string, continue?: string | undefined }
}

/** GET and parse a JSON answer. */
export async function getJson (kubeConfig: KubeConfig, path: string, query: Query, signal: AbortSignal): Promise<unknown> {
  const res = await openGet(kubeConfig, path, query, signal)
  const body = await readBody(res, Infinity)
  try {
    return JSON.parse(body)
  } catch {
    // Never the parser's message: it quotes the body, which may hold Secret data.
    throw new ApiGetError(`the answer to GET ${path} is not JSON`, undefined)
  }
}

/** GET one page of a list. */
export async function getListPage (kubeConfig: KubeConfig, path: string, query: Query, signal: AbortSignal): Promise<ListPage> {
  const page = await getJson(kubeConfig, path, query, signal) as Partial<ListPage> | null
  if (typeof page !== 'object' || page === null || !Array.isArray(page.items)) throw new ApiGetError(`the answer to GET ${path} is not a list`, undefined)
  return { items: page.items, metadata: typeof page.metadata === 'object' && page.metadata !== null ? page.metadata : {} }
}

/** An error in one line, safe to log: never the error object (it can carry the request, with its bearer token). */
export function describeError (err: unknown): string {
  if (err instanceof ApiGetError) return `${err.status === undefined ? '' : `${err.status} `}${err.reason === '' ? '' : `${err.reason}: `}${err.message}`
  if (typeof err !== 'object' || err === null) return String(err)
  const e = err as { code?: unknown, message?: unknown }
  const message = typeof e.message === 'string' ? oneLine(e.message) : ''
  return `${typeof e.code === 'string' ? `${e.code} ` : ''}${message}`.trim()
}

async function readBody (res: IncomingMessage, limit: number): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of res) {
    chunks.push(chunk as Buffer)
    size += (chunk as Buffer).length
    if (size > limit) { res.destroy(); break }
  }
  return Buffer.concat(chunks).toString('utf8')
}

function oneLine (message: string): string {
  return (message.split('\n')[0] ?? '').slice(0, 300)
}
