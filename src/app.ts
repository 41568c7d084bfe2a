/**
 * buildApp() and buildHealthApp() assemble the servers; they never listen.
 * main.ts owns listening, signals and files; tests call these directly.
 */
import { fastify, LogController, type FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import type { ClusterView } from './cluster/types.js'
import type { Config } from './config/compile.js'
import { createReviewLog, type ReviewLogLevel } from './logger.js'
import type { Metrics } from './metrics.js'
import { metricsRoute } from './routes/metrics.js'
import { clientErrorHandler } from './http/client-error.js'
import { trackConnections } from './http/drain.js'
import { useErrorHandler } from './http/error-handler.js'
import { useJsonParser } from './http/parsers.js'
import { healthRoutes } from './routes/health.js'
import { previewRoutes } from './routes/preview.js'
import { reviewRoutes } from './routes/review.js'
import { TLS_MIN_VERSION } from './tls/server-options.js'

/**
 * An AdmissionReview holds the object and, on UPDATE, the oldObject. The API
 * server accepts request bodies up to 3 MiB (apiserver MaxRequestBodyBytes)
 * and stores objects up to etcd's 1.5 MiB, so object + oldObject stay under
 * 6 MiB; 1 MiB more covers the review envelope and JSON re-encoding.
 * (controller-runtime's webhook server allows the same 7 MiB.)
 */
export const BODY_LIMIT = 7 * 1024 * 1024

/**
 * The API server keeps idle webhook connections for 90 s (net/http
 * Transport IdleConnTimeout in k8s.io/apiserver's webhook client); closing
 * them earlier races with a request being sent on them. Webhook calls time out
 * after at most 30 s (timeoutSeconds ≤ 30), so nothing legitimate takes longer.
 */
export const KEEP_ALIVE_TIMEOUT_MS = 95_000
export const HEADERS_TIMEOUT_MS = 10_000
export const REQUEST_TIMEOUT_MS = 30_000

export interface Timeouts {
  /** Headers must have arrived this long after the request's first byte. */
  readonly headersMs: number
  /** The whole request (headers and body) must have arrived within this. */
  readonly requestMs: number
}

const DEFAULT_TIMEOUTS: Timeouts = { headersMs: HEADERS_TIMEOUT_MS, requestMs: REQUEST_TIMEOUT_MS }

/**
 * Node enforces headersTimeout and requestTimeout by sweeping its connections
 * every connectionsCheckingInterval (default 30 s), so a timeout fires up to
 * that much late. Sweeping every second (a quarter of a short test timeout)
 * keeps them within about a second of their values; a sweep walks the open
 * connections only, which costs microseconds for hundreds of them.
 */
export function checkingIntervalMs (timeouts: Timeouts): number {
  return Math.max(10, Math.min(1000, Math.floor(timeouts.headersMs / 4)))
}

/** Node options for both servers: timeouts that hold (see checkingIntervalMs). */
function serverOptions (timeouts: Timeouts): { requestTimeout: number, headersTimeout: number, connectionsCheckingInterval: number } {
  return { requestTimeout: timeouts.requestMs, headersTimeout: timeouts.headersMs, connectionsCheckingInterval: checkingIntervalMs(timeouts) }
}

/**
 * Graceful close for every app (http/drain.ts): Connection: close from
 * SIGTERM, spare connections destroyed at the end of the drain, and nothing
 * left after the longest a request may take to arrive.
 */
function useDrain (app: FastifyInstance, timeouts: Timeouts): void {
  const drain = trackConnections(app.server, { capMs: timeouts.requestMs })
  app.addHook('preClose', (done) => { drain.close(); done() })
}

export interface TlsMaterial {
  readonly key: string | Buffer
  readonly cert: string | Buffer
}

export interface AppOptions {
  /** A function so a reloaded config takes effect on the next request. */
  readonly config: Config | (() => Config)
  /** Cluster mode: the informers' view. Absent in local mode. */
  readonly cluster?: ClusterView | undefined
  readonly metrics?: Metrics | undefined
  /** Without it the app speaks plain HTTP (for inject() tests only). */
  readonly tls?: TlsMaterial | undefined
  readonly logger?: Logger | undefined
  /** The level of the one line per review (logger.ts REVIEW_LOG_LEVELS); default info. */
  readonly reviewLogLevel?: ReviewLogLevel | undefined
  /** Tests shorten them; the defaults are the documented 10 s and 30 s. */
  readonly timeouts?: Timeouts | undefined
}

export function buildApp (options: AppOptions): FastifyInstance {
  const getConfig = typeof options.config === 'function' ? options.config : constant(options.config)
  const timeouts = options.timeouts ?? DEFAULT_TIMEOUTS
  const app = fastify({
    ...(options.tls === undefined
      ? { http: serverOptions(timeouts) }
      : { https: { key: options.tls.key, cert: options.tls.cert, minVersion: TLS_MIN_VERSION, ...serverOptions(timeouts) } }),
    ...(options.logger === undefined ? { logger: false } : { loggerInstance: options.logger }),
    // No child logger per request: a pino child costs more than some decisions,
    // and the one line per review carries the review's uid itself.
    childLoggerFactory: (logger) => logger,
    bodyLimit: BODY_LIMIT,
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    requestTimeout: timeouts.requestMs,
    // One line per review comes from the route; fastify's own per-request lines are off.
    logController: new LogController({ disableRequestLogging: true }),
    // Closing is http/drain.ts's job: it never cuts a request in flight.
    forceCloseConnections: false,
    // A request that arrives on an open keep-alive connection while closing
    // is still answered: a 503 there would fail an admission call.
    return503OnClosing: false,
    clientErrorHandler,
  }) as unknown as FastifyInstance
  useDrain(app, timeouts)
  useErrorHandler(app)
  useJsonParser(app)
  const routeOptions = { config: getConfig, cluster: options.cluster, metrics: options.metrics }
  void app.register(reviewRoutes, { ...routeOptions, reviewLog: createReviewLog(options.logger, options.reviewLogLevel) })
  void app.register(previewRoutes, routeOptions)
  return app
}

export interface HealthAppOptions {
  readonly notReady: () => string | undefined
  readonly logger?: Logger | undefined
  /** Serves GET /metrics when given. */
  readonly metrics?: Metrics | undefined
  readonly timeouts?: Timeouts | undefined
}

export function buildHealthApp (options: HealthAppOptions): FastifyInstance {
  const timeouts = options.timeouts ?? DEFAULT_TIMEOUTS
  const app = fastify({
    http: serverOptions(timeouts),
    requestTimeout: timeouts.requestMs,
    ...(options.logger === undefined ? { logger: false } : { loggerInstance: options.logger }),
    logController: new LogController({ disableRequestLogging: true }),
    // The kubelet's probes and Prometheus get the same drain as the API server.
    forceCloseConnections: false,
    return503OnClosing: false,
    clientErrorHandler,
  }) as unknown as FastifyInstance
  useDrain(app, timeouts)
  useErrorHandler(app)
  void app.register(healthRoutes, { notReady: options.notReady })
  if (options.metrics !== undefined) void app.register(metricsRoute, { registry: options.metrics.registry })
  return app
}

function constant<T> (value: T): () => T {
  return () => value
}
