/**
 * AdmissionReview in, AdmissionReview out (admission.k8s.io/v1 and v1beta1,
 * which share the fields pullguard uses). The answer is sent in the version
 * and kind of the request, with its uid echoed, as the API server requires
 * (staging/src/k8s.io/apiserver/pkg/admission/plugin/webhook/request/admissionreview.go
 * rejects a response whose uid or version does not match).
 */
import { PullguardError } from '../errors.js'
import { auditAnnotations } from './audit.js'
import { encodePatch } from './json-patch.js'
import type { Outcome } from './outcome.js'
import { isObject } from './pod.js'
import type { AdmissionInput } from './request.js'
import { truncate } from '../text/truncate.js'

const REVIEW_VERSIONS: readonly string[] = ['admission.k8s.io/v1', 'admission.k8s.io/v1beta1']

export interface DecodedReview {
  readonly apiVersion: string
  readonly input: AdmissionInput
}

export function decodeReview (body: unknown): DecodedReview {
  if (!isObject(body)) throw invalid('body is not a JSON object')
  const apiVersion = reviewVersion(body)
  const request = body.request
  if (!isObject(request)) throw invalid('request is missing or not an object')
  return { apiVersion, input: admissionInput(request) }
}

/** The envelope's apiVersion, once it is known to be an AdmissionReview pullguard speaks. */
function reviewVersion (body: Record<string, unknown>): string {
  if (isManifest(body)) {
    // Someone tried the webhook endpoint by hand with a manifest: say where it belongs.
    throw new PullguardError('PG_NOT_A_REVIEW', `this is ${kindPhrase(body.kind)}, not an AdmissionReview: use /preview to see what pullguard would do to it`)
  }
  const apiVersion = body.apiVersion
  if (typeof apiVersion !== 'string' || !REVIEW_VERSIONS.includes(apiVersion)) {
    throw new PullguardError('PG_REVIEW_UNKNOWN_VERSION',
      `AdmissionReview apiVersion ${short(apiVersion)} is not supported; send one of ${REVIEW_VERSIONS.join(', ')}`)
  }
  if (body.kind !== 'AdmissionReview') throw invalid(`kind is ${short(body.kind)}, expected "AdmissionReview"`)
  return apiVersion
}

/** The fields of `request` pullguard uses; uid, resource and operation are required. */
function admissionInput (request: Record<string, unknown>): AdmissionInput {
  const uid = request.uid
  if (typeof uid !== 'string' || uid === '') throw invalid('request.uid is missing or empty')
  const resource = request.resource
  if (!isObject(resource) || typeof resource.resource !== 'string') throw invalid('request.resource is missing')
  const operation = request.operation
  if (typeof operation !== 'string' || operation === '') throw invalid('request.operation is missing')
  const userInfo = isObject(request.userInfo) ? request.userInfo : {}
  return {
    uid,
    operation,
    namespace: optionalString(request.namespace) || namespaceOf(request.object) || namespaceOf(request.oldObject),
    resource: {
      group: optionalString(resource.group),
      version: optionalString(resource.version),
      resource: resource.resource,
    },
    subResource: optionalString(request.subResource),
    object: request.object,
    oldObject: request.oldObject,
    username: optionalString(userInfo.username),
    dryRun: request.dryRun === true,
  }
}

export interface ReviewResponse {
  apiVersion: string
  kind: 'AdmissionReview'
  response: {
    uid: string
    allowed: boolean
    status?: { code: number, reason: string, message: string }
    patchType?: 'JSONPatch'
    patch?: string
    warnings?: string[]
    /** Recorded by the API server in its audit log as `<webhook name>/<key>`. */
    auditAnnotations?: Record<string, string>
  }
}

/** Named constructor for every outcome: `patchType` appears only together with a patch. */
export function reviewResponse (review: DecodedReview, outcome: Outcome): ReviewResponse {
  const response = responseOf(review, outcome)
  // Callers may keep and change the object: it shares no array with the outcome.
  if (response.auditAnnotations !== undefined) response.auditAnnotations = { ...response.auditAnnotations }
  if (response.warnings !== undefined) response.warnings = [...response.warnings]
  return { apiVersion: review.apiVersion, kind: 'AdmissionReview', response }
}

/**
 * The `{"apiVersion":…,"kind":"AdmissionReview","response":` opening of an
 * answer, one per supported version, so the hot path stringifies only the
 * response (issue #11). Key order is reviewResponse's, so the bytes on the
 * wire are what JSON.stringify of reviewResponse gives.
 */
const ENVELOPES: ReadonlyMap<string, string> = new Map(REVIEW_VERSIONS.map((v) => [v, `{"apiVersion":${JSON.stringify(v)},"kind":"AdmissionReview","response":`]))

/** reviewResponse as JSON text: what the webhook routes send. */
export function encodeReviewResponse (review: DecodedReview, outcome: Outcome): string {
  const envelope = ENVELOPES.get(review.apiVersion) ?? `{"apiVersion":${JSON.stringify(review.apiVersion)},"kind":"AdmissionReview","response":`
  return envelope + JSON.stringify(responseOf(review, outcome)) + '}'
}

/** The response, sharing the outcome's warnings and audit annotations (stringified at once by encodeReviewResponse). */
function responseOf (review: DecodedReview, outcome: Outcome): ReviewResponse['response'] {
  const response: ReviewResponse['response'] = { uid: review.input.uid, allowed: outcome.allowed }
  if (outcome.denial !== undefined) {
    const { code, reason, message } = outcome.denial
    response.status = { code, reason, message }
  }
  if (outcome.allowed && outcome.patch.length > 0) {
    response.patchType = 'JSONPatch'
    response.patch = encodePatch(outcome.patch)
    const audit = auditAnnotations(outcome)
    if (audit !== undefined) response.auditAnnotations = audit as Record<string, string>
  }
  if (outcome.warnings.length > 0) response.warnings = outcome.warnings as string[]
  return response
}

/** A Kubernetes object rather than a review: a kind other than AdmissionReview and no `request`. */
function isManifest (body: Record<string, unknown>): boolean {
  return typeof body.kind === 'string' && body.kind !== 'AdmissionReview' && body.request === undefined
}

// Only a kind-shaped name is repeated back (a kind is a CamelCase identifier); anything else is described.
function kindPhrase (kind: unknown): string {
  if (typeof kind !== 'string' || !/^[A-Z][A-Za-z0-9]{0,62}$/.test(kind)) return 'a Kubernetes object'
  return `${/^[AEIOU]/.test(kind) ? 'an' : 'a'} ${kind}`
}

function invalid (problem: string): PullguardError {
  return new PullguardError('PG_REVIEW_INVALID', `not a valid AdmissionReview: ${problem}`)
}

function optionalString (value: unknown): string {
  return typeof value === 'string' ? value : ''
}

function namespaceOf (object: unknown): string {
  return isObject(object) && isObject(object.metadata) ? optionalString(object.metadata.namespace) : ''
}

function short (value: unknown): string {
  return truncate(JSON.stringify(value) ?? String(value), 60)
}
