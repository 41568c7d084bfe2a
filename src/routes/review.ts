/**
 * POST /mutate and POST /validate: AdmissionReview in, AdmissionReview out.
 * Thin: decode, call the pure policy, encode, log one line, count.
 */
import type { FastifyBaseLogger, FastifyInstance, FastifyPluginAsync } from 'fastify'
import type { ClusterView } from '../cluster/types.js'
import type { Config } from '../config/compile.js'
import { decodeReview, reviewResponse, type DecodedReview } from '../admission/review.js'
import { mutate, validate } from '../admission/policy.js'
import type { Outcome } from '../admission/outcome.js'
import type { AdmissionInput } from '../admission/request.js'
import type { Metrics, Webhook } from '../metrics.js'
import { recordError, recordOutcome } from './record.js'
import { forLog, podNameOf, summarize } from './summary.js'

export interface ReviewRoutesOptions {
  readonly config: () => Config
  readonly cluster?: ClusterView | undefined
  readonly metrics?: Metrics | undefined
}

type Decide = (input: AdmissionInput, config: Config, cluster?: ClusterView) => Outcome

export const reviewRoutes: FastifyPluginAsync<ReviewRoutesOptions> = async (app, options) => {
  route(app, 'mutate', mutate, options)
  route(app, 'validate', validate, options)
}

function route (app: FastifyInstance, endpoint: Webhook, decide: Decide, options: ReviewRoutesOptions): void {
  const { metrics } = options
  // Bound once here; see Metrics.reviewReceiver.
  const received = metrics?.reviewReceiver(endpoint) ?? noop
  app.post(`/${endpoint}`, {
    // "The API server called us", before the body is parsed, so a review
    // that turns out malformed (or too large, or the wrong media type) counts.
    onRequest: (_request, _reply, done) => { received(); done() },
    // Bad bodies never reach the handler; count them here.
    onError: async (request) => { recordError(metrics, endpoint, (request as { review?: DecodedReview }).review?.input) },
  }, async (request) => {
    const done = metrics?.admissionDuration.startTimer(endpoint)
    const started = process.hrtime.bigint()
    const review = decodeReview(request.body)
    ;(request as { review?: DecodedReview }).review = review
    const outcome = decide(review.input, options.config(), options.cluster)
    const input = review.input
    // uid in the line itself: a child logger per request costs more than the decision.
    if (infoEnabled(request.log)) request.log.info({
      uid: forLog(input.uid),
      endpoint,
      namespace: forLog(input.namespace),
      pod: podNameOf(input.object),
      operation: input.subResource === '' ? input.operation : `${input.operation}/${input.subResource}`,
      dryRun: input.dryRun,
      ...summarize(outcome),
      durationMs: Number(process.hrtime.bigint() - started) / 1e6,
    }, 'admission review')
    recordOutcome(metrics, endpoint, input, outcome)
    done?.()
    return reviewResponse(review, outcome)
  })
}

function noop (): void {}

/** pino's isLevelEnabled; fastify's no-op logger (no logger configured) has none and logs nothing. */
function infoEnabled (log: FastifyBaseLogger): boolean {
  const check = (log as Partial<{ isLevelEnabled: (level: string) => boolean }>).isLevelEnabled
  return check === undefined ? false : check.call(log, 'info')
}
