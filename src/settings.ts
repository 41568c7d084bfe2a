/**
 * Process settings from flags and environment, checked once at start-up.
 * Precedence for the config file: --config, then PULLGUARD_CONFIG, then the
 * example config shipped in the repo (so `npm start` works on a fresh clone).
 */
import { parseArgs } from 'node:util'
import { PullguardError } from './errors.js'

export interface Settings {
  readonly configFile: string
  readonly configIsExample: boolean
  readonly port: number
  readonly healthPort: number
  readonly host: string
  /** Undefined: use (and if needed generate) dev certificates in certs/. */
  readonly tls: { readonly certFile: string, readonly keyFile: string } | undefined
  readonly devCertDir: string
  readonly selfNamespace: string | undefined
  readonly logLevel: string
  /** --kubeconfig; cluster mode also turns on in a pod or with KUBECONFIG (kube/connection.ts). */
  readonly kubeconfig: string | undefined
  /** DRAIN_SECONDS: how long to keep serving after SIGTERM with /readyz false. */
  readonly drainMs: number
  /** RELOAD_POLL_SECONDS: how often config and certificate files are re-read besides fs events. */
  readonly reloadPollMs: number
  /** --bootstrap-certs: certificates from (and into) a Secret, caBundle patched (bootstrap/certificate-bootstrap.ts). */
  readonly bootstrap: { readonly secretName: string, readonly service: string, readonly webhookConfigName: string } | undefined
  /**
   * PULLGUARD_DISTRIBUTE_SECRETS=true: keep the copies of `from` Secrets
   * (kube/secret-distributor.ts); needs cluster mode, POD_NAMESPACE (its
   * Lease) and the RBAC of manifests/components/secret-distribution.
   */
  readonly distributeSecrets: boolean
}

export const SERVE_USAGE = `usage: pullguard serve [--config FILE] [--kubeconfig FILE] [--bootstrap-certs]

Runs the webhook: HTTPS on PORT (/mutate, /validate, /preview), plain HTTP on
HEALTH_PORT (/healthz, /readyz, /metrics). npm start runs it.

options:
  --config FILE       config file (wins over PULLGUARD_CONFIG; default: the
                      example config)
  --kubeconfig FILE   cluster mode from a kubeconfig (also: in a pod, or with
                      KUBECONFIG; PULLGUARD_CLUSTER=off forces local mode)
  --bootstrap-certs   serving certificate from (and into) a Secret, caBundle
                      patched; needs cluster mode and POD_NAMESPACE
  -h, --help          show this help
  --version           print the version

environment: PORT (8443), HEALTH_PORT (9090), HOST (0.0.0.0),
TLS_CERT_FILE and TLS_KEY_FILE (default: development certificates in
DEV_CERT_DIR, certs), POD_NAMESPACE, LOG_LEVEL (info), PULLGUARD_CONFIG,
PULLGUARD_CLUSTER (auto), DRAIN_SECONDS (10), RELOAD_POLL_SECONDS (10),
BOOTSTRAP_SECRET, BOOTSTRAP_SERVICE, WEBHOOK_CONFIG_NAME,
PULLGUARD_DISTRIBUTE_SECRETS (false)
`

export const DEFAULT_PORT = 8443
export const DEFAULT_HEALTH_PORT = 9090
export const DEFAULT_DRAIN_SECONDS = 10
export const DEFAULT_RELOAD_POLL_SECONDS = 10
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']

export function readSettings (argv: readonly string[], env: Readonly<Record<string, string | undefined>>, exampleConfig: string): Settings {
  let values: { config?: string | undefined, kubeconfig?: string | undefined, 'bootstrap-certs'?: boolean | undefined }
  try {
    values = parseArgs({
      args: [...argv],
      options: { config: { type: 'string' }, kubeconfig: { type: 'string' }, 'bootstrap-certs': { type: 'boolean' } },
      strict: true,
      allowPositionals: false,
    }).values
  } catch (err) {
    throw settingsError(`${(err as Error).message}; usage: pullguard serve [--config FILE] [--kubeconfig FILE] [--bootstrap-certs] (see --help)`)
  }
  const configFile = nonEmpty(values.config) ?? nonEmpty(env.PULLGUARD_CONFIG)
  const certFile = nonEmpty(env.TLS_CERT_FILE)
  const keyFile = nonEmpty(env.TLS_KEY_FILE)
  if ((certFile === undefined) !== (keyFile === undefined)) {
    throw settingsError('set both TLS_CERT_FILE and TLS_KEY_FILE, or neither (to use generated dev certificates)')
  }
  const logLevel = nonEmpty(env.LOG_LEVEL) ?? 'info'
  if (!LOG_LEVELS.includes(logLevel)) throw settingsError(`LOG_LEVEL=${JSON.stringify(logLevel)} is not one of ${LOG_LEVELS.join(', ')}`)
  const port = portFrom(env, 'PORT', DEFAULT_PORT)
  const healthPort = portFrom(env, 'HEALTH_PORT', DEFAULT_HEALTH_PORT)
  if (port === healthPort && port !== 0) throw settingsError(`PORT and HEALTH_PORT are both ${port}; they must differ`)
  const bootstrap = values['bootstrap-certs'] === true
    ? {
        secretName: nonEmpty(env.BOOTSTRAP_SECRET) ?? 'pullguard-tls',
        service: nonEmpty(env.BOOTSTRAP_SERVICE) ?? 'pullguard',
        webhookConfigName: nonEmpty(env.WEBHOOK_CONFIG_NAME) ?? 'pullguard',
      }
    : undefined
  if (bootstrap !== undefined && certFile !== undefined) {
    throw settingsError('--bootstrap-certs and TLS_CERT_FILE/TLS_KEY_FILE both choose the serving certificate; use one')
  }
  if (bootstrap !== undefined && nonEmpty(env.POD_NAMESPACE) === undefined) {
    throw settingsError('--bootstrap-certs needs POD_NAMESPACE (the namespace of its Secret); set it from the downward API')
  }
  const distributeSecrets = booleanFrom(env, 'PULLGUARD_DISTRIBUTE_SECRETS')
  if (distributeSecrets && nonEmpty(env.POD_NAMESPACE) === undefined) {
    throw settingsError('PULLGUARD_DISTRIBUTE_SECRETS=true needs POD_NAMESPACE (the namespace of its Lease); set it from the downward API')
  }
  return {
    configFile: configFile ?? exampleConfig,
    configIsExample: configFile === undefined,
    port,
    healthPort,
    host: nonEmpty(env.HOST) ?? '0.0.0.0',
    tls: certFile === undefined || keyFile === undefined ? undefined : { certFile, keyFile },
    devCertDir: nonEmpty(env.DEV_CERT_DIR) ?? 'certs',
    selfNamespace: nonEmpty(env.POD_NAMESPACE),
    logLevel,
    kubeconfig: nonEmpty(values.kubeconfig),
    drainMs: secondsFrom(env, 'DRAIN_SECONDS', DEFAULT_DRAIN_SECONDS, 0, 300) * 1000,
    reloadPollMs: secondsFrom(env, 'RELOAD_POLL_SECONDS', DEFAULT_RELOAD_POLL_SECONDS, 1, 3600) * 1000,
    bootstrap,
    distributeSecrets,
  }
}

function booleanFrom (env: Readonly<Record<string, string | undefined>>, name: string): boolean {
  const raw = nonEmpty(env[name])
  if (raw === undefined || raw === 'false') return false
  if (raw === 'true') return true
  throw settingsError(`${name}=${JSON.stringify(raw)} is not true or false`)
}

function secondsFrom (env: Readonly<Record<string, string | undefined>>, name: string, fallback: number, min: number, max: number): number {
  const raw = nonEmpty(env[name])
  if (raw === undefined) return fallback
  const value = /^\d+(\.\d+)?$/.test(raw) ? Number(raw) : NaN
  if (!(value >= min && value <= max)) throw settingsError(`${name}=${JSON.stringify(raw)} is not a number of seconds between ${min} and ${max}`)
  return value
}

function portFrom (env: Readonly<Record<string, string | undefined>>, name: string, fallback: number): number {
  const raw = nonEmpty(env[name])
  if (raw === undefined) return fallback
  const port = /^\d{1,5}$/.test(raw) ? Number(raw) : NaN
  if (!(port >= 0 && port <= 65535)) throw settingsError(`${name}=${JSON.stringify(raw)} is not a TCP port (0-65535)`)
  return port
}

function nonEmpty (value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value
}

function settingsError (message: string): PullguardError {
  return new PullguardError('PG_CONFIG_INVALID', message)
}
