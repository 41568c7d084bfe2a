/**
 * One rung of bench/ladder.ts: a server that does part of what pullguard
 * does for /mutate, chosen by LADDER_STEP. Each rung adds one layer to the
 * one before, so the difference between two rungs is what that layer costs:
 *
 * - same-answer: bare node:https like baseline-server.ts, but answering with
 *   pullguard's own answer for the bench body (the patch, about 700 bytes).
 * - fastify: a fastify route with fastify's JSON parser, the same answer.
 * - fastify+parser: pullguard's JSON parser (http/parsers.ts: the body guard).
 * - fastify+decision: decodeReview, mutate and encodeReviewResponse in the
 *   handler, the real decision and answer.
 * - buildApp: src/app.ts's buildApp() without logger and metrics (hooks,
 *   error handler, drain, the review route).
 * - buildApp+logger+metrics: with both, the per-review line off
 *   (LOG_REVIEW_LEVEL=debug, the logger at info).
 *
 * pullguard as deployed is pullguard-server.ts.
 */
import https from 'node:https'
import type { AddressInfo } from 'node:net'
import { fastify } from 'fastify'
import { pino } from 'pino'
import { benchConfigText } from './config.js'
import { announceAndServe, importDist, tlsFromEnv } from './child.js'
import { LADDER_STEPS, type LadderStep } from './ladder-steps.js'
import { reviewBody } from './review.js'

type AppModule = typeof import('../src/app.js')
type CompileModule = typeof import('../src/config/compile.js')
type LoggerModule = typeof import('../src/logger.js')
type MetricsModule = typeof import('../src/metrics.js')
type ParsersModule = typeof import('../src/http/parsers.js')
type ReviewModule = typeof import('../src/admission/review.js')
type PolicyModule = typeof import('../src/admission/policy.js')

const step = process.env.LADDER_STEP as LadderStep
if (!LADDER_STEPS.includes(step)) throw new Error(`LADDER_STEP must be one of ${LADDER_STEPS.join(', ')}, got ${JSON.stringify(step)}`)

const { buildApp, KEEP_ALIVE_TIMEOUT_MS, HEADERS_TIMEOUT_MS, REQUEST_TIMEOUT_MS } = await importDist<AppModule>('app.js')
const { loadConfig } = await importDist<CompileModule>('config/compile.js')
const { createLogger } = await importDist<LoggerModule>('logger.js')
const { createMetrics } = await importDist<MetricsModule>('metrics.js')
const { useJsonParser } = await importDist<ParsersModule>('http/parsers.js')
const { decodeReview, encodeReviewResponse } = await importDist<ReviewModule>('admission/review.js')
const { mutate } = await importDist<PolicyModule>('admission/policy.js')

const tls = tlsFromEnv()
const config = loadConfig(benchConfigText(10), { origin: 'bench config (10 entries)' })
const JSON_CONTENT_TYPE = 'application/json; charset=utf-8'

/** pullguard's answer to the bench body, computed once by the real code. */
function fixedAnswer (): string {
  const review = decodeReview(JSON.parse(reviewBody(Number(process.env.LADDER_CONTAINERS ?? '3')).text))
  return encodeReviewResponse(review, mutate(review.input, config))
}

async function listen (): Promise<number> {
  switch (step) {
    case 'same-answer': return bareHttps(fixedAnswer())
    case 'fastify':
    case 'fastify+parser':
    case 'fastify+decision': return fastifyRoute(step)
    case 'buildApp':
    case 'buildApp+logger+metrics': {
      const full = step === 'buildApp+logger+metrics'
      const app = buildApp({
        config,
        tls,
        logger: full ? createLogger({ level: 'info', destination: pino.destination({ dest: '/dev/null', sync: true }) }) : undefined,
        metrics: full ? createMetrics() : undefined,
        reviewLogLevel: 'debug',
      })
      await app.listen({ host: '127.0.0.1', port: 0 })
      return (app.server.address() as AddressInfo).port
    }
  }
}

/** baseline-server.ts with another answer. */
async function bareHttps (answer: string): Promise<number> {
  const server = https.createServer({ key: tls.key, cert: tls.cert, minVersion: 'TLSv1.2' }, (req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => { chunks.push(chunk) })
    req.on('end', () => {
      JSON.parse(Buffer.concat(chunks).toString('utf8'))
      res.writeHead(200, { 'content-type': JSON_CONTENT_TYPE, 'content-length': Buffer.byteLength(answer) })
      res.end(answer)
    })
  })
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS
  server.requestTimeout = REQUEST_TIMEOUT_MS
  server.headersTimeout = HEADERS_TIMEOUT_MS
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return (server.address() as AddressInfo).port
}

async function fastifyRoute (rung: 'fastify' | 'fastify+parser' | 'fastify+decision'): Promise<number> {
  const app = fastify({
    https: { key: tls.key, cert: tls.cert, minVersion: 'TLSv1.2' },
    logger: false,
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    requestTimeout: REQUEST_TIMEOUT_MS,
  })
  if (rung !== 'fastify') useJsonParser(app as never)
  const answer = fixedAnswer()
  app.post('/mutate', (request, reply) => {
    if (rung !== 'fastify+decision') {
      reply.type(JSON_CONTENT_TYPE).send(answer)
      return
    }
    const review = decodeReview(request.body)
    reply.type(JSON_CONTENT_TYPE).send(encodeReviewResponse(review, mutate(review.input, config)))
  })
  await app.listen({ host: '127.0.0.1', port: 0 })
  return (app.server.address() as AddressInfo).port
}

announceAndServe(await listen())
