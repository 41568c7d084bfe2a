/**
 * POST /preview: the curl-friendly dry run. Takes a Pod, a workload (its pod
 * template), several YAML documents, a List, or a whole AdmissionReview, and
 * shows what the webhook would do: the patch, the patched object, one
 * decision per image, the warnings, and whether the validating webhook would
 * then accept the result. The decision is src/preview/evaluate.ts, shared
 * with `pullguard preview`.
 *
 * One Pod (or AdmissionReview) keeps the answer /preview has always given
 * (`patch`, `patchedPod`, `images`, `warnings`, `validation`); anything else
 * gets the multi-object report (src/preview/report.ts).
 */
import type { FastifyPluginAsync, FastifyReply } from 'fastify'
import type { ClusterView } from '../cluster/types.js'
import type { Config } from '../config/compile.js'
import type { Metrics } from '../metrics.js'
import { isObject } from '../admission/pod.js'
import type { AdmissionInput } from '../admission/request.js'
import { decodeReview } from '../admission/review.js'
import { decisionOf } from '../admission/outcome.js'
import { PullguardError } from '../errors.js'
import { useYamlParser, YamlBody } from '../http/parsers.js'
import { manifestsFromValue, type ManifestObject } from '../preview/documents.js'
import { isNamespaceName } from '../config/names.js'
import { podCreateInput, previewObject, previewPod, type PodPreview } from '../preview/evaluate.js'
import { previewReport } from '../preview/report.js'

export interface PreviewRoutesOptions {
  readonly config: () => Config
  readonly cluster?: ClusterView | undefined
  readonly metrics?: Metrics | undefined
}

const QUERY_KEYS = new Set(['namespace', 'operation', 'pretty'])

interface Query {
  readonly namespace: string | undefined
  readonly pretty: boolean
  /** Whether namespace or operation was given (an AdmissionReview carries its own). */
  readonly given: boolean
}

export const previewRoutes: FastifyPluginAsync<PreviewRoutesOptions> = async (app, options) => {
  useYamlParser(app)
  app.post('/preview', async (request, reply) => {
    const query = readQuery(request.query as Record<string, unknown>)
    const objects = request.body instanceof YamlBody ? request.body.objects : manifestsFromValue(request.body)
    const config = options.config()
    const count = (pod: PodPreview): void => {
      const { input, outcome } = pod
      options.metrics?.admissionRequests.inc({ endpoint: 'preview', operation: input.operation, subResource: input.subResource, decision: decisionOf(outcome) })
    }
    const single = objects.length === 1 ? singlePodInput(objects[0] as ManifestObject, query) : undefined
    if (single !== undefined) {
      const pod = previewPod(single, config, options.cluster)
      count(pod)
      return send(reply, query, singleAnswer(pod))
    }
    const previews = objects.map((object) => previewObject(object, { config, cluster: options.cluster, namespace: query.namespace }))
    for (const preview of previews) if (preview.pod !== undefined) count(preview.pod)
    return send(reply, query, previewReport(previews))
  })
}

/** The answer /preview has always given for one Pod or AdmissionReview. */
function singleAnswer (pod: PodPreview): Record<string, unknown> {
  const { input, outcome, patchedPod, validation } = pod
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
    validation,
  }
}

/** One Pod (kind Pod, or no kind: the original /preview body) or one AdmissionReview; undefined for anything else. */
function singlePodInput (object: ManifestObject, query: Query): AdmissionInput | undefined {
  const body = object.value
  if (body.kind === 'AdmissionReview') {
    if (query.given) throw badQuery('an AdmissionReview carries its own namespace and operation; drop the query parameters')
    return decodeReview(body).input
  }
  if (body.kind !== undefined && body.kind !== 'Pod') return undefined
  const metadata = isObject(body.metadata) ? body.metadata : {}
  const fromObject = typeof metadata.namespace === 'string' && metadata.namespace !== '' ? metadata.namespace : 'default'
  return podCreateInput(body, query.namespace ?? fromObject)
}

function readQuery (query: Record<string, unknown>): Query {
  for (const key of Object.keys(query)) {
    if (!QUERY_KEYS.has(key)) throw badQuery(`unknown query parameter "${key.slice(0, 40)}"; known: namespace, operation, pretty`)
  }
  const { namespace, operation, pretty } = query
  if (operation !== undefined && operation !== 'CREATE') {
    throw badQuery('operation must be CREATE for objects; send a whole AdmissionReview (with oldObject) to preview an UPDATE')
  }
  if (namespace !== undefined && !isNamespaceName(namespace)) throw badQuery('namespace must be a namespace name (RFC 1123 label)')
  // As the API server's ?pretty: present, empty or true means indented.
  if (pretty !== undefined && !['', 'true', '1', 'false', '0'].includes(String(pretty))) throw badQuery('pretty must be true or false')
  return {
    namespace,
    pretty: pretty !== undefined && !['false', '0'].includes(String(pretty)),
    given: namespace !== undefined || operation !== undefined,
  }
}

function send (reply: FastifyReply, query: Query, body: unknown): unknown {
  if (!query.pretty) return body
  return reply.type('application/json; charset=utf-8').send(`${JSON.stringify(body, null, 2)}\n`)
}

function badQuery (message: string): PullguardError {
  return new PullguardError('PG_BAD_QUERY', message)
}
