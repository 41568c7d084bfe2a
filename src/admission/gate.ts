/**
 * Which requests the policy looks at. Everything else is allowed untouched:
 * other resources, DELETE and CONNECT, subresources other than
 * pods/ephemeralcontainers (bindings, evictions, status...), excluded
 * namespaces, and mirror pods.
 */
import type { Config } from '../config/compile.js'
import type { SkipReason } from './outcome.js'
import { asPod, type Pod } from './pod.js'
import type { AdmissionInput } from './request.js'

export type Gate =
  | { readonly skip: SkipReason }
  | { readonly skip?: undefined, readonly kind: 'create' | 'update' | 'ephemeral', readonly namespace: string, readonly pod: Pod, readonly oldPod: Pod | undefined }

// pkg/kubelet/types: the kubelet creates a mirror pod for every static pod it
// runs; the static pod's image is pulled from the node's manifest and no
// webhook can change it, so mutating or denying the mirror only breaks the
// node's view of its own pods. Only a node may create one (NodeRestriction).
const MIRROR_ANNOTATION = 'kubernetes.io/config.mirror'
const NODE_USER_PREFIX = 'system:node:'

export function gate (input: AdmissionInput, config: Config): Gate {
  if (input.resource.group !== '' || input.resource.resource !== 'pods') return { skip: 'not-pods' }
  let kind: 'create' | 'update' | 'ephemeral'
  if (input.subResource === '') {
    if (input.operation === 'CREATE') kind = 'create'
    else if (input.operation === 'UPDATE') kind = 'update'
    else return { skip: 'operation' }
  } else if (input.subResource === 'ephemeralcontainers') {
    if (input.operation !== 'UPDATE') return { skip: 'operation' }
    kind = 'ephemeral'
  } else {
    return { skip: 'subresource' }
  }
  if (config.isExcluded(input.namespace)) return { skip: 'excluded-namespace' }
  const pod = asPod(input.object, 'object')
  const oldPod = kind === 'create' ? undefined : asPod(input.oldObject, 'oldObject')
  if (Object.hasOwn(pod.annotations, MIRROR_ANNOTATION) && input.username.startsWith(NODE_USER_PREFIX)) {
    return { skip: 'mirror-pod' }
  }
  return { kind, namespace: input.namespace, pod, oldPod }
}
