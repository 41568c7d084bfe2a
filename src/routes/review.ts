/**
 * POST /mutate and POST /validate: AdmissionReview in, AdmissionReview out.
 * Thin: decode, call the pure policy, encode, log one line.
 */
import type { FastifyInstance, FastifyPluginAsync } from 'fastify'
import type { Config } from '../config/compile.js'
import { decodeReview, reviewResponse } from '../admission/review.js'
import { mutate, validate } from '../admission/policy.js'
import type { Outcome } from '../admission/outcome.js'
import type { AdmissionInput } from '../admission/request.js'
import { podNameOf, summarize } from './summary.js'

export interface ReviewRoutesOptions {
  readonly config: () => Config
}

type Decide = (input: AdmissionInput, config: Config) => Outcome

export const reviewRoutes: FastifyPluginAsync<ReviewRoutesOptions> = async (app, options) => {
  route(app, '/mutate', mutate, options)
  route(app, '/validate', validate, options)
}

function route (app: FastifyInstance, url: string, decide: Decide, options: ReviewRoutesOptions): void {
  app.post(url, async (request) => {
    const started = process.hrtime.bigint()
    const review = decodeReview(request.body)
    const outcome = decide(review.input, options.config())
    const log = request.log.child({ uid: review.input.uid })
    log.info({
      endpoint: url.slice(1),
      namespace: review.input.namespace,
      pod: podNameOf(review.input.object),
      operation: review.input.subResource === '' ? review.input.operation : `${review.input.operation}/${review.input.subResource}`,
      dryRun: review.input.dryRun,
      ...summarize(outcome),
      durationMs: Number(process.hrtime.bigint() - started) / 1e6,
    }, 'admission review')
    return reviewResponse(review, outcome)
  })
}
