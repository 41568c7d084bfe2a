/**
 * What the ConfigMap pullguard-private-images says (src/kube/private-images-params.ts):
 * the inputs taken from the config and the cluster store, the params the
 * ValidatingAdmissionPolicy reads, the "already holds it" test that spares a
 * write, and the object written. Pure: no cluster needed.
 */
import { RE2JS } from '@bufbuild/re2'
import type { V1ConfigMap } from '@kubernetes/client-node'
import t from 'tap'
import {
  PRECISION_ANNOTATION, configMapHolds, privateImagesConfigMap, privateImagesInputs, privateImagesParams, type Content, type PrivateImagesInputs,
} from '../../src/kube/private-images-params.js'
import { mustParse } from '../helpers/keys.js'
import { testConfig } from '../helpers/fixtures.js'

const OWN = 'pullguard'
/** As the policy reads a param: RE2 (CEL's matches()), and '' matches nothing. */
const matches = (pattern: string | undefined, text: string): boolean => pattern !== undefined && pattern !== '' && RE2JS.compile(pattern).test(text)
const inputs = (keys: string[], more: Partial<PrivateImagesInputs> = {}): PrivateImagesInputs =>
  ({ keys: keys.map(mustParse), publicImages: [], alwaysPull: 'private', excludeNamespaces: [], ...more })

t.test('inputs: every configured key whatever its namespaces, then the pull Secrets\' keys', async (t) => {
  const config = testConfig({ publicImages: ['docker.io/library/'], alwaysPull: 'all' }, OWN)
  const got = privateImagesInputs(config, { pullSecretKeys: () => [mustParse('quay.io/team')] })
  // test/fixtures/config.yaml: ghcr.io/acme is scoped to team-a and team-b*, and still counts.
  t.same(got.keys.map((k) => k.raw), ['ghcr.io/acme', '*.azurecr.io', 'registry.internal.example:5000', 'https://index.docker.io/v1/', 'quay.io/team'])
  t.same(got.publicImages, ['docker.io/library/'])
  t.equal(got.alwaysPull, 'all')
  t.same(got.excludeNamespaces, config.excludeNamespaces)
})

t.test('params: what the policy matches images and namespaces with', async (t) => {
  const cases: Array<[string, PrivateImagesInputs, Array<[string, boolean]>, Array<[string, boolean]>]> = [
    ['no keys: nothing private, only its own namespace excluded', inputs([]), [], [[OWN, true], ['team-a', false]]],
    ['a key: its images are private, others not', inputs(['ghcr.io/acme'], { excludeNamespaces: ['kube-*'] }),
      [['ghcr.io/acme/app:1', true], ['ghcr.io/other/app:1', false], ['quay.io/acme/app', false]],
      [[OWN, true], ['kube-system', true], ['team-a', false]]],
  ]
  for (const [what, given, images, namespaces] of cases) {
    const params = privateImagesParams(given, OWN)
    t.equal(params.data.alwaysPull, given.alwaysPull, `${what}: the default mode`)
    t.equal(params.precision, 'keys', `${what}: every key as given`)
    t.ok(Object.isFrozen(params.data), `${what}: frozen`)
    for (const [image, want] of images) t.equal(matches(params.data.private, image), want, `${what}: ${image}`)
    for (const [ns, want] of namespaces) t.equal(matches(params.data.excludedNamespaces, ns), want, `${what}: namespace ${ns}`)
  }
  t.same(privateImagesParams(inputs([]), OWN).data, { private: '', public: '', alwaysPull: 'private', excludedNamespaces: '^(?:pullguard)$' }, 'empty patterns are \'\'')
})

t.test('params: its own namespace comes first, so a size limit keeps it', async (t) => {
  const many = Array.from({ length: 1000 }, (_, i) => `team-${String(i).padStart(4, '0')}`)
  const params = privateImagesParams(inputs([], { excludeNamespaces: [...many, OWN] }), OWN)
  t.match(params.data.excludedNamespaces, /^\^\(\?:pullguard\|team-0000\|/)
  t.ok(params.excludedDropped > 0, `entries dropped to fit (${params.excludedDropped})`)
  t.equal(privateImagesParams(inputs([], { excludeNamespaces: ['kube-system', OWN] }), OWN).data.excludedNamespaces, '^(?:pullguard|kube-system)$', 'no duplicate')
})

t.test('params: limits lower the precision and drop public prefixes, and say so', async (t) => {
  const given = inputs(['ghcr.io/acme/a', 'ghcr.io/acme/b'], { publicImages: ['ghcr.io/acme/a/public/', 'ghcr.io/acme/b/public/'] })
  const roomy = privateImagesParams(given, OWN)
  t.match(roomy, { precision: 'keys', publicDropped: 0 })
  const tight = privateImagesParams(given, OWN, { privateChars: 1, publicChars: 1 })
  t.match(tight, { precision: 'everything', publicDropped: 2, data: { private: '^', public: '' } })
})

t.test('configMapHolds: only exactly this data, no binaryData, and the precision annotation', async (t) => {
  const desired: Content = { data: { private: '^a', public: '', alwaysPull: 'private', excludedNamespaces: '' }, precision: 'keys' }
  const held = (change: Partial<V1ConfigMap> = {}): V1ConfigMap =>
    ({ metadata: { name: 'x', annotations: { [PRECISION_ANNOTATION]: 'keys', other: 'kept' } }, data: { ...desired.data }, ...change })
  const cases: Array<[string, V1ConfigMap, boolean]> = [
    ['the same', held(), true],
    ['a value differs', held({ data: { ...desired.data, private: '^b' } }), false],
    ['a key is missing', held({ data: { private: '^a', public: '', alwaysPull: 'private' } }), false],
    ['an extra key', held({ data: { ...desired.data, extra: '' } }), false],
    ['no data', held({ data: undefined }), false],
    ['binaryData as well', held({ binaryData: {} }), false],
    ['another precision', held({ metadata: { annotations: { [PRECISION_ANNOTATION]: 'hosts' } } }), false],
    ['no annotation', held({ metadata: { name: 'x' } }), false],
  ]
  for (const [what, current, want] of cases) t.equal(configMapHolds(current, desired), want, what)
})

t.test('the object written: ours in data, others\' labels and annotations kept', async (t) => {
  const desired: Content = { data: { private: '^a', public: '' }, precision: 'hosts' }
  const fresh = privateImagesConfigMap('ns', 'cm', desired)
  t.match(fresh, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm', namespace: 'ns', annotations: { [PRECISION_ANNOTATION]: 'hosts' } }, data: desired.data })
  t.same(fresh.metadata?.labels, { 'app.kubernetes.io/name': 'pullguard', 'app.kubernetes.io/managed-by': 'pullguard' })
  t.not(fresh.data, desired.data, 'a copy of the data')
  const current: V1ConfigMap = {
    metadata: {
      name: 'cm',
      namespace: 'ns',
      resourceVersion: '42',
      labels: { team: 'a', 'app.kubernetes.io/managed-by': 'someone' },
      annotations: { note: 'hi', [PRECISION_ANNOTATION]: 'keys' },
      managedFields: [{ manager: 'kubectl' }],
    },
    data: { private: '^old', stray: 'x' },
    binaryData: { blob: 'AA==' },
  }
  const next = privateImagesConfigMap('ns', 'cm', desired, current)
  t.equal(next.metadata?.resourceVersion, '42', 'the version read, for an optimistic update')
  t.same(next.metadata?.labels, { team: 'a', 'app.kubernetes.io/name': 'pullguard', 'app.kubernetes.io/managed-by': 'pullguard' })
  t.same(next.metadata?.annotations, { note: 'hi', [PRECISION_ANNOTATION]: 'hosts' })
  t.equal(next.metadata?.managedFields, undefined, 'managed fields left to the API server')
  t.same(next.data, desired.data, 'stray keys gone')
  t.equal(next.binaryData, undefined, 'binaryData gone')
})
