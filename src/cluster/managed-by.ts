/**
 * The label pullguard puts on every object it writes (the bootstrap Secret,
 * distributed pull-secret copies, the private-images ConfigMap), the
 * recommended `app.kubernetes.io/managed-by` label
 * (kubernetes.io/docs/concepts/overview/working-with-objects/common-labels/).
 * One owner, so that a list by label selector finds exactly what was written.
 */
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by'
export const MANAGED_BY = 'pullguard'
