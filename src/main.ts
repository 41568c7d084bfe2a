/**
 * Entry point: the only place that reads files, listens and handles signals.
 */
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { buildApp, buildHealthApp } from './app.js'
import { loadConfig } from './config/compile.js'
import { PullguardError } from './errors.js'
import { createLogger } from './logger.js'
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

async function serve (settings: Settings, log: ReturnType<typeof createLogger>): Promise<void> {
  const config = loadConfig(await readText(settings.configFile, 'config file'), {
    origin: settings.configFile,
    selfNamespace: settings.selfNamespace,
  })
  log.info({ configFile: settings.configFile, example: settings.configIsExample, registries: config.registries.length, alwaysPull: config.alwaysPull }, 'config loaded')

  let certFile: string
  let keyFile: string
  if (settings.tls === undefined) {
    const dev = await ensureDevCertificates(settings.devCertDir)
    ;({ certFile, keyFile } = dev)
    log.info({ certFile, caFile: dev.caFile, generated: dev.generated }, 'using development certificates')
  } else {
    ;({ certFile, keyFile } = settings.tls)
  }
  const tls = { cert: await readText(certFile, 'TLS_CERT_FILE'), key: await readText(keyFile, 'TLS_KEY_FILE') }

  let stopping = false
  const app = buildApp({ config, tls, logger: log })
  const health = buildHealthApp({ notReady: () => (stopping ? 'shutting down' : undefined), logger: log })
  await app.listen({ port: settings.port, host: settings.host })
  await health.listen({ port: settings.healthPort, host: settings.host })
  log.info({ port: settings.port, healthPort: settings.healthPort }, 'pullguard is serving')

  const stop = (signal: string): void => {
    if (stopping) return
    stopping = true
    log.info({ signal }, 'shutting down: finishing in-flight requests')
    // fastify's close() stops accepting, waits for in-flight requests, and
    // closes idle keep-alive connections (forceCloseConnections: 'idle').
    Promise.all([app.close(), health.close()]).then(
      () => { log.info('stopped'); process.exit(0) },
      (err: unknown) => { log.error({ err }, 'error while stopping'); process.exit(1) },
    )
  }
  process.once('SIGTERM', () => stop('SIGTERM'))
  process.once('SIGINT', () => stop('SIGINT'))
}

async function readText (file: string, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error'
    throw new PullguardError('PG_CONFIG_UNREADABLE', `cannot read ${what} ${file} (${code})`)
  }
}

function fail (log: ReturnType<typeof createLogger>, err: unknown): void {
  const message = err instanceof PullguardError ? err.message : 'unexpected error during start-up'
  log.fatal({ code: err instanceof PullguardError ? err.code : 'PG_INTERNAL', ...(err instanceof PullguardError ? {} : { err }) }, message)
  // Also plainly on stderr: `kubectl logs` and a terminal both show it readably.
  process.stderr.write(`pullguard: ${message}\n`)
  process.exitCode = 1
}

void main()
