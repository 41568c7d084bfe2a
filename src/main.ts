/**
 * Entry point: the only place that reads files, listens and handles signals.
 */
import { X509Certificate } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import type { Server as HttpsServer } from 'node:https'
import { fileURLToPath } from 'node:url'
import type { KubeConfig } from '@kubernetes/client-node'
import type { Logger } from 'pino'
import { buildApp, buildHealthApp } from './app.js'
import { isEntryPoint } from './cli/entry.js'
import { pullguardVersion, versionLine } from './cli/version.js'
import { ClusterStore } from './cluster/store.js'
import { loadConfig } from './config/compile.js'
import { withDistribution } from './distribution/view.js'
import { PullguardError } from './errors.js'
import { listenFailure } from './http/listen-error.js'
import { clusterSource, kubeConfigFor } from './kube/connection.js'
import { registerDistributionMetrics } from './kube/distribution-metrics.js'
import { startClusterInformers, type ClusterInformers } from './kube/informers.js'
import { privateImagesInputs, startPrivateImagesWriter, type PrivateImagesWriter } from './kube/private-images-writer.js'
import { startSecretDistributor, type SecretDistributor } from './kube/secret-distributor.js'
import { Lifecycle } from './lifecycle.js'
import { createLogger } from './logger.js'
import { createMetrics, type Metrics } from './metrics.js'
import { createCertReloader } from './reload/cert-reloader.js'
import { createConfigReloader, type ConfigReloader } from './reload/config-reloader.js'
import { readSettings, SERVE_USAGE, type Settings } from './settings.js'
import { startCertificateBootstrap, type CertificateBootstrap } from './bootstrap/certificate-bootstrap.js'
import { ensureDevCertificates } from './tls/dev-certs.js'
import type { TlsPair } from './tls/server-options.js'
import type { SecureContextTarget } from './tls/serving-pair.js'
import { STRICT_PARSER_WARNING, strictCertificateProblems } from './tls/strict-der.js'

const EXAMPLE_CONFIG = fileURLToPath(new URL('../manifests/example-config.yaml', import.meta.url))

/** `pullguard serve` (and `node dist/main.js`, `npm start`): argv without the node and script prefix. */
export async function runServer (argv: readonly string[]): Promise<void> {
  // Before settings: --help must work where PORT or the config is broken.
  const flags = argv.slice(0, argv.includes('--') ? argv.indexOf('--') : undefined)
  if (flags.includes('--help') || flags.includes('-h')) return void process.stdout.write(SERVE_USAGE)
  if (flags.includes('--version')) return void process.stdout.write(versionLine())
  const bootLog = createLogger()
  let settings: Settings
  try {
    settings = readSettings(argv, process.env, EXAMPLE_CONFIG)
  } catch (err) {
    return fail(bootLog, err)
  }
  const log = createLogger({ level: settings.logLevel })
  try {
    await serve(settings, log)
  } catch (err) {
    fail(log, err)
  }
}

async function serve (settings: Settings, log: Logger): Promise<void> {
  const metrics = createMetrics({ build: { version: pullguardVersion() } })
  const lifecycle = new Lifecycle()

  const config = loadConfig(await readText(settings.configFile, 'config file'), {
    origin: settings.configFile,
    selfNamespace: settings.selfNamespace,
    distribution: settings.distributeSecrets,
  })
  log.info({ configFile: settings.configFile, example: settings.configIsExample, registries: config.registries.length, alwaysPull: config.alwaysPull }, 'config loaded')
  const configReloader = createConfigReloader({
    file: settings.configFile, selfNamespace: settings.selfNamespace, distribution: settings.distributeSecrets, initial: config, log, metrics, pollMs: settings.reloadPollMs,
  })

  const source = clusterSource(settings.kubeconfig, process.env)
  const kubeConfig = source.mode === 'local' ? undefined : kubeConfigFor(source)
  if (settings.distributeSecrets && kubeConfig === undefined) throw new PullguardError('PG_CONFIG_INVALID', 'PULLGUARD_DISTRIBUTE_SECRETS=true needs cluster mode (run in a pod, or give --kubeconfig)')

  // The serving certificate: from the bootstrap Secret, or from files (dev certificates by default).
  let bootstrap: CertificateBootstrap | undefined
  let files: { certFile: string, keyFile: string, caFile?: string | undefined } | undefined
  let tls: TlsPair
  if (settings.bootstrap !== undefined) {
    if (kubeConfig === undefined) throw new PullguardError('PG_CONFIG_INVALID', '--bootstrap-certs needs cluster mode (run in a pod, or give --kubeconfig)')
    bootstrap = await startCertificateBootstrap({
      kubeConfig, namespace: settings.selfNamespace ?? '', ...settings.bootstrap, log: log.child({ component: 'bootstrap' }), metrics,
    })
    const started = bootstrap
    lifecycle.require('certificates', () => (started.status().ready ? undefined : started.status().lastError ?? 'serving certificate expired'))
    tls = bootstrap.initial
  } else {
    files = await certificateFiles(settings, log)
    const cert = await readText(files.certFile, 'TLS_CERT_FILE')
    tls = { cert, key: await readText(files.keyFile, 'TLS_KEY_FILE') }
    warnIfStrictParsersRefuse(cert, log)
  }

  let store: ClusterStore | undefined
  let informers: ClusterInformers | undefined
  if (kubeConfig === undefined) {
    log.info({ why: source.mode === 'local' ? source.why : '' }, 'local mode: no cluster view (secrets are injected by config alone)')
    warnClusterOnlyFeatures(config, log)
  } else {
    store = new ClusterStore()
    informers = startClusterInformers({ kubeConfig, store, log })
    metrics.setInformerSource(() => informers?.status() ?? [])
    const started = informers
    lifecycle.require('informers', () => {
      const waiting = started.status().filter((s) => !s.synced).map((s) => s.resource)
      return waiting.length === 0 ? undefined : `not synced yet: ${waiting.join(', ')}`
    })
    log.info({ mode: source.mode }, 'cluster mode: watching namespaces, pull secrets and service accounts')
  }
  const privateImages = startPrivateImages(settings, kubeConfig, store, informers, configReloader, log)
  const distributor = startDistribution(settings, kubeConfig, store, informers, configReloader, log, metrics)
  const cluster = store === undefined || distributor === undefined ? store : withDistribution(store, distributor.view)

  const app = buildApp({ config: () => configReloader.current(), tls, logger: log, cluster, metrics })
  const health = buildHealthApp({ notReady: () => lifecycle.notReady(), logger: log, metrics })
  await listen(health, 'HEALTH_PORT', settings.healthPort, settings.host)
  await listen(app, 'PORT', settings.port, settings.host)
  const httpsServer = trackServedCertificate(app.server as unknown as HttpsServer, tls.cert, files?.caFile, bootstrap, metrics)
  bootstrap?.attach(httpsServer)
  const certReloader = files === undefined
    ? undefined
    : createCertReloader({ ...files, server: httpsServer, log, metrics, pollMs: settings.reloadPollMs })
  log.info({ port: portOf(app), healthPort: portOf(health) }, 'pullguard is serving')

  const stop = (signal: string): void => {
    log.info({ signal }, 'signal received')
    lifecycle.shutdown({
      drainMs: settings.drainMs,
      servers: [app, health],
      cleanups: [
        () => configReloader.close(), () => certReloader?.close(), async () => await bootstrap?.stop(),
        async () => await privateImages?.stop(), async () => await distributor?.stop(), async () => await informers?.stop(),
      ],
      log,
    }).then(() => process.exit(0), (err: unknown) => {
      log.error({ err }, 'error while stopping')
      process.exit(1)
    })
  }
  process.once('SIGTERM', () => stop('SIGTERM'))
  process.once('SIGINT', () => stop('SIGINT'))
}

/**
 * Enforcement while pullguard is down (manifests/base/always-pull-private-policy.yaml):
 * in cluster mode the elected replica keeps the ConfigMap of private-image
 * patterns current, once the informers have listed every pull Secret.
 */
function startPrivateImages (
  settings: Settings, kubeConfig: KubeConfig | undefined, store: ClusterStore | undefined, informers: ClusterInformers | undefined,
  configReloader: ConfigReloader, log: Logger,
): PrivateImagesWriter | undefined {
  if (kubeConfig === undefined || store === undefined || informers === undefined) return undefined
  if (settings.selfNamespace === undefined) {
    log.warn('POD_NAMESPACE is not set: the private-image patterns (ConfigMap pullguard-private-images) are not written')
    return undefined
  }
  return startPrivateImagesWriter({
    kubeConfig,
    namespace: settings.selfNamespace,
    inputs: () => (informers.synced() ? privateImagesInputs(configReloader.current(), store) : undefined),
    version: () => configReloader.current(),
    log,
  })
}

/**
 * Secret distribution (PULLGUARD_DISTRIBUTE_SECRETS=true, cluster mode; the
 * settings and config checks made sure): every replica watches the copies,
 * the elected one writes them.
 */
function startDistribution (
  settings: Settings, kubeConfig: KubeConfig | undefined, store: ClusterStore | undefined, informers: ClusterInformers | undefined,
  configReloader: ConfigReloader, log: Logger, metrics: Metrics,
): SecretDistributor | undefined {
  if (!settings.distributeSecrets || kubeConfig === undefined || store === undefined || informers === undefined) return undefined
  const distributor = startSecretDistributor({
    kubeConfig,
    namespace: settings.selfNamespace ?? '',
    config: () => configReloader.current(),
    namespaces: () => (informers.synced() ? store.namespaceInfos() : undefined),
    log,
  })
  registerDistributionMetrics(metrics.registry, () => distributor.status())
  log.info('secret distribution on: copies of the config\'s `from` Secrets are kept in the namespaces their entries apply to')
  return distributor
}

/**
 * The server as the reloader and the bootstrap see it: every new serving pair
 * they apply also moves pullguard_certificate_expiry_timestamp_seconds. The
 * CA is the bootstrap's signing CA, or the dev CA file read once.
 */
function trackServedCertificate (
  server: HttpsServer, initialCert: string | Buffer, caFile: string | undefined, bootstrap: CertificateBootstrap | undefined, metrics: Metrics,
): SecureContextTarget {
  let serving = notAfterOf(initialCert)
  let ca: Date | undefined
  try { ca = caFile === undefined ? undefined : notAfterOf(readFileSync(caFile)) } catch { ca = undefined }
  metrics.setCertificateSource(() => ({ serving, ca: bootstrap?.status().caNotAfter ?? ca }))
  return {
    setSecureContext (options) {
      server.setSecureContext(options)
      if (options.cert !== undefined && !Array.isArray(options.cert)) serving = notAfterOf(options.cert as string | Buffer) ?? serving
    },
  }
}

function notAfterOf (pem: string | Buffer): Date | undefined {
  try { return new Date(Date.parse(new X509Certificate(pem).validTo)) } catch { return undefined }
}

async function certificateFiles (settings: Settings, log: Logger): Promise<{ certFile: string, keyFile: string, caFile?: string | undefined }> {
  if (settings.tls !== undefined) return settings.tls
  const dev = await ensureDevCertificates(settings.devCertDir)
  log.info({ certFile: dev.certFile, caFile: dev.caFile, generated: dev.generated }, 'using development certificates')
  return dev
}

function warnIfStrictParsersRefuse (cert: string, log: Logger): void {
  const problems = strictCertificateProblems(cert)
  if (problems.length > 0) log.warn({ problems }, STRICT_PARSER_WARNING)
}

function warnClusterOnlyFeatures (config: ReturnType<typeof loadConfig>, log: Logger): void {
  const selectors = config.registries.filter((e) => e.hasNamespaceSelector).map((e) => e.index)
  if (selectors.length > 0) log.warn({ registries: selectors }, 'namespaceSelector needs cluster mode (namespace labels); those entries match by namespaces only')
  if (config.discoverSecrets) log.warn('discoverSecrets needs cluster mode; ignored')
}

async function listen (server: { listen: (options: { port: number, host: string }) => Promise<unknown> }, setting: 'PORT' | 'HEALTH_PORT', port: number, host: string): Promise<void> {
  try {
    await server.listen({ port, host })
  } catch (err) {
    throw listenFailure(err, setting, port, host)
  }
}

function portOf (server: { server: { address: () => unknown } }): number | undefined {
  const address = server.server.address()
  return typeof address === 'object' && address !== null ? (address as { port: number }).port : undefined
}

async function readText (file: string, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error'
    throw new PullguardError('PG_CONFIG_UNREADABLE', `cannot read ${what} ${file} (${code})`)
  }
}

function fail (log: Logger, err: unknown): void {
  const message = err instanceof PullguardError ? err.message : `unexpected error during start-up: ${err instanceof Error ? err.message.split('\n')[0] ?? '' : String(err)}`
  log.fatal({ code: err instanceof PullguardError ? err.code : 'PG_INTERNAL', ...(err instanceof PullguardError ? {} : { err }) }, message)
  // Also plainly on stderr: `kubectl logs` and a terminal both show it readably.
  process.stderr.write(`pullguard: ${message}\n`)
  // Exit now: informers or watchers started before the failure would keep the process up.
  process.exit(1)
}

if (isEntryPoint(import.meta.url)) void runServer(process.argv.slice(2))
