/**
 * POST /mutate and POST /validate: AdmissionReview in, AdmissionReview out.
 * Thin: decode, call the pure policy, encode, log one line, count.
 */
import type { FastifyInstance, FastifyPluginAsync } from 'fastify'
import type { ClusterView } from '../cluster/types.js'
import type { Config } from '../config/compile.js'
import { decodeReview, encodeReviewResponse, type DecodedReview } from '../admission/review.js'
import { mutate, validate } from '../admission/policy.js'
import type { Outcome } from '../admission/outcome.js'
import type { AdmissionInput } from '../admission/request.js'
import type { ReviewLog } from '../logger.js'
import type { Metrics, Webhook } from '../metrics.js'
import { recordError, recordOutcome } from '../metrics/admission-recording.js'
import { reviewLine } from '../admission/review-line.js'

export interface ReviewRoutesOptions {
  readonly config: () => Config
  readonly cluster?: ClusterView | undefined
  readonly metrics?: Metrics | undefined
  /** The per-review line's writer (logger.ts createReviewLog); undefined: no line. */
  readonly reviewLog?: ReviewLog | undefined
}

type Decide = (input: AdmissionInput, config: Config, cluster?: ClusterView) => Outcome

export const reviewRoutes: FastifyPluginAsync<ReviewRoutesOptions> = async (app, options) => {
  route(app, 'mutate', mutate, options)
  route(app, 'validate', validate, options)
}

/** What fastify sets for an object it serialises itself, so the headers do not change. */
const JSON_CONTENT_TYPE = 'application/json; charset=utf-8'

function route (app: FastifyInstance, endpoint: Webhook, decide: Decide, options: ReviewRoutesOptions): void {
  const { metrics, reviewLog } = options
  // Bound once here; see Metrics.reviewReceiver.
  const received = metrics?.reviewReceiver(endpoint) ?? noop
  app.post(`/${endpoint}`, {
    // "The API server called us", before the body is parsed, so a review
    // that turns out malformed (or too large, or the wrong media type) counts.
    onRequest: (_request, _reply, done) => { received(); done() },
    // Bad bodies never reach the handler; count them here.
    onError: async (request) => { recordError(metrics, endpoint, (request as { review?: DecodedReview }).review?.input) },
  }, (request, reply) => {
    // A plain function, not async: fastify catches what it throws (decode
    // errors) just the same (lib/handle-request.js), and the answer needs no
    // promise and no extra microtask per review (issue #11).
    // One clock read at each end serves the log line and the histogram.
    const started = process.hrtime.bigint()
    const review = decodeReview(request.body)
    ;(request as { review?: DecodedReview }).review = review
    const outcome = decide(review.input, options.config(), options.cluster)
    const input = review.input
    const response = encodeReviewResponse(review, outcome)
    const seconds = Number(process.hrtime.bigint() - started) / 1e9
    // Already JSON text: with its content type set, fastify sends the string
    // as it is instead of running its serializer over the object again.
    reply.type(JSON_CONTENT_TYPE).send(response)
    // uid in the line itself: a child logger per request costs more than the decision.
    reviewLog?.(reviewLine(endpoint, input, outcome, seconds * 1000))
    recordOutcome(metrics, endpoint, input, outcome, seconds)
  })
}

function noop (): void {}
