/**
 * Process settings from flags and environment: the one place the server
 * reads them, checked once at start-up and frozen. Every error names the
 * flag or variable and the rule it breaks, so `BOOTSTRAP_SERVICE=Bad_Name`
 * stops start-up with a line about BOOTSTRAP_SERVICE, not later inside the
 * bootstrap. Precedence for the config file: --config, then
 * PULLGUARD_CONFIG, then the example config shipped in the repo (so
 * `npm start` works on a fresh clone).
 */
import { isIP } from 'node:net'
import { parseArgs } from 'node:util'
import { PullguardError } from './errors.js'
import { DEFAULT_REVIEW_LOG_LEVEL, REVIEW_LOG_LEVELS, type ReviewLogLevel } from './logger.js'
import { objectNameProblem, serviceNameProblem } from './tls/names.js'

/**
 * Local or cluster mode (decided here, so that local mode never loads the
 * Kubernetes client; kube/connection.ts turns it into a KubeConfig). Cluster mode
 * turns on in a pod (the service account token is mounted and
 * KUBERNETES_SERVICE_HOST is set, as client-go's rest.InClusterConfig
 * checks) or when a kubeconfig is named with --kubeconfig or KUBECONFIG
 * (its first entry). PULLGUARD_CLUSTER=off forces local mode (say, on a
 * laptop whose shell has KUBECONFIG set).
 */
export type ClusterSource =
  | { readonly mode: 'local', readonly why: string }
  | { readonly mode: 'in-cluster' }
  | { readonly mode: 'kubeconfig', readonly file: string }

/** Where the kubelet mounts the service account token (client-go rest.InClusterConfig reads it there). */
export const SERVICE_ACCOUNT_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token'

/** What the settings need to know of the machine besides flags and environment; main.ts looks. */
export interface SettingsProbe {
  /** The service account token file exists (SERVICE_ACCOUNT_TOKEN). */
  readonly serviceAccountToken: boolean
}

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
  /** LOG_REVIEW_LEVEL: the level of the one line per admission review (`silent`: none). */
  readonly reviewLogLevel: ReviewLogLevel
  /** --kubeconfig; cluster mode also turns on in a pod or with KUBECONFIG (see `cluster`). */
  readonly kubeconfig: string | undefined
  /** Local or cluster mode, from --kubeconfig, PULLGUARD_CLUSTER, KUBECONFIG and KUBERNETES_SERVICE_HOST. */
  readonly cluster: ClusterSource
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
DEV_CERT_DIR, certs), POD_NAMESPACE, LOG_LEVEL (info), LOG_REVIEW_LEVEL
(info), PULLGUARD_CONFIG,
PULLGUARD_CLUSTER (auto), KUBECONFIG, KUBERNETES_SERVICE_HOST,
DRAIN_SECONDS (10), RELOAD_POLL_SECONDS (10), BOOTSTRAP_SECRET
(pullguard-tls), BOOTSTRAP_SERVICE (pullguard), WEBHOOK_CONFIG_NAME
(pullguard), PULLGUARD_DISTRIBUTE_SECRETS (false)
`

export const DEFAULT_PORT = 8443
export const DEFAULT_HEALTH_PORT = 9090
const DEFAULT_DRAIN_SECONDS = 10
const DEFAULT_RELOAD_POLL_SECONDS = 10
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']

type Env = Readonly<Record<string, string | undefined>>

export function readSettings (argv: readonly string[], env: Env, exampleConfig: string, probe: SettingsProbe = { serviceAccountToken: false }): Settings {
  const flags = flagsFrom(argv)
  const configFile = nonEmpty(flags.config) ?? nonEmpty(env.PULLGUARD_CONFIG)
  const tls = certificateFilesFrom(env)
  const { logLevel, reviewLogLevel } = logLevelsFrom(env)
  const { port, healthPort } = portsFrom(env)
  // Not checked against the namespace rules: the kubelet sets it from
  // metadata.namespace (the downward API), which the API server validated.
  const selfNamespace = nonEmpty(env.POD_NAMESPACE)
  const bootstrap = flags['bootstrap-certs'] === true ? bootstrapFrom(env, tls, selfNamespace) : undefined
  const distributeSecrets = distributeSecretsFrom(env, selfNamespace)
  const kubeconfig = nonEmpty(flags.kubeconfig)
  return deepFreeze({
    configFile: configFile ?? exampleConfig,
    configIsExample: configFile === undefined,
    port,
    healthPort,
    host: hostFrom(env),
    tls,
    devCertDir: nonEmpty(env.DEV_CERT_DIR) ?? 'certs',
    selfNamespace,
    logLevel,
    reviewLogLevel,
    kubeconfig,
    cluster: clusterFrom(kubeconfig, env, probe),
    drainMs: secondsFrom(env, 'DRAIN_SECONDS', DEFAULT_DRAIN_SECONDS, 0, 300) * 1000,
    reloadPollMs: secondsFrom(env, 'RELOAD_POLL_SECONDS', DEFAULT_RELOAD_POLL_SECONDS, 1, 3600) * 1000,
    bootstrap,
    distributeSecrets,
  })
}

function logLevelsFrom (env: Env): { logLevel: string, reviewLogLevel: ReviewLogLevel } {
  const logLevel = nonEmpty(env.LOG_LEVEL) ?? 'info'
  if (!LOG_LEVELS.includes(logLevel)) throw settingsError(`LOG_LEVEL=${JSON.stringify(logLevel)} is not one of ${LOG_LEVELS.join(', ')}`)
  const reviewLogLevel = nonEmpty(env.LOG_REVIEW_LEVEL) ?? DEFAULT_REVIEW_LOG_LEVEL
  if (!isReviewLogLevel(reviewLogLevel)) {
    throw settingsError(`LOG_REVIEW_LEVEL=${JSON.stringify(reviewLogLevel)} is not one of ${REVIEW_LOG_LEVELS.join(', ')}`)
  }
  return { logLevel, reviewLogLevel }
}

function portsFrom (env: Env): { port: number, healthPort: number } {
  const port = portFrom(env, 'PORT', DEFAULT_PORT)
  const healthPort = portFrom(env, 'HEALTH_PORT', DEFAULT_HEALTH_PORT)
  if (port === healthPort && port !== 0) throw settingsError(`PORT and HEALTH_PORT are both ${port}; they must differ`)
  return { port, healthPort }
}

function distributeSecretsFrom (env: Env, selfNamespace: string | undefined): boolean {
  const distributeSecrets = booleanFrom(env, 'PULLGUARD_DISTRIBUTE_SECRETS')
  if (distributeSecrets && selfNamespace === undefined) {
    throw settingsError('PULLGUARD_DISTRIBUTE_SECRETS=true needs POD_NAMESPACE (the namespace of its Lease); set it from the downward API')
  }
  return distributeSecrets
}

function isReviewLogLevel (value: string): value is ReviewLogLevel {
  return (REVIEW_LOG_LEVELS as readonly string[]).includes(value)
}

function flagsFrom (argv: readonly string[]): { config?: string | undefined, kubeconfig?: string | undefined, 'bootstrap-certs'?: boolean | undefined } {
  try {
    return parseArgs({
      args: [...argv],
      options: { config: { type: 'string' }, kubeconfig: { type: 'string' }, 'bootstrap-certs': { type: 'boolean' } },
      strict: true,
      allowPositionals: false,
    }).values
  } catch (err) {
    throw settingsError(`${(err as Error).message}; usage: pullguard serve [--config FILE] [--kubeconfig FILE] [--bootstrap-certs] (see --help)`)
  }
}

function certificateFilesFrom (env: Env): Settings['tls'] {
  const certFile = nonEmpty(env.TLS_CERT_FILE)
  const keyFile = nonEmpty(env.TLS_KEY_FILE)
  if ((certFile === undefined) !== (keyFile === undefined)) {
    throw settingsError('set both TLS_CERT_FILE and TLS_KEY_FILE, or neither (to use generated dev certificates)')
  }
  return certFile === undefined || keyFile === undefined ? undefined : { certFile, keyFile }
}

/**
 * --bootstrap-certs: the names it reads and writes, checked here as the API
 * server would check them (k8s.io/apimachinery validation: a Secret and a
 * webhook configuration are DNS-1123 subdomains, a Service a DNS-1035
 * label), so a typo fails start-up naming the variable.
 */
/** With --bootstrap-certs: its names, checked against the settings it conflicts with or needs. */
function bootstrapFrom (env: Env, tls: Settings['tls'], selfNamespace: string | undefined): NonNullable<Settings['bootstrap']> {
  const bootstrap = {
    secretName: nameFrom(env, 'BOOTSTRAP_SECRET', objectNameProblem) ?? 'pullguard-tls',
    service: nameFrom(env, 'BOOTSTRAP_SERVICE', serviceNameProblem) ?? 'pullguard',
    webhookConfigName: nameFrom(env, 'WEBHOOK_CONFIG_NAME', objectNameProblem) ?? 'pullguard',
  }
  if (tls !== undefined) {
    throw settingsError('--bootstrap-certs and TLS_CERT_FILE/TLS_KEY_FILE both choose the serving certificate; use one')
  }
  if (selfNamespace === undefined) {
    throw settingsError('--bootstrap-certs needs POD_NAMESPACE (the namespace of its Secret); set it from the downward API')
  }
  return bootstrap
}

function clusterFrom (kubeconfigFlag: string | undefined, env: Env, probe: SettingsProbe): ClusterSource {
  const forced = nonEmpty(env.PULLGUARD_CLUSTER)
  if (forced !== undefined && forced !== 'auto' && forced !== 'off') {
    throw settingsError(`PULLGUARD_CLUSTER=${JSON.stringify(forced)} is not one of auto, off`)
  }
  if (forced === 'off') return { mode: 'local', why: 'PULLGUARD_CLUSTER=off' }
  if (kubeconfigFlag !== undefined) return { mode: 'kubeconfig', file: kubeconfigFlag }
  if (probe.serviceAccountToken && nonEmpty(env.KUBERNETES_SERVICE_HOST) !== undefined) return { mode: 'in-cluster' }
  const fromEnv = nonEmpty(env.KUBECONFIG)
  // KUBECONFIG is a path list (kubectl merges it); the first file is the one loaded.
  if (fromEnv !== undefined) return { mode: 'kubeconfig', file: fromEnv.split(':').find((entry) => entry !== '') ?? fromEnv }
  return { mode: 'local', why: 'no service account token and no kubeconfig' }
}

/** HOST: an IP address (`::` for dual stack) or a host name (RFC 1123: a DNS-1123 subdomain, any case). */
function hostFrom (env: Env): string {
  const host = nonEmpty(env.HOST)
  if (host === undefined) return '0.0.0.0'
  if (isIP(host) === 0 && objectNameProblem(host.toLowerCase()) !== undefined) {
    throw settingsError(`HOST=${JSON.stringify(host)} is not an IP address or a host name (RFC 1123)`)
  }
  return host
}

function nameFrom (env: Env, name: string, problemOf: (value: string) => string | undefined): string | undefined {
  const raw = nonEmpty(env[name])
  if (raw === undefined) return undefined
  const problem = problemOf(raw)
  if (problem !== undefined) throw settingsError(`${name}=${JSON.stringify(raw)} is not valid: ${problem}`)
  return raw
}

function deepFreeze<T> (value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const inner of Object.values(value)) deepFreeze(inner)
  }
  return value
}

function booleanFrom (env: Env, name: string): boolean {
  const raw = nonEmpty(env[name])
  if (raw === undefined || raw === 'false') return false
  if (raw === 'true') return true
  throw settingsError(`${name}=${JSON.stringify(raw)} is not true or false`)
}

function secondsFrom (env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = nonEmpty(env[name])
  if (raw === undefined) return fallback
  const value = /^\d+(\.\d+)?$/.test(raw) ? Number(raw) : NaN
  if (!(value >= min && value <= max)) throw settingsError(`${name}=${JSON.stringify(raw)} is not a number of seconds between ${min} and ${max}`)
  return value
}

function portFrom (env: Env, name: string, fallback: number): number {
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
