/**
 * Rotates the serving certificate without a restart: cert-manager (or
 * `npm run certs`) writes a new certificate and key into the mounted Secret,
 * and the next TLS handshake gets them. server.setSecureContext() replaces
 * the context used for NEW handshakes only; connections already open keep
 * theirs, so the API server's keep-alive connections are not dropped.
 *
 * A new pair is checked before it is used, because a bad one would fail
 * every handshake and, with `failurePolicy: Fail`, every pod admission:
 * - the key must belong to the certificate (tls.createSecureContext throws
 *   "key values mismatch"; X509Certificate#checkPrivateKey says it plainly).
 *   During a rotation where cert and key are separate files written one after
 *   the other, the first half is rejected and the second completes the pair;
 * - the certificate must not already have expired.
 * Otherwise the old certificate keeps serving and the failure is logged and
 * counted. Messages are fixed text: nothing read from the files is echoed.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto'
import { createSecureContext, type SecureContextOptions } from 'node:tls'
import type { Logger } from 'pino'
import type { Metrics } from '../metrics.js'
import { serverTlsOptions, type TlsPair } from '../tls/server-options.js'
import { STRICT_PARSER_WARNING, strictCertificateProblems } from '../tls/strict-der.js'
import { DEFAULT_DEBOUNCE_MS, DEFAULT_POLL_MS } from './config-reloader.js'
import { watchFiles } from './file-watch.js'

export { serverTlsOptions, TLS_MIN_VERSION } from '../tls/server-options.js'

/** What the reloader needs of the server: https.Server (app.server) has it. */
export interface SecureContextTarget {
  setSecureContext (options: SecureContextOptions): void
}

export interface CertReloaderOptions {
  readonly certFile: string
  readonly keyFile: string
  readonly server: SecureContextTarget
  readonly log: Logger
  readonly metrics: Pick<Metrics, 'certificateReloads'>
  readonly pollMs?: number
  readonly debounceMs?: number
  /** false: poll only. Default true. */
  readonly fsWatch?: boolean
  /** The clock for the expiry check, for tests. */
  readonly now?: () => Date
}

export interface CertReloader {
  /** Why the last reload failed; undefined when it succeeded or none was tried. */
  lastError (): string | undefined
  check (): Promise<void>
  close (): void
}

export function createCertReloader (options: CertReloaderOptions): CertReloader {
  if (typeof options.server.setSecureContext !== 'function') {
    throw new TypeError('createCertReloader needs a TLS server (buildApp was called without tls)')
  }
  const log = options.log.child({ component: 'cert-reloader', certFile: options.certFile, keyFile: options.keyFile })
  const now = options.now ?? (() => new Date())
  let error: string | undefined

  const reload = (contents: Map<string, string>): void => {
    const pair = { cert: contents.get(options.certFile) ?? '', key: contents.get(options.keyFile) ?? '' }
    const checked = checkPair(pair, now())
    if (typeof checked === 'string') {
      error = checked
      options.metrics.certificateReloads.inc('failure')
      log.error(`certificate reload rejected, the old certificate keeps serving: ${checked}`)
      return
    }
    try {
      options.server.setSecureContext(serverTlsOptions(pair))
    } catch {
      error = 'the server refused the new certificate and key'
      options.metrics.certificateReloads.inc('failure')
      log.error(`certificate reload rejected, the old certificate keeps serving: ${error}`)
      return
    }
    error = undefined
    options.metrics.certificateReloads.inc('success')
    const problems = strictCertificateProblems(pair.cert.toString())
    if (problems.length > 0) log.warn({ problems }, STRICT_PARSER_WARNING)
    log.info({ subject: checked.subject, fingerprint256: checked.fingerprint256, validTo: checked.validTo }, 'serving certificate reloaded')
  }

  const watcher = watchFiles([options.certFile, options.keyFile], reload, {
    pollMs: options.pollMs ?? DEFAULT_POLL_MS,
    debounceMs: options.debounceMs ?? DEFAULT_DEBOUNCE_MS,
    log: options.log,
    fsWatch: options.fsWatch,
  })

  return { lastError: () => error, check: watcher.check, close: watcher.close }
}

/**
 * The parsed leaf certificate when `pair` can serve, else why not.
 * Exported for start-up checks and tests.
 */
export function checkPair (pair: TlsPair, now: Date): X509Certificate | string {
  let cert: X509Certificate
  try {
    cert = new X509Certificate(pair.cert)
  } catch {
    return 'the certificate file does not hold a PEM certificate'
  }
  try {
    if (!cert.checkPrivateKey(createPrivateKey(pair.key))) return 'the key does not belong to the certificate'
  } catch {
    return 'the key file does not hold a usable PEM private key'
  }
  if (Date.parse(cert.validTo) <= now.getTime()) return `the certificate expired on ${new Date(cert.validTo).toISOString()}`
  try {
    // The same call the server makes, so whatever it would refuse (a key
    // too weak for OpenSSL's security level, a broken chain) is refused here.
    createSecureContext(serverTlsOptions(pair))
  } catch {
    return 'the certificate and key are not accepted by TLS'
  }
  return cert
}
