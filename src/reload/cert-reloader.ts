/**
 * Rotates the serving certificate without a restart: cert-manager (or
 * `npm run certs`) writes a new certificate and key into the mounted Secret,
 * and the next TLS handshake gets them (tls/serving-pair.ts checks and
 * applies each pair, and has why). During a rotation where cert and key are
 * separate files written one after the other, the first half is rejected
 * and the second completes the pair.
 */
import type { Logger } from 'pino'
import type { Metrics } from '../metrics.js'
import { applyServingPair, type SecureContextTarget } from '../tls/serving-pair.js'
import { DEFAULT_DEBOUNCE_MS, DEFAULT_POLL_MS } from './config-reloader.js'
import { watchFiles } from './file-watch.js'

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
    error = applyServingPair(pair, { target: options.server, log, metrics: options.metrics, now: now() })
  }

  const watcher = watchFiles([options.certFile, options.keyFile], reload, {
    pollMs: options.pollMs ?? DEFAULT_POLL_MS,
    debounceMs: options.debounceMs ?? DEFAULT_DEBOUNCE_MS,
    log: options.log,
    fsWatch: options.fsWatch,
  })

  return { lastError: () => error, check: watcher.check, close: watcher.close }
}
