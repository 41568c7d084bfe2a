/**
 * POST /preview: the curl-friendly dry run. Takes a Pod (JSON or YAML) or a
 * whole AdmissionReview and shows what the webhook would do to it: the patch,
 * the patched pod, one decision per image, the warnings, and whether the
 * validating webhook would then accept the result.
 */
import type { FastifyPluginAsync } from 'fastify'
import { randomUUID } from 'node:crypto'
import type { ClusterView } from '../cluster/types.js'
import type { Config } from '../config/compile.js'
import type { Metrics } from '../metrics.js'
import { mutate, validate } from '../admission/policy.js'
import { applyPatch } from '../admission/json-patch.js'
import { isObject } from '../admission/pod.js'
import type { AdmissionInput } from '../admission/request.js'
import { decodeReview } from '../admission/review.js'
import { PullguardError } from '../errors.js'
import { useYamlParser } from '../http/parsers.js'
import { decisionOf } from './summary.js'

export interface PreviewRoutesOptions {
  readonly config: () => Config
  readonly cluster?: ClusterView | undefined
  readonly metrics?: Metrics | undefined
}

const NAMESPACE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/
const QUERY_KEYS = new Set(['namespace', 'operation'])

export const previewRoutes: FastifyPluginAsync<PreviewRoutesOptions> = async (app, options) => {
  useYamlParser(app)
  app.post('/preview', async (request) => {
    const input = previewInput(request.body, request.query as Record<string, unknown>)
    const config = options.config()
    const outcome = mutate(input, config, options.cluster)
    const patchedPod = outcome.patch.length > 0 ? applyPatch(input.object, outcome.patch) : input.object
    const check = validate({ ...input, object: patchedPod }, config, options.cluster)
    options.metrics?.admissionRequests.inc({ endpoint: 'preview', operation: input.operation, subResource: input.subResource, decision: decisionOf(outcome) })
    return {
      namespace: input.namespace,
      operation: input.subResource === '' ? input.operation : `${input.operation}/${input.subResource}`,
      decision: decisionOf(outcome),
      allowed: outcome.allowed,
      ...(outcome.denial === undefined ? {} : { denial: outcome.denial.message }),
      ...(outcome.skipped === undefined ? {} : { skipped: outcome.skipped }),
      patch: outcome.patch,
      patchedPod,
      images: outcome.images,
      warnings: outcome.warnings,
      validation: check.allowed ? { allowed: true } : { allowed: false, message: check.denial?.message },
    }
  })
}

function previewInput (body: unknown, query: Record<string, unknown>): AdmissionInput {
  for (const key of Object.keys(query)) {
    if (!QUERY_KEYS.has(key)) throw badQuery(`unknown query parameter "${key.slice(0, 40)}"; known: namespace, operation`)
  }
  if (isObject(body) && body.kind === 'AdmissionReview') {
    if (Object.keys(query).length > 0) throw badQuery('an AdmissionReview carries its own namespace and operation; drop the query parameters')
    return decodeReview(body).input
  }
  if (!isObject(body)) throw new PullguardError('PG_NOT_A_POD', 'body is not a Pod or an AdmissionReview')
  const operation = query.operation ?? 'CREATE'
  if (operation !== 'CREATE') {
    throw badQuery('operation must be CREATE for a bare Pod; send a whole AdmissionReview (with oldObject) to preview an UPDATE')
  }
  const metadata = isObject(body.metadata) ? body.metadata : {}
  const namespace = query.namespace ?? (typeof metadata.namespace === 'string' && metadata.namespace !== '' ? metadata.namespace : 'default')
  if (typeof namespace !== 'string' || !NAMESPACE.test(namespace) || namespace.length > 63) {
    throw badQuery('namespace must be a namespace name (RFC 1123 label)')
  }
  return {
    uid: randomUUID(),
    operation,
    namespace,
    resource: { group: '', version: 'v1', resource: 'pods' },
    subResource: '',
    object: body,
    oldObject: undefined,
    username: '',
    dryRun: true,
  }
}

function badQuery (message: string): PullguardError {
  return new PullguardError('PG_BAD_QUERY', message)
}
