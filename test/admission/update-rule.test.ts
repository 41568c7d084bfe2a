/**
 * Pod UPDATE without subresource, end to end: real AdmissionReviews (built
 * from test/fixtures/review-update.json) over the real HTTPS server, through
 * /mutate and /validate, in every alwaysPull mode.
 *
 * The rule (README.md "Admission semantics", after the in-tree
 * AlwaysPullImages plugin, plugin/pkg/admission/alwayspullimages/admission.go,
 * isUpdateWithNoNewImages): an update that brings no image absent from
 * oldObject passes untouched; one that brings a covered image on a container
 * or image volume whose pull policy is not Always is denied (403, the in-tree
 * field path), since imagePullPolicy cannot be patched on a running pod.
 * Nothing a tenant writes on the pod (labels, annotations) turns the check off.
 */
import t, { type Test } from 'tap'
import jsonpatch from 'fast-json-patch'
import type { AlwaysPullMode } from '../../src/config/schema.js'
import { configFrom, fixture, type Json } from '../helpers/fixtures.js'
import { startServer, type HttpResult, type RunningServer } from '../helpers/server.js'

const MODES: readonly AlwaysPullMode[] = ['off', 'all', 'private']
const ENDPOINTS = ['/mutate', '/validate'] as const

// One private registry, scoped to team-a: in private mode its images are
// covered in every namespace (a team-c pod must not start team-a's cached
// image), everything else (nginx, quay.io, the azurecr proxy) is public.
function configFor (mode: AlwaysPullMode): ReturnType<typeof configFrom> {
  return configFrom([
    'registries:',
    '  - match: ghcr.io/acme',
    '    secrets: [ghcr-acme]',
    '    namespaces: [team-a]',
    `alwaysPull: ${mode}`,
    'excludeNamespaces: [kube-system]',
    '',
  ].join('\n'))
}

interface Denied {
  /** Modes in which the update is denied; allowed in the others. */
  readonly in: readonly AlwaysPullMode[]
  /** The in-tree field path and the offending value, as in the message. */
  readonly field: string
  readonly value: string
}

interface UpdateCase {
  readonly name: string
  /** Changes the old pod first (the new pod starts as a copy of it). */
  readonly old?: (pod: Json) => void
  /** The update itself, applied to the copy. */
  readonly change: (pod: Json) => void
  readonly namespace?: string
  readonly username?: string
  readonly denied?: Denied
  /** No image changed: the answer is exactly `{ uid, allowed: true }`. */
  readonly untouched?: boolean
}

const COVERED = ['all', 'private'] as const
const APP_POLICY = 'spec.containers[0].imagePullPolicy'

const cases: UpdateCase[] = [
  {
    name: 'label-only update',
    change: (p) => { p.metadata.labels.release = 'canary' },
    untouched: true,
  },
  {
    name: 'controller-style update: annotations, finalizers and ownerReferences only',
    change: (p) => {
      p.metadata.annotations = { 'controller.kubernetes.io/pod-deletion-cost': '-100' }
      p.metadata.finalizers = ['example.com/cleanup']
      p.metadata.ownerReferences = []
    },
    untouched: true,
  },
  {
    name: 'controller-style update that changes nothing (resourceVersion only)',
    change: (p) => { p.metadata.resourceVersion = '48214' },
    untouched: true,
  },
  {
    name: 'tag-identical update: kubectl set image to the image the container already has',
    change: (p) => { p.spec.containers[0].image = 'ghcr.io/acme/web:2.1.0' },
    untouched: true,
  },
  {
    name: 'an image the pod already had, set on another container (pulls nothing new)',
    change: (p) => { p.spec.containers[1].image = 'ghcr.io/acme/web:2.1.0' },
    untouched: true,
  },
  {
    name: 'covered new image, IfNotPresent',
    change: (p) => { p.spec.containers[0].image = 'ghcr.io/acme/web:2.2.0' },
    denied: { in: COVERED, field: APP_POLICY, value: 'IfNotPresent' },
  },
  {
    name: 'covered new image, Never',
    old: (p) => { p.spec.containers[0].imagePullPolicy = 'Never' },
    change: (p) => { p.spec.containers[0].image = 'ghcr.io/acme/web:2.2.0' },
    denied: { in: COVERED, field: APP_POLICY, value: 'Never' },
  },
  {
    name: 'covered new image, imagePullPolicy absent',
    old: (p) => { delete p.spec.containers[0].imagePullPolicy },
    change: (p) => { p.spec.containers[0].image = 'ghcr.io/acme/web@sha256:' + 'b'.repeat(64) },
    denied: { in: COVERED, field: APP_POLICY, value: '' },
  },
  {
    name: 'covered new image on an init container',
    old: (p) => { p.spec.initContainers = [{ name: 'migrate', image: 'ghcr.io/acme/migrate:1', imagePullPolicy: 'IfNotPresent' }] },
    change: (p) => { p.spec.initContainers[0].image = 'ghcr.io/acme/migrate:2' },
    denied: { in: COVERED, field: 'spec.initContainers[0].imagePullPolicy', value: 'IfNotPresent' },
  },
  {
    name: 'covered new reference on an image volume',
    old: (p) => { p.spec.volumes.push({ name: 'models', image: { reference: 'ghcr.io/acme/models:1', pullPolicy: 'IfNotPresent' } }) },
    change: (p) => { p.spec.volumes[1].image.reference = 'ghcr.io/acme/models:2' },
    denied: { in: COVERED, field: 'spec.volumes[1].image.pullPolicy', value: 'IfNotPresent' },
  },
  {
    name: 'public new image, IfNotPresent: only all covers it',
    change: (p) => { p.spec.containers[0].image = 'quay.io/public/web:2' },
    denied: { in: ['all'], field: APP_POLICY, value: 'IfNotPresent' },
  },
  {
    name: 'the reported bug: nginx (IfNotPresent) in team-c, then kubectl set image to team-a\'s private image',
    old: (p) => { p.metadata.namespace = 'team-c'; p.spec.containers[0].image = 'nginx' },
    change: (p) => { p.spec.containers[0].image = 'ghcr.io/acme/web:2.1.0' },
    namespace: 'team-c',
    denied: { in: COVERED, field: APP_POLICY, value: 'IfNotPresent' },
  },
  {
    name: 'covered new image with Always',
    change: (p) => { p.spec.containers[2].image = 'ghcr.io/acme/metrics:1' },
  },
  {
    name: 'tenant labels and annotations (pullguard.dev/skip, pullguard.dev/inject) do not disable the check',
    change: (p) => {
      p.metadata.labels['pullguard.dev/skip'] = 'true'
      p.metadata.labels['pullguard.dev/inject'] = 'false'
      p.metadata.labels['pullguard.dev/always-pull'] = 'off'
      p.metadata.annotations = { 'pullguard.dev/skip': 'true', 'pullguard.dev/always-pull': 'off' }
      p.spec.containers[0].image = 'ghcr.io/acme/web:2.2.0'
    },
    denied: { in: COVERED, field: APP_POLICY, value: 'IfNotPresent' },
  },
  {
    name: 'the mirror-pod annotation set by a user does not disable the check',
    change: (p) => {
      p.metadata.annotations = { 'kubernetes.io/config.mirror': 'abc123' }
      p.spec.containers[0].image = 'ghcr.io/acme/web:2.2.0'
    },
    username: 'mallory@example.com',
    denied: { in: COVERED, field: APP_POLICY, value: 'IfNotPresent' },
  },
  {
    name: 'a node without the mirror annotation is checked like anyone',
    change: (p) => { p.spec.containers[0].image = 'ghcr.io/acme/web:2.2.0' },
    username: 'system:node:node-1',
    denied: { in: COVERED, field: APP_POLICY, value: 'IfNotPresent' },
  },
  {
    name: 'a mirror pod updated by its node is left alone (static pod; gate.ts)',
    old: (p) => { p.metadata.annotations = { 'kubernetes.io/config.mirror': 'abc123' } },
    change: (p) => { p.spec.containers[0].image = 'ghcr.io/acme/web:2.2.0' },
    username: 'system:node:node-1',
    untouched: true,
  },
]

/** The fixture's UPDATE review around `old` → `object`, as the API server sends it. */
function updateReview (c: UpdateCase, uid: string): { review: Json, object: Json } {
  const review = fixture('review-update.json')
  const old = review.request.oldObject
  c.old?.(old)
  const object = structuredClone(old)
  c.change(object)
  review.request.uid = uid
  review.request.namespace = c.namespace ?? review.request.namespace
  review.request.oldObject = old
  review.request.object = object
  if (c.username !== undefined) review.request.userInfo = { username: c.username, groups: ['system:authenticated'] }
  return { review, object }
}

/** The pod after the answer's patch (if any), applied with an independent RFC 6902 implementation. */
function patched (pod: Json, response: Json): Json {
  if (response.patch === undefined) return pod
  const ops = JSON.parse(Buffer.from(response.patch, 'base64').toString('utf8')) as jsonpatch.Operation[]
  return jsonpatch.applyPatch(structuredClone(pod), ops, true, false).newDocument
}

function checkAnswer (t: Test, res: HttpResult, c: UpdateCase, mode: AlwaysPullMode, uid: string, object: Json): void {
  t.equal(res.status, 200, 'HTTP 200: a policy decision, not an error')
  const response = res.json?.response as Json
  t.equal(response?.uid, uid, 'uid echoed')
  t.same(patched(object, response), object, 'no patch on UPDATE (imagePullPolicy is immutable on a pod)')
  t.equal(response?.patchType, undefined, 'no patchType')
  const denied = c.denied?.in.includes(mode) === true
  t.equal(response?.allowed, !denied, denied ? 'denied' : 'allowed')
  if (denied && c.denied !== undefined) {
    t.equal(response.status?.code, 403, 'status.code 403')
    t.equal(response.status?.reason, 'Forbidden', 'status.reason Forbidden')
    t.match(response.status?.message, `${c.denied.field}: Unsupported value: ${JSON.stringify(c.denied.value)}: supported values: "Always"`, 'the message names the field, its value and what is allowed')
    t.match(response.status?.message, `pullguard (alwaysPull: ${mode})`, 'and the mode')
    t.match(response.status?.message, /recreate the pod/, 'and what to do')
  } else {
    t.equal(response?.status, undefined, 'no status')
  }
  if (c.untouched === true) t.same(response, { uid, allowed: true }, 'exactly { uid, allowed: true }: no patch, no warnings')
}

t.test('pod UPDATE over HTTPS', async (t) => {
  const servers = new Map<AlwaysPullMode, RunningServer>()
  for (const mode of MODES) {
    const server = await startServer(configFor(mode))
    t.teardown(server.close)
    servers.set(mode, server)
  }
  const serverFor = (mode: AlwaysPullMode): RunningServer => {
    const server = servers.get(mode)
    if (server === undefined) throw new Error(`no server for ${mode}`)
    return server
  }

  let n = 0
  for (const mode of MODES) {
    for (const endpoint of ENDPOINTS) {
      t.test(`alwaysPull: ${mode}, ${endpoint}`, async (t) => {
        for (const c of cases) {
          t.test(c.name, async (t) => {
            const uid = `update-rule-${++n}`
            const { review, object } = updateReview(c, uid)
            checkAnswer(t, await serverFor(mode).post(endpoint, review), c, mode, uid, object)
          })
        }
      })
    }
  }

  t.test('admission.k8s.io/v1beta1 reviews get the same decision, in v1beta1', async (t) => {
    let checked = 0
    for (const endpoint of ENDPOINTS) {
      for (const c of cases.filter((x) => x.name === 'label-only update' || x.name === 'covered new image, IfNotPresent')) {
        const uid = `update-rule-v1beta1-${++n}`
        const { review, object } = updateReview(c, uid)
        review.apiVersion = 'admission.k8s.io/v1beta1'
        const res = await serverFor('private').post(endpoint, review)
        t.equal(res.json?.apiVersion, 'admission.k8s.io/v1beta1', `${endpoint} ${c.name}: answered in v1beta1`)
        t.equal(res.json?.kind, 'AdmissionReview')
        t.test(`${endpoint} ${c.name}`, async (t) => checkAnswer(t, res, c, 'private', uid, object))
        checked++
      }
    }
    t.equal(checked, 4, 'an allowed and a denied update through each endpoint')
  })
})
