import t from 'tap'
import { decodeReview, encodeReviewResponse, reviewResponse } from '../../src/admission/review.js'
import { skipped, type Outcome } from '../../src/admission/outcome.js'
import { add } from '../../src/admission/json-patch.js'
import { fixture } from '../helpers/fixtures.js'

t.test('decodes v1 and v1beta1 reviews from the API server', async (t) => {
  for (const name of ['review-create.json', 'review-create-v1beta1.json', 'review-update.json', 'review-ephemeral.json']) {
    const raw = fixture(name)
    const { apiVersion, input } = decodeReview(raw)
    t.equal(apiVersion, raw.apiVersion)
    t.equal(input.uid, raw.request.uid)
    t.equal(input.operation, raw.request.operation)
    t.equal(input.namespace, 'team-a')
    t.same(input.resource, { group: '', version: 'v1', resource: 'pods' })
    t.equal(input.subResource, raw.request.subResource ?? '')
  }
})

t.test('the namespace falls back to metadata.namespace', async (t) => {
  const raw = fixture('review-create.json')
  delete raw.request.namespace
  raw.request.object.metadata.namespace = 'team-z'
  t.equal(decodeReview(raw).input.namespace, 'team-z')
})

const invalid: Array<[string, (r: any) => unknown, string, RegExp]> = [
  ['not an object', () => [], 'PG_REVIEW_INVALID', /not a JSON object/],
  ['unknown apiVersion', (r) => { r.apiVersion = 'admission.k8s.io/v2'; return r }, 'PG_REVIEW_UNKNOWN_VERSION', /"admission\.k8s\.io\/v2" is not supported/],
  ['missing apiVersion', (r) => { delete r.apiVersion; return r }, 'PG_REVIEW_UNKNOWN_VERSION', /not supported/],
  ['wrong kind', (r) => { r.kind = 'Pod'; return r }, 'PG_REVIEW_INVALID', /kind is "Pod"/],
  ['missing request', (r) => { delete r.request; return r }, 'PG_REVIEW_INVALID', /request is missing/],
  ['missing uid', (r) => { delete r.request.uid; return r }, 'PG_REVIEW_INVALID', /request\.uid/],
  ['empty uid', (r) => { r.request.uid = ''; return r }, 'PG_REVIEW_INVALID', /request\.uid/],
  ['uid not a string', (r) => { r.request.uid = 7; return r }, 'PG_REVIEW_INVALID', /request\.uid/],
  ['missing resource', (r) => { delete r.request.resource; return r }, 'PG_REVIEW_INVALID', /request\.resource/],
  ['missing operation', (r) => { delete r.request.operation; return r }, 'PG_REVIEW_INVALID', /request\.operation/],
]
for (const [name, edit, code, message] of invalid) {
  t.test(`rejects: ${name}`, async (t) => {
    const err = t.throws(() => decodeReview(edit(fixture('review-create.json'))), { code }) as Error
    t.match(err.message, message)
  })
}

t.test('responses echo uid and version; patchType only with a patch', async (t) => {
  const review = decodeReview(fixture('review-create-v1beta1.json'))
  const plain = reviewResponse(review, skipped('not-pods'))
  t.same(plain, { apiVersion: 'admission.k8s.io/v1beta1', kind: 'AdmissionReview', response: { uid: review.input.uid, allowed: true } })
  const patched: Outcome = { ...skipped('not-pods'), skipped: undefined, patch: [add('/a', 1)], warnings: ['w'] }
  const res = reviewResponse(review, patched).response
  t.equal(res.patchType, 'JSONPatch')
  t.same(JSON.parse(Buffer.from(res.patch ?? '', 'base64').toString()), [{ op: 'add', path: '/a', value: 1 }])
  t.same(res.warnings, ['w'])
  const denied: Outcome = { ...patched, allowed: false, denial: { code: 403, reason: 'Forbidden', message: 'no' } }
  const d = reviewResponse(review, denied).response
  t.equal(d.allowed, false)
  t.same(d.status, { code: 403, reason: 'Forbidden', message: 'no' })
  t.notOk('patchType' in d, 'a denial carries no patch')
})

// The routes send encodeReviewResponse's text; it must be the very bytes
// JSON.stringify gives for reviewResponse, in both versions and every outcome.
const ENCODED_CASES: Array<[string, Outcome]> = [
  ['skipped', skipped('not-pods')],
  ['patched with warnings', { ...skipped('not-pods'), skipped: undefined, patch: [add('/a', 1)], warnings: ['w', 'x "quoted"'], injected: [{ name: 's', source: 'config', entry: 0 }], forced: [{ list: 'containers', field: 'spec.containers[0].imagePullPolicy' }] }],
  ['denied', { ...skipped('not-pods'), skipped: undefined, allowed: false, denial: { code: 403, reason: 'Forbidden', message: 'no "way"' }, warnings: ['w'] }],
]
for (const file of ['review-create.json', 'review-create-v1beta1.json']) {
  for (const [name, outcome] of ENCODED_CASES) {
    t.test(`encoded response is JSON.stringify(reviewResponse): ${file}, ${name}`, async (t) => {
      const review = decodeReview(fixture(file))
      t.equal(encodeReviewResponse(review, outcome), JSON.stringify(reviewResponse(review, outcome)))
    })
  }
}

t.test('reviewResponse shares no array with the outcome', async (t) => {
  const review = decodeReview(fixture('review-create.json'))
  const outcome: Outcome = { ...skipped('not-pods'), skipped: undefined, warnings: ['w'] }
  const res = reviewResponse(review, outcome).response
  res.warnings?.push('changed')
  t.same(outcome.warnings, ['w'])
})
