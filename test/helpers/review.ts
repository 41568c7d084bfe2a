/**
 * Builds AdmissionReviews the way the API server sends them, around a pod.
 */
import type { AdmissionInput } from '../../src/admission/request.js'
import { decodeReview } from '../../src/admission/review.js'
import { fixture, type Json } from './fixtures.js'

export interface ReviewOptions {
  operation?: string
  namespace?: string
  subResource?: string
  oldObject?: unknown
  username?: string
  resource?: string
  group?: string
  apiVersion?: string
  dryRun?: boolean
  uid?: string
}

export function reviewOf (pod: Json, options: ReviewOptions = {}): Json {
  const review = fixture('review-create.json')
  const request = review.request
  review.apiVersion = options.apiVersion ?? review.apiVersion
  request.uid = options.uid ?? request.uid
  request.operation = options.operation ?? 'CREATE'
  request.namespace = options.namespace ?? pod?.metadata?.namespace ?? 'team-a'
  request.resource = { group: options.group ?? '', version: 'v1', resource: options.resource ?? 'pods' }
  if (options.subResource !== undefined) request.subResource = options.subResource
  request.object = pod
  request.oldObject = options.oldObject ?? null
  request.dryRun = options.dryRun ?? false
  if (options.username !== undefined) request.userInfo = { username: options.username, groups: ['system:authenticated'] }
  return review
}

export function inputOf (pod: Json, options: ReviewOptions = {}): AdmissionInput {
  return decodeReview(reviewOf(pod, options)).input
}

/** A minimal pod with the given containers (`[name, image, policy?]`). */
export function podWith (containers: Array<[string, string, string?]>, extra: Json = {}): Json {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', namespace: 'team-a', ...(extra.metadata ?? {}) },
    spec: {
      containers: containers.map(([name, image, policy]) => ({ name, image, ...(policy === undefined ? {} : { imagePullPolicy: policy }) })),
      ...(extra.spec ?? {}),
    },
  }
}
