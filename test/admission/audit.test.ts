/**
 * What pullguard did, on the record: auditAnnotations on every /mutate answer
 * that changes something, and (annotatePods: true) the pod annotation
 * pullguard.dev/mutation, over the real HTTPS server with the patch applied.
 */
import t from 'tap'
import jsonpatch from 'fast-json-patch'
import { annotationOp, auditAnnotations, MUTATION_ANNOTATION } from '../../src/admission/audit.js'
import { mutate } from '../../src/admission/policy.js'
import { configFrom, type Json } from '../helpers/fixtures.js'
import { inputOf, podWith, reviewOf } from '../helpers/review.js'
import { startServer } from '../helpers/server.js'

const BASE = `
registries:
  - match: ghcr.io/acme
    secrets: [ghcr-acme]
  - match: "*.azurecr.io"
    secrets: [acr-pull]
alwaysPull: private
`
const PLAIN = configFrom(BASE)
const ANNOTATING = configFrom(`${BASE}annotatePods: true\n`)
const apply = (doc: Json, ops: unknown[]): Json => jsonpatch.applyPatch(structuredClone(doc), structuredClone(ops) as jsonpatch.Operation[], true, false).newDocument

t.test('auditAnnotations: Secret names and forced fields, only when something changed', async (t) => {
  const server = await startServer(PLAIN)
  t.teardown(() => server.close())
  const changed = await server.post('/mutate', reviewOf(podWith([['a', 'ghcr.io/acme/x', 'IfNotPresent'], ['b', 'x.azurecr.io/y', 'Always']])))
  t.same(changed.json.response.auditAnnotations, { 'secrets-added': 'ghcr-acme,acr-pull', 'pull-policies-forced': 'spec.containers[0].imagePullPolicy' })
  const unchanged = await server.post('/mutate', reviewOf(podWith([['a', 'nginx', 'IfNotPresent']])))
  t.notOk('auditAnnotations' in unchanged.json.response, 'no change, no record')
  const denied = await server.post('/validate', reviewOf(podWith([['a', 'ghcr.io/acme/x', 'IfNotPresent']])))
  t.equal(denied.json.response.allowed, false)
  t.notOk('auditAnnotations' in denied.json.response)
})

t.test('auditAnnotations are bounded', async (t) => {
  const injected = Array.from({ length: 200 }, (_, i) => ({ name: `secret-${i}`, source: 'config' as const, entry: 0 }))
  const audit = auditAnnotations({ injected, forced: [] })
  t.ok((audit?.['secrets-added']?.length ?? 0) < 540, 'cut near 512 characters')
  t.match(audit?.['secrets-added'], /,… \d+ more$/)
})

interface Case { name: string, metadata: Json | undefined, op: RegExp }
const cases: Case[] = [
  { name: 'no annotations: the map is added whole', metadata: { name: 'p' }, op: /^\/metadata\/annotations$/ },
  { name: 'annotations present: one member added, key escaped (RFC 6901)', metadata: { name: 'p', annotations: { team: 'a' } }, op: /^\/metadata\/annotations\/pullguard.dev~1mutation$/ },
  { name: 'annotations null', metadata: { name: 'p', annotations: null }, op: /^\/metadata\/annotations$/ },
  { name: 'no metadata at all', metadata: undefined, op: /^\/metadata$/ },
]

t.test('annotatePods: the summary annotation, and the webhook stays idempotent', async (t) => {
  for (const c of cases) {
    const pod = podWith([['a', 'ghcr.io/acme/x', 'IfNotPresent']])
    if (c.metadata === undefined) delete pod.metadata
    else pod.metadata = c.metadata
    const first = mutate(inputOf(pod, { namespace: 'team-a' }), ANNOTATING)
    const last = first.patch.at(-1)
    t.match(last?.path, c.op, `${c.name}: path`)
    const out = apply(pod, [...first.patch])
    t.same(JSON.parse(out.metadata.annotations[MUTATION_ANNOTATION]), {
      secrets: [{ name: 'ghcr-acme', source: 'registries[0]' }],
      forced: ['spec.containers[0].imagePullPolicy'],
    }, `${c.name}: summary`)
    if (c.metadata?.annotations?.team !== undefined) t.equal(out.metadata.annotations.team, 'a', `${c.name}: other annotations kept`)
    t.same(mutate(inputOf(out, { namespace: 'team-a' }), ANNOTATING).patch, [], `${c.name}: its own output gets no patch`)
  }
  const untouched = mutate(inputOf(podWith([['a', 'nginx', 'IfNotPresent']]), { namespace: 'team-a' }), ANNOTATING)
  t.same(untouched.patch, [], 'nothing done, nothing annotated')
  t.equal(mutate(inputOf(podWith([['a', 'ghcr.io/acme/x', 'IfNotPresent']]), { namespace: 'team-a' }), PLAIN).patch.some((op) => op.path.includes('annotations')), false, 'off by default')
})

t.test('annotatePods over HTTPS: the annotation reaches the pod; nothing from a Secret is in it', async (t) => {
  const server = await startServer(ANNOTATING)
  t.teardown(() => server.close())
  const pod = podWith([['a', 'ghcr.io/acme/x', 'IfNotPresent']])
  const res = await server.post('/mutate', reviewOf(pod))
  const patch = JSON.parse(Buffer.from(res.json.response.patch, 'base64').toString())
  const out = apply(pod, patch)
  t.match(out.metadata.annotations[MUTATION_ANNOTATION], /"ghcr-acme"/)
  t.same(annotationOp({ metadata: { annotations: { [MUTATION_ANNOTATION]: 'x' } } }, 'y'), { op: 'replace', path: '/metadata/annotations/pullguard.dev~1mutation', value: 'y' }, 'an existing value is replaced')
})
