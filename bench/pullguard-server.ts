/**
 * pullguard as deployed: buildApp() from dist/, over HTTPS, with a generated
 * config of BENCH_ENTRIES registry entries (see bench/config.ts).
 *
 * Logger (BENCH_LOG_LEVEL; run.ts passes 'info', as deployed): the real pino
 * logger from src/logger.ts (redaction compiled), writing synchronously as
 * main.ts's does, to /dev/null instead of stdout. 'warn' builds no review
 * line; 'off' runs without a logger. Prometheus metrics are recorded as in
 * production.
 */
import type { AddressInfo } from 'node:net'
import { pino } from 'pino'
import { benchConfigText } from './config.js'
import { announceAndServe, importDist, tlsFromEnv } from './child.js'

type AppModule = typeof import('../src/app.js')
type CompileModule = typeof import('../src/config/compile.js')
type LoggerModule = typeof import('../src/logger.js')
type MetricsModule = typeof import('../src/metrics.js')

const entries = Number(process.env.BENCH_ENTRIES ?? '10')
const level = process.env.BENCH_LOG_LEVEL ?? 'warn'

const { buildApp } = await importDist<AppModule>('app.js')
const { loadConfig } = await importDist<CompileModule>('config/compile.js')
const { createLogger } = await importDist<LoggerModule>('logger.js')
const { createMetrics } = await importDist<MetricsModule>('metrics.js')

const config = loadConfig(benchConfigText(entries), { origin: `bench config (${entries} entries)` })
if (config.registries.length !== entries) throw new Error(`config has ${config.registries.length} entries, expected ${entries}`)

const logger = level === 'off' ? undefined : createLogger({ level, destination: pino.destination({ dest: '/dev/null', sync: true }) })
// Metrics on, as main.ts runs it: every review updates the counters.
const app = buildApp({ config, tls: tlsFromEnv(), logger, metrics: createMetrics() })
await app.listen({ host: '127.0.0.1', port: 0 })
announceAndServe((app.server.address() as AddressInfo).port)
