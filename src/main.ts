/**
 * Entry point: reads the settings, the config and the certificate files,
 * listens and handles signals. The other modules that touch files are edges
 * too: reload/ re-reads the config and certificate files, tls/dev-certs.ts
 * writes the development certificates, cli/ reads what it is given.
 *
 * Cluster mode is loaded only when it is on: the Kubernetes client
 * (@kubernetes/client-node) alone costs about 77 MB of RSS at import, which
 * local mode has no use for (issue #11). So kube/, cluster/ and bootstrap/
 * come in through `await import()` below, never through a static import
 * (test/main-lazy-cluster.test.ts checks it on a real process).
 *
 * About 300 lines: the wiring of local mode, cluster mode and the
 * certificate sources, kept in the one file that owns the process.
 */
import { X509Certificate } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import type { Server as HttpsServer } from 'node:https'
import { fileURLToPath } from 'node:url'
import type { KubeConfig } from '@kubernetes/client-node'
import type { Logger } from 'pino'
import { buildApp, buildHealthApp } from './app.js'
import type { CertificateBootstrap } from './bootstrap/certificate-bootstrap.js'
import { isEntryPoint } from './cli/entry.js'
import { pullguardVersion, versionLine } from './cli/version.js'
import type { ClusterStore } from './cluster/store.js'
import type { ClusterView } from './cluster/types.js'
import { loadConfig } from './config/compile.js'
import { PullguardError } from './errors.js'
import { listenFailure } from './http/listen-error.js'
// Types only (erased): the modules themselves are imported on demand, below.
import type { ClusterInformers } from './kube/informers.js'
import type { SecretDistributor } from './kube/secret-distributor.js'
import { Lifecycle } from './lifecycle.js'
import { createLogger } from './logger.js'
import { createMetrics, type Metrics } from './metrics.js'
import { createCertReloader } from './reload/cert-reloader.js'
import { createConfigReloader, type ConfigReloader } from './reload/config-reloader.js'
import { readSettings, SERVE_USAGE, SERVICE_ACCOUNT_TOKEN, type Settings } from './settings.js'
import { ensureDevCertificates } from './tls/dev-certs.js'
import type { TlsPair } from './tls/server-options.js'
import { warnIfStrictParsersRefuse, type SecureContextTarget } from './tls/serving-pair.js'

const EXAMPLE_CONFIG = fileURLToPath(new URL('../manifests/example-config.yaml', import.meta.url))

/** `pullguard serve` (and `node dist/main.js`, `npm start`): argv without the node and script prefix. */
export async function runServer (argv: readonly string[]): Promise<void> {
  // Before settings: --help must work where PORT or the config is broken.
  const flags = argv.slice(0, argv.includes('--') ? argv.indexOf('--') : undefined)
  if (flags.includes('--help') || flags.includes('-h')) {
    process.stdout.write(SERVE_USAGE)
    return
  }
  if (flags.includes('--version')) {
    process.stdout.write(versionLine())
    return
  }
  const bootLog = createLogger()
  let settings: Settings
  try {
    settings = readSettings(argv, process.env, EXAMPLE_CONFIG, { serviceAccountToken: existsSync(SERVICE_ACCOUNT_TOKEN) })
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

  const kubeConfig = settings.cluster.mode === 'local' ? undefined : (await import('./kube/connection.js')).kubeConfigFor(settings.cluster)
  if (settings.distributeSecrets && kubeConfig === undefined) throw new PullguardError('PG_CONFIG_INVALID', 'PULLGUARD_DISTRIBUTE_SECRETS=true needs cluster mode (run in a pod, or give --kubeconfig)')

  const { tls, bootstrap, files } = await servingCertificate(settings, kubeConfig, lifecycle, log, metrics)

  let cluster: ClusterMode | undefined
  if (kubeConfig === undefined) {
    log.info({ why: settings.cluster.mode === 'local' ? settings.cluster.why : '' }, 'local mode: no cluster view (secrets are injected by config alone)')
    warnClusterOnlyFeatures(config, log)
  } else {
    cluster = await startClusterMode(settings, kubeConfig, configReloader, lifecycle, log, metrics)
  }

  const app = buildApp({ config: () => configReloader.current(), tls, logger: log, reviewLogLevel: settings.reviewLogLevel, cluster: cluster?.view, metrics })
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
        () => configReloader.close(), () => certReloader?.close(), async () => await bootstrap?.stop(), async () => await cluster?.stop(),
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

interface ServingCertificate {
  readonly tls: TlsPair
  /** With --bootstrap-certs: the pair comes from (and is renewed in) a Secret. */
  readonly bootstrap?: CertificateBootstrap | undefined
  /** Otherwise: the files it was read from (dev certificates by default), watched for rotation. */
  readonly files?: { certFile: string, keyFile: string, caFile?: string | undefined } | undefined
}

/** The serving certificate: from the bootstrap Secret, or from files (dev certificates by default). */
async function servingCertificate (
  settings: Settings, kubeConfig: KubeConfig | undefined, lifecycle: Lifecycle, log: Logger, metrics: Metrics
): Promise<ServingCertificate> {
  if (settings.bootstrap === undefined) {
    const files = await certificateFiles(settings, log)
    const cert = await readText(files.certFile, 'TLS_CERT_FILE')
    warnIfStrictParsersRefuse(cert, log)
    return { tls: { cert, key: await readText(files.keyFile, 'TLS_KEY_FILE') }, files }
  }
  if (kubeConfig === undefined) throw new PullguardError('PG_CONFIG_INVALID', '--bootstrap-certs needs cluster mode (run in a pod, or give --kubeconfig)')
  const { startCertificateBootstrap } = await import('./bootstrap/certificate-bootstrap.js')
  const bootstrap = await startCertificateBootstrap({
    kubeConfig, namespace: settings.selfNamespace ?? '', ...settings.bootstrap, log: log.child({ component: 'bootstrap' }), metrics,
  })
  lifecycle.require('certificates', () => (bootstrap.status().ready ? undefined : bootstrap.status().lastError ?? 'serving certificate expired'))
  return { tls: bootstrap.initial, bootstrap }
}

interface ClusterMode {
  /** What the decision sees of the cluster (with the distributor's copies when distribution is on). */
  readonly view: ClusterView
  /** Stops the writers, then the informers. */
  stop (): Promise<void>
}

/**
 * Cluster mode: informers fill the store the decision reads; in the elected
 * replica the private-image patterns and, when on, the Secret distribution
 * are written. Everything here is imported on demand (see the header).
 */
async function startClusterMode (
  settings: Settings, kubeConfig: KubeConfig, configReloader: ConfigReloader, lifecycle: Lifecycle, log: Logger, metrics: Metrics
): Promise<ClusterMode> {
  const [{ ClusterStore }, { startClusterInformers }, { withDistribution }] = await Promise.all([
    import('./cluster/store.js'), import('./kube/informers.js'), import('./distribution/view.js'),
  ])
  const store = new ClusterStore()
  const informers = startClusterInformers({ kubeConfig, store, log })
  metrics.setInformerSource(() => informers.status())
  lifecycle.require('informers', () => {
    const waiting = informers.status().filter((s) => !s.synced).map((s) => s.resource)
    return waiting.length === 0 ? undefined : `not synced yet: ${waiting.join(', ')}`
  })
  log.info({ mode: settings.cluster.mode }, 'cluster mode: watching namespaces, pull secrets and service accounts')
  const privateImages = await startPrivateImages(settings, kubeConfig, store, informers, configReloader, log)
  const distributor = await startDistribution(settings, kubeConfig, store, informers, configReloader, log, metrics)
  return {
    view: distributor === undefined ? store : withDistribution(store, distributor.view),
    stop: async () => {
      await privateImages?.stop()
      await distributor?.stop()
      await informers.stop()
    },
  }
}

/**
 * Enforcement while pullguard is down (manifests/base/always-pull-private-policy.yaml):
 * in cluster mode the elected replica keeps the ConfigMap of private-image
 * patterns current, once the informers have listed every pull Secret.
 */
async function startPrivateImages (
  settings: Settings, kubeConfig: KubeConfig, store: ClusterStore, informers: ClusterInformers, configReloader: ConfigReloader, log: Logger
): Promise<{ stop: () => Promise<void> } | undefined> {
  if (settings.selfNamespace === undefined) {
    log.warn('POD_NAMESPACE is not set: the private-image patterns (ConfigMap pullguard-private-images) are not written')
    return undefined
  }
  const { startPrivateImagesWriter } = await import('./kube/private-images-writer.js')
  const { privateImagesInputs } = await import('./kube/private-images-params.js')
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
async function startDistribution (
  settings: Settings, kubeConfig: KubeConfig, store: ClusterStore, informers: ClusterInformers, configReloader: ConfigReloader, log: Logger, metrics: Metrics
): Promise<SecretDistributor | undefined> {
  if (!settings.distributeSecrets) return undefined
  const [{ startSecretDistributor }, { registerDistributionMetrics }] = await Promise.all([
    import('./kube/secret-distributor.js'), import('./kube/distribution-metrics.js'),
  ])
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
  server: HttpsServer, initialCert: string | Buffer, caFile: string | undefined, bootstrap: CertificateBootstrap | undefined, metrics: Metrics
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
