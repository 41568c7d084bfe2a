/**
 * docs/threat-model.md, row by row: every path by which an image reaches a
 * node, in every alwaysPull mode, with pullguard up (the real HTTPS server,
 * real AdmissionReviews, the patch applied) and down (the shipped
 * ValidatingAdmissionPolicies, rendered with kubectl kustomize and evaluated
 * as the API server does, on the unmutated request, with the ConfigMap
 * pullguard writes). The image is team-a's private image, requested from
 * team-c, where its credential is not allowed: the case the whole product
 * exists for.
 */
import t, { type Test } from 'tap'
import { fileURLToPath } from 'node:url'
import jsonpatch from 'fast-json-patch'
import { ClusterStore } from '../src/cluster/store.js'
import type { AlwaysPullMode } from '../src/config/schema.js'
import { privateImagesInputs, privateImagesParams, PRIVATE_IMAGES_NAME } from '../src/kube/private-images-params.js'
import { namespaceObject } from './helpers/cluster.js'
import { configFrom, fixture, type Json } from './helpers/fixtures.js'
import { startServer, type RunningServer } from './helpers/server.js'
import { evaluatePolicy } from './manifests/cel.js'
import { findKubectl, KUBECTL_MISSING, kustomize, one, selects, type KObject } from './manifests/k8s.js'

const MODES: readonly AlwaysPullMode[] = ['off', 'all', 'private']
const PRIVATE = 'ghcr.io/acme/web:2.1.0'
const TENANT = 'team-c'

function configFor (mode: AlwaysPullMode): ReturnType<typeof configFrom> {
  return configFrom(`
registries:
  - match: ghcr.io/acme
    secrets: [ghcr-acme]
    namespaces: [team-a]
alwaysPull: ${mode}
`)
}

const container = (name: string, image: string, extra: Json = {}): Json => ({ name, image, imagePullPolicy: 'IfNotPresent', ...extra })
const podOf = (spec: Json, metadata: Json = {}): Json => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: TENANT, ...metadata }, spec })

interface Request {
  operation: 'CREATE' | 'UPDATE'
  subResource?: string
  object: Json
  oldObject?: Json
  username?: string
}

interface Path {
  readonly name: string
  readonly request: Request
  /** Where the pull policy sits in the (patched) pod, for CREATE and ephemeral containers. */
  readonly policyOf?: (pod: Json) => unknown
  /** UPDATE: nothing can be patched, a covered image is denied. */
  readonly denies?: boolean
}

const nginxPod = podOf({ containers: [container('app', 'nginx:1.27')] })
const paths: Path[] = [
  { name: 'CREATE, containers', request: { operation: 'CREATE', object: podOf({ containers: [container('app', PRIVATE)] }) }, policyOf: (p) => p.spec.containers[0].imagePullPolicy },
  {
    name: 'CREATE, a sidecar (initContainers, restartPolicy Always)',
    request: { operation: 'CREATE', object: podOf({ initContainers: [container('side', PRIVATE, { restartPolicy: 'Always' })], containers: [container('app', 'nginx:1.27', { imagePullPolicy: 'Always' })] }) },
    policyOf: (p) => p.spec.initContainers[0].imagePullPolicy,
  },
  {
    name: 'CREATE, an image volume',
    request: { operation: 'CREATE', object: podOf({ containers: [container('app', 'nginx:1.27', { imagePullPolicy: 'Always' })], volumes: [{ name: 'data', image: { reference: PRIVATE, pullPolicy: 'IfNotPresent' } }] }) },
    policyOf: (p) => p.spec.volumes[0].image.pullPolicy,
  },
  {
    name: 'CREATE by a workload controller (a ReplicaSet\'s service account)',
    request: { operation: 'CREATE', username: 'system:serviceaccount:kube-system:replicaset-controller', object: podOf({ containers: [container('app', PRIVATE)] }, { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-1', uid: 'u', controller: true }] }) },
    policyOf: (p) => p.spec.containers[0].imagePullPolicy,
  },
  {
    name: 'CREATE with tenant labels and annotations that try to opt out',
    request: { operation: 'CREATE', object: podOf({ containers: [container('app', PRIVATE)] }, { labels: { 'pullguard.dev/always-pull': 'off', 'pullguard.dev/inject': 'false' }, annotations: { 'pullguard.dev/skip': 'true', 'pullguard.dev/always-pull': 'off' } }) },
    policyOf: (p) => p.spec.containers[0].imagePullPolicy,
  },
  {
    name: 'CREATE with the mirror-pod annotation, by a tenant (not a node)',
    request: { operation: 'CREATE', object: podOf({ containers: [container('app', PRIVATE)] }, { annotations: { 'kubernetes.io/config.mirror': 'x' } }) },
    policyOf: (p) => p.spec.containers[0].imagePullPolicy,
  },
  {
    name: 'CREATE, the same registry spelled in capitals',
    request: { operation: 'CREATE', object: podOf({ containers: [container('app', 'GHCR.IO/acme/web:2.1.0')] }) },
    policyOf: (p) => p.spec.containers[0].imagePullPolicy,
  },
  {
    name: 'CREATE, the same registry with :443',
    request: { operation: 'CREATE', object: podOf({ containers: [container('app', 'ghcr.io:443/acme/web:2.1.0')] }) },
    policyOf: (p) => p.spec.containers[0].imagePullPolicy,
  },
  {
    name: 'UPDATE: kubectl set image from nginx to the private image',
    request: { operation: 'UPDATE', oldObject: nginxPod, object: podOf({ containers: [container('app', PRIVATE)] }) },
    denies: true,
  },
  {
    name: 'pods/ephemeralcontainers: kubectl debug with the private image',
    request: { operation: 'UPDATE', subResource: 'ephemeralcontainers', oldObject: nginxPod, object: podOf({ containers: [container('app', 'nginx:1.27')], ephemeralContainers: [container('debug', PRIVATE)] }) },
    policyOf: (p) => p.spec.ephemeralContainers[0].imagePullPolicy,
  },
]

function review (request: Request): Json {
  const r = fixture('review-create.json')
  r.request.operation = request.operation
  r.request.namespace = TENANT
  if (request.subResource !== undefined) r.request.subResource = request.subResource
  r.request.object = request.object
  r.request.oldObject = request.oldObject ?? null
  if (request.username !== undefined) r.request.userInfo = { username: request.username, groups: ['system:authenticated'] }
  return r
}

async function up (t: Test, server: RunningServer, path: Path, covered: boolean, label: string): Promise<void> {
  const res = await server.post('/mutate', review(path.request))
  t.equal(res.status, 200, `${label}: answered`)
  const response = res.json.response
  if (path.denies === true) {
    t.equal(response.allowed, !covered, `${label}: ${covered ? 'denied' : 'allowed'}`)
    return
  }
  t.equal(response.allowed, true, `${label}: allowed`)
  const patch = response.patch === undefined ? [] : JSON.parse(Buffer.from(response.patch, 'base64').toString())
  const patched = jsonpatch.applyPatch(structuredClone(path.request.object), patch, true, false).newDocument
  t.equal(path.policyOf?.(patched), covered ? 'Always' : 'IfNotPresent', `${label}: pull policy after the patch`)
  const validated = await server.post('/validate', review({ ...path.request, object: patched }))
  t.equal(validated.json.response.allowed, true, `${label}: the patched pod passes /validate`)
}

interface Policies { all: KObject, private: KObject, bindingAll: KObject, bindingPrivate: KObject }

function down (t: Test, policies: Policies, path: Path, mode: AlwaysPullMode, covered: boolean, label: string): void {
  // How the platform team states the mode: the config default, except `all`
  // (the static policy reads the namespace label only, and is what the README
  // tells operators to use for it).
  const ns = namespaceObject(TENANT, mode === 'all' ? { 'pullguard.dev/always-pull': 'all' } : {})
  const config = configFor(mode)
  const data = privateImagesParams(privateImagesInputs(config, new ClusterStore()), 'pullguard').data
  const params = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: PRIVATE_IMAGES_NAME, namespace: 'pullguard' }, data: { ...data } }
  const input = { operation: path.request.operation, subResource: path.request.subResource, username: path.request.username, object: path.request.object, oldObject: path.request.oldObject ?? null, namespaceObject: ns }
  const labels = ns.metadata.labels as Record<string, string>
  const refusals: string[] = []
  if (selects(policies.bindingAll.spec.matchResources?.namespaceSelector, labels)) refusals.push(...evaluatePolicy(policies.all, { ...input, params: null }).messages)
  if (selects(policies.bindingPrivate.spec.matchResources?.namespaceSelector, labels)) refusals.push(...evaluatePolicy(policies.private, { ...input, params }).messages)
  t.equal(refusals.length > 0, covered, `${label}: ${covered ? 'refused' : 'admitted'} by the API server${refusals.length > 0 ? ` (${refusals[0]?.slice(0, 80)}…)` : ''}`)
}

/** The two ValidatingAdmissionPolicies and their bindings, as manifests/base renders them. */
async function shippedPolicies (kubectl: string): Promise<Policies> {
  const base = await kustomize(kubectl, fileURLToPath(new URL('../manifests/base/', import.meta.url)))
  return {
    all: one(base, 'ValidatingAdmissionPolicy', 'pullguard-always-pull'),
    private: one(base, 'ValidatingAdmissionPolicy', 'pullguard-always-pull-private'),
    bindingAll: one(base, 'ValidatingAdmissionPolicyBinding', 'pullguard-always-pull'),
    bindingPrivate: one(base, 'ValidatingAdmissionPolicyBinding', 'pullguard-always-pull-private'),
  }
}

const kubectl = findKubectl()
if (kubectl === undefined) {
  t.fail(KUBECTL_MISSING)
} else {
  t.test('every path × every mode, pullguard up and down', async (t) => {
    const policies = await shippedPolicies(kubectl)
    for (const mode of MODES) {
      const server = await startServer(configFor(mode))
      try {
        for (const path of paths) {
          const covered = mode !== 'off'
          await up(t, server, path, covered, `up, ${mode}: ${path.name}`)
          down(t, policies, path, mode, covered, `down, ${mode}: ${path.name}`)
        }
      } finally {
        await server.close()
      }
    }
  })

  t.test('a public image is left alone in private mode, up and down', async (t) => {
    const policies = await shippedPolicies(kubectl)
    const server = await startServer(configFor('private'))
    t.teardown(() => server.close())
    const path: Path = { name: 'CREATE nginx', request: { operation: 'CREATE', object: podOf({ containers: [container('app', 'nginx:1.27')] }) }, policyOf: (p) => p.spec.containers[0].imagePullPolicy }
    await up(t, server, path, false, 'up')
    down(t, policies, path, 'private', false, 'down')
  })
}
