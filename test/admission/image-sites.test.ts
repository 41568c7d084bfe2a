/**
 * Every place a PodSpec names an image (src/admission/image-sites.ts): the
 * three container lists in the in-tree visitor's order, then image volumes
 * (KEP-4639), with field paths as the API server writes them and JSON
 * Pointers (RFC 6901) for the patch.
 */
import t from 'tap'
import { describeSite, imageSites, policyFieldPath } from '../../src/admission/image-sites.js'
import { fixture, type Json } from '../helpers/fixtures.js'

const spec = (): Json => ({
  volumes: [
    { name: 'data', emptyDir: {} },
    { name: 'model', image: { reference: 'ghcr.io/acme/model:1', pullPolicy: 'IfNotPresent' } },
    { name: 'nulled', image: null },
  ],
  containers: [{ name: 'app', image: 'ghcr.io/acme/web:2', imagePullPolicy: 'Always' }, { image: 'nginx' }],
  initContainers: [{ name: 'init', image: 'busybox' }],
  ephemeralContainers: [{ name: 'debug', image: 'alpine' }],
})

t.test('sites in visitor order, with fields, pointers, names, images and policies', async (t) => {
  const sites = imageSites(spec())
  t.same(sites.map((s) => [s.field, s.holderPointer, s.name, s.image, s.policyField, s.policy]), [
    ['spec.initContainers[0]', '/spec/initContainers/0', 'init', 'busybox', 'imagePullPolicy', undefined],
    ['spec.containers[0]', '/spec/containers/0', 'app', 'ghcr.io/acme/web:2', 'imagePullPolicy', 'Always'],
    ['spec.containers[1]', '/spec/containers/1', '', 'nginx', 'imagePullPolicy', undefined],
    ['spec.ephemeralContainers[0]', '/spec/ephemeralContainers/0', 'debug', 'alpine', 'imagePullPolicy', undefined],
    ['spec.volumes[1].image', '/spec/volumes/1/image', 'model', 'ghcr.io/acme/model:1', 'pullPolicy', 'IfNotPresent'],
  ])
  t.same(sites.map((s) => [s.list, s.index]), [['initContainers', 0], ['containers', 0], ['containers', 1], ['ephemeralContainers', 0], ['volumes', 1]])
})

t.test('the holder is the object in the pod, not a copy', async (t) => {
  const s = spec()
  const sites = imageSites(s)
  t.equal(sites[1]?.holder, s.containers[0])
  t.equal(sites[4]?.holder, s.volumes[1].image)
})

t.test('a real pod: its containers, and no site for its projected volume', async (t) => {
  const pod = fixture('review-create.json').request.object
  t.same(imageSites(pod.spec).map((s) => s.field), pod.spec.containers.map((_: unknown, i: number) => `spec.containers[${i}]`))
})

t.test('an image volume source that is not an object is PG_NOT_A_POD', async (t) => {
  for (const image of ['ghcr.io/x', 1, []]) {
    t.throws(() => imageSites({ containers: [], volumes: [{ name: 'v' }, { name: 'w', image }] }), { code: 'PG_NOT_A_POD', message: /spec\.volumes\[1\]\.image is not an object/ }, JSON.stringify(image))
  }
})

t.test('a non-string image is reported as written (the policy decides)', async (t) => {
  t.same(imageSites({ containers: [{ name: 'a' }, { name: 'b', image: 7 }] }).map((s) => s.image), [undefined, 7])
})

t.test('policyFieldPath and describeSite', async (t) => {
  const [init, app, anonymous, , volume] = imageSites(spec())
  const rows: Array<[typeof app, string, string]> = [
    [init, 'spec.initContainers[0].imagePullPolicy', 'spec.initContainers[0] (init)'],
    [app, 'spec.containers[0].imagePullPolicy', 'spec.containers[0] (app)'],
    [anonymous, 'spec.containers[1].imagePullPolicy', 'spec.containers[1]'],
    [volume, 'spec.volumes[1].image.pullPolicy', 'spec.volumes[1].image (model)'],
  ]
  for (const [site, path, described] of rows) {
    if (site === undefined) return t.fail('missing site')
    t.equal(policyFieldPath(site), path)
    t.equal(describeSite(site), described)
  }
})

t.test('describeSite cuts a long name at 40 characters, so a warning stays short', async (t) => {
  const name = 'n'.repeat(63)
  const [site] = imageSites({ containers: [{ name, image: 'x' }] })
  if (site === undefined) return t.fail('missing site')
  t.equal(describeSite(site), `spec.containers[0] (${'n'.repeat(40)}…)`)
  const [exact] = imageSites({ containers: [{ name: 'm'.repeat(40), image: 'x' }] })
  if (exact === undefined) return t.fail('missing site')
  t.equal(describeSite(exact), `spec.containers[0] (${'m'.repeat(40)})`, '40 characters are kept whole')
  const [over] = imageSites({ containers: [{ name: 'o'.repeat(41), image: 'x' }] })
  if (over === undefined) return t.fail('missing site')
  t.equal(describeSite(over), `spec.containers[0] (${'o'.repeat(40)}…)`, '41 are cut')
})

t.test('a container name never becomes part of a pointer: only list names and indexes do', async (t) => {
  // A name with '/' or '~' would need RFC 6901 escaping if it were a token; it is not one.
  const [site] = imageSites({ containers: [{ name: 'a/b~c', image: 'x' }] })
  t.equal(site?.holderPointer, '/spec/containers/0')
})
