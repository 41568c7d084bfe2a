/**
 * Entry point: the only place that reads files, listens and handles signals.
 */
import { readFile } from 'node:fs/promises'
import type { Server as HttpsServer } from 'node:https'
import { fileURLToPath } from 'node:url'
import type { Logger } from 'pino'
import { buildApp, buildHealthApp } from './app.js'
import { ClusterStore } from './cluster/store.js'
import { loadConfig } from './config/compile.js'
import { PullguardError } from './errors.js'
import { clusterSource, kubeConfigFor } from './kube/connection.js'
import { startClusterInformers, type ClusterInformers } from './kube/informers.js'
import { Lifecycle } from './lifecycle.js'
import { createLogger } from './logger.js'
import { createMetrics } from './metrics.js'
import { createCertReloader } from './reload/cert-reloader.js'
import { createConfigReloader } from './reload/config-reloader.js'
import { readSettings, type Settings } from './settings.js'
import { ensureDevCertificates } from './tls/dev-certs.js'

const EXAMPLE_CONFIG = fileURLToPath(new URL('../manifests/example-config.yaml', import.meta.url))

async function main (): Promise<void> {
  const bootLog = createLogger()
  let settings: Settings
  try {
    settings = readSettings(process.argv.slice(2), process.env, EXAMPLE_CONFIG)
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
  const metrics = createMetrics()
  const lifecycle = new Lifecycle()

  const config = loadConfig(await readText(settings.configFile, 'config file'), {
    origin: settings.configFile,
    selfNamespace: settings.selfNamespace,
  })
  log.info({ configFile: settings.configFile, example: settings.configIsExample, registries: config.registries.length, alwaysPull: config.alwaysPull }, 'config loaded')
  const configReloader = createConfigReloader({
    file: settings.configFile, selfNamespace: settings.selfNamespace, initial: config, log, metrics, pollMs: settings.reloadPollMs,
  })

  const { certFile, keyFile } = await certificateFiles(settings, log)
  const tls = { cert: await readText(certFile, 'TLS_CERT_FILE'), key: await readText(keyFile, 'TLS_KEY_FILE') }

  const source = clusterSource(settings.kubeconfig, process.env)
  let store: ClusterStore | undefined
  let informers: ClusterInformers | undefined
  if (source.mode === 'local') {
    log.info({ why: source.why }, 'local mode: no cluster view (secrets are injected by config alone)')
    warnClusterOnlyFeatures(config, log)
  } else {
    store = new ClusterStore()
    informers = startClusterInformers({ kubeConfig: kubeConfigFor(source), store, log })
    metrics.setInformerSource(() => informers?.status() ?? [])
    const started = informers
    lifecycle.require('informers', () => {
      const waiting = started.status().filter((s) => !s.synced).map((s) => s.resource)
      return waiting.length === 0 ? undefined : `not synced yet: ${waiting.join(', ')}`
    })
    log.info({ mode: source.mode }, 'cluster mode: watching namespaces, pull secrets and service accounts')
  }

  const app = buildApp({ config: () => configReloader.current(), tls, logger: log, cluster: store, metrics })
  const health = buildHealthApp({ notReady: () => lifecycle.notReady(), logger: log, metrics })
  await health.listen({ port: settings.healthPort, host: settings.host })
  await app.listen({ port: settings.port, host: settings.host })
  const certReloader = createCertReloader({
    certFile, keyFile, server: app.server as unknown as HttpsServer, log, metrics, pollMs: settings.reloadPollMs,
  })
  log.info({ port: settings.port, healthPort: settings.healthPort }, 'pullguard is serving')

  const stop = (signal: string): void => {
    log.info({ signal }, 'signal received')
    lifecycle.shutdown({
      drainMs: settings.drainMs,
      servers: [app, health],
      cleanups: [() => configReloader.close(), () => certReloader.close(), async () => await informers?.stop()],
      log,
    }).then(() => process.exit(0), (err: unknown) => {
      log.error({ err }, 'error while stopping')
      process.exit(1)
    })
  }
  process.once('SIGTERM', () => stop('SIGTERM'))
  process.once('SIGINT', () => stop('SIGINT'))
}

async function certificateFiles (settings: Settings, log: Logger): Promise<{ certFile: string, keyFile: string }> {
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
  process.exitCode = 1
}

void main()
