/**
 * The TLS settings of the webhook's HTTPS server, in one place: buildApp()
 * passes them to https.createServer at start-up and the certificate reloader
 * to server.setSecureContext() on rotation. They must be the same object
 * shape both times, because tls.Server#setSecureContext() does not merge: it
 * resets every option it is not given (Node lib/_tls_wrap.js), so a reload
 * that forgot `minVersion` would silently fall back to the process default.
 */
import type { SecureContextOptions } from 'node:tls'

/**
 * TLS 1.2 is the floor: the API server (Go crypto/tls) offers 1.2 and 1.3,
 * and RFC 8996 deprecates 1.0 and 1.1.
 */
export const TLS_MIN_VERSION = 'TLSv1.2' as const

export interface TlsPair {
  readonly cert: string | Buffer
  readonly key: string | Buffer
}

/** Options for https.createServer and server.setSecureContext alike. */
export function serverTlsOptions (pair: TlsPair): SecureContextOptions & { minVersion: typeof TLS_MIN_VERSION } {
  return { cert: pair.cert, key: pair.key, minVersion: TLS_MIN_VERSION }
}
