/**
 * Validate and apply a serving pair: the one routine behind every change of
 * the certificate the webhook presents, whether the pair came from files
 * (reload/cert-reloader.ts) or from the bootstrap Secret
 * (bootstrap/certificate-bootstrap.ts).
 *
 * A new pair is checked before it is used, because a bad one would fail
 * every handshake and, with `failurePolicy: Fail`, every pod admission:
 * - the key must belong to the certificate (tls.createSecureContext throws
 *   "key values mismatch"; X509Certificate#checkPrivateKey says it plainly);
 * - the certificate must not already have expired;
 * - TLS itself must accept the pair (the same createSecureContext call the
 *   server makes).
 * Otherwise the old certificate keeps serving and the failure is logged and
 * counted. server.setSecureContext() replaces the context used for NEW
 * handshakes only; connections already open keep theirs, so the API
 * server's keep-alive connections are not dropped. Messages are fixed text:
 * nothing read from a file or a Secret is echoed, and key material never is.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto'
import { createSecureContext, type SecureContextOptions } from 'node:tls'
import type { Logger } from 'pino'
import type { Metrics } from '../metrics.js'
import { serverTlsOptions, type TlsPair } from './server-options.js'
import { STRICT_PARSER_WARNING, strictCertificateProblems } from './strict-der.js'

/** What applying a pair needs of the server: https.Server (app.server) has it. */
export interface SecureContextTarget {
  setSecureContext (options: SecureContextOptions): void
}

/** The prefix of every rejection, in the log and in status()/lastError. */
export const RELOAD_REJECTED = 'certificate reload rejected, the old certificate keeps serving'

export interface ApplyServingPairOptions {
  readonly target: SecureContextTarget
  readonly log: Logger
  readonly metrics?: Pick<Metrics, 'certificateReloads'> | undefined
  readonly now: Date
  /** Public facts to add to the success line (the bootstrap's rotation phase, say); never key material. */
  readonly fields?: Readonly<Record<string, unknown>> | undefined
}

/**
 * Checks `pair` and, when it can serve, hands it to the server. Returns
 * undefined on success, else why not (fixed text, never a value read from
 * the pair); either way the outcome is logged once and counted.
 */
export function applyServingPair (pair: TlsPair, options: ApplyServingPairOptions): string | undefined {
  const { target, log, metrics } = options
  const checked = checkPair(pair, options.now)
  if (typeof checked === 'string') return rejected(checked, options)
  try {
    target.setSecureContext(serverTlsOptions(pair))
  } catch {
    return rejected('the server refused the new certificate and key', options)
  }
  metrics?.certificateReloads.inc('success')
  warnIfStrictParsersRefuse(pair.cert, log)
  log.info({ subject: checked.subject, fingerprint256: checked.fingerprint256, validTo: checked.validTo, ...options.fields }, 'serving certificate reloaded')
  return undefined
}

function rejected (error: string, options: ApplyServingPairOptions): string {
  options.metrics?.certificateReloads.inc('failure')
  options.log.error(`${RELOAD_REJECTED}: ${error}`)
  return error
}

/**
 * Node and OpenSSL accept certificates that Go's crypto/x509 (the API
 * server) refuses; serve them anyway, but say so (strict-der.ts has why).
 */
export function warnIfStrictParsersRefuse (cert: string | Buffer, log: Logger): void {
  const problems = strictCertificateProblems(cert.toString())
  if (problems.length > 0) log.warn({ problems }, STRICT_PARSER_WARNING)
}

/**
 * The parsed leaf certificate when `pair` can serve, else why not.
 * Exported for start-up checks, the bootstrap's plan, and tests.
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
