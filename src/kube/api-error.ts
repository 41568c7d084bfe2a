/**
 * What pullguard may say about a failed Kubernetes API call made through
 * client-node (the certificate bootstrap, the Lease, the ConfigMap writer,
 * the secret distributor).
 *
 * client-node's ApiException puts the whole response body into its message
 * (gen/apis/exception.js: "HTTP-Code ... Body: ..."), and a response about
 * a Secret (the bootstrap's, a pull Secret being copied) could carry its data. So the message is never
 * used: only the status code and, when the body is a Kubernetes Status, its
 * reason and message (which the API server words without object data, e.g.
 * `secrets "pullguard-tls" is forbidden: User ... cannot get ...`).
 */
import { truncate } from '../text/truncate.js'

export interface ApiErrorInfo {
  /** HTTP status; undefined when the request never got an answer. */
  readonly code: number | undefined
  /** Status.reason (AlreadyExists, Conflict, Forbidden, NotFound...). */
  readonly reason: string | undefined
  /** One line, safe to log and to put in status(). */
  readonly message: string
}

const MAX_MESSAGE = 300
// A long unbroken base64 run is what key material looks like (PEM bodies,
// Secret data); whatever it was, it has no place in a log line.
const BASE64_RUN = /[A-Za-z0-9+/=]{40,}/g

export function apiErrorOf (err: unknown): ApiErrorInfo {
  const api = err as { code?: unknown, body?: unknown } | null
  if (typeof api === 'object' && api !== null && typeof api.code === 'number' && 'body' in api) {
    const code = api.code
    const status = statusOf(api.body)
    return { code, reason: status?.reason, message: clean(status?.message ?? `HTTP ${code}`) }
  }
  if (err instanceof Error) {
    const errno = (err as { code?: unknown }).code
    const cause = (err as { cause?: { code?: unknown } }).cause?.code
    const tag = [errno, cause].find((c) => typeof c === 'string')
    return { code: undefined, reason: undefined, message: clean(`${err.message.split('\n')[0] ?? ''}${tag === undefined ? '' : ` (${String(tag)})`}`) }
  }
  return { code: undefined, reason: undefined, message: 'unknown error' }
}

function statusOf (body: unknown): { reason?: string, message?: string } | undefined {
  let value = body
  if (typeof value === 'string') {
    try { value = JSON.parse(value) } catch { return undefined }
  }
  if (typeof value !== 'object' || value === null || (value as { kind?: unknown }).kind !== 'Status') return undefined
  const { reason, message } = value as { reason?: unknown, message?: unknown }
  return {
    ...(typeof reason === 'string' ? { reason } : {}),
    ...(typeof message === 'string' ? { message } : {}),
  }
}

function clean (text: string): string {
  const line = text.replace(BASE64_RUN, '[…]').replace(/\s+/g, ' ').trim()
  return truncate(line, MAX_MESSAGE)
}
