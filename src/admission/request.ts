/**
 * The plain-data view of an admission request that the policy reads: the same
 * shape whether it came from an AdmissionReview (v1 or v1beta1) or from the
 * /preview endpoint.
 */
export interface GroupVersionResource {
  readonly group: string
  readonly version: string
  readonly resource: string
}

export interface AdmissionInput {
  readonly uid: string
  readonly operation: string
  readonly namespace: string
  readonly resource: GroupVersionResource
  readonly subResource: string
  readonly object: unknown
  readonly oldObject: unknown
  readonly username: string
  readonly dryRun: boolean
}
