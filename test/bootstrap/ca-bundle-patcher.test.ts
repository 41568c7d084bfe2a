/**
 * caBundle patching (src/bootstrap/ca-bundle-patcher.ts) against the API
 * server double (real HTTP, real client-node AdmissionregistrationV1Api):
 * every webhook of both configurations trusts the bundle, nothing is written
 * when they already do, a write in between is re-read rather than
 * overwritten, a missing ValidatingWebhookConfiguration is fine, and
 * failures (RBAC included) are reported, not thrown.
 */
import { AdmissionregistrationV1Api } from '@kubernetes/client-node'
import t, { type Test } from 'tap'
import { ensureCaBundle } from '../../src/bootstrap/ca-bundle-patcher.js'
import { createLogger } from '../../src/logger.js'
import { ApiServerDouble, type KObject, type Resource } from '../helpers/api-server-double.js'
import { LogCapture } from '../helpers/server.js'

const NAME = 'pullguard'
const BUNDLE = '-----BEGIN CERTIFICATE-----\nbmV3IENB\n-----END CERTIFICATE-----\n'
const WANT = Buffer.from(BUNDLE).toString('base64')
const OLD = Buffer.from('-----BEGIN CERTIFICATE-----\nb2xkIENB\n-----END CERTIFICATE-----\n').toString('base64')
const KINDS: Resource[] = ['mutatingwebhookconfigurations', 'validatingwebhookconfigurations']

const hook = (name: string, caBundle?: string): Record<string, unknown> => ({
  name,
  admissionReviewVersions: ['v1'],
  sideEffects: 'None',
  clientConfig: { service: { namespace: 'pullguard', name: 'pullguard', path: '/x' }, ...(caBundle === undefined ? {} : { caBundle }) },
})

async function setup (t: Test, configurations: Partial<Record<Resource, Array<Record<string, unknown>>>>): Promise<{ double: ApiServerDouble, run: () => ReturnType<typeof ensureCaBundle>, logs: LogCapture }> {
  const double = new ApiServerDouble()
  await double.start()
  t.teardown(async () => { await double.stop() })
  for (const [resource, webhooks] of Object.entries(configurations)) double.create(resource as Resource, { metadata: { name: NAME }, webhooks })
  double.create('mutatingwebhookconfigurations', { metadata: { name: 'other' }, webhooks: [hook('other.example.com', OLD)] })
  const logs = new LogCapture()
  const api = double.kubeConfig().makeApiClient(AdmissionregistrationV1Api)
  return { double, logs, run: async () => await ensureCaBundle(api, NAME, BUNDLE, createLogger({ level: 'debug', destination: logs })) }
}
const bundles = (double: ApiServerDouble, resource: Resource, name = NAME): unknown[] =>
  (double.get(resource, name).webhooks as KObject[]).map((h) => h.clientConfig?.caBundle)
const patches = (double: ApiServerDouble): number => double.requests.filter((r) => r.verb === 'patch').length

t.test('every webhook of both configurations is made to trust the bundle, once', async (t) => {
  const cases: Array<[string, Partial<Record<Resource, Array<Record<string, unknown>>>>, number]> = [
    ['none hold it (add)', { mutatingwebhookconfigurations: [hook('a'), hook('b')], validatingwebhookconfigurations: [hook('c')] }, 2],
    ['an old bundle (replace) beside none (add)', { mutatingwebhookconfigurations: [hook('a', OLD), hook('b')], validatingwebhookconfigurations: [hook('c', OLD)] }, 2],
    ['one already holds it', { mutatingwebhookconfigurations: [hook('a', WANT), hook('b', OLD)], validatingwebhookconfigurations: [hook('c', WANT)] }, 1],
    ['no ValidatingWebhookConfiguration (404 is fine)', { mutatingwebhookconfigurations: [hook('a')] }, 1],
  ]
  for (const [what, configurations, writes] of cases) {
    const { double, run } = await setup(t, configurations)
    t.same(await run(), { ok: true, wrote: true }, `${what}: wrote`)
    for (const resource of KINDS) {
      const count = configurations[resource]?.length
      if (count !== undefined) t.same(bundles(double, resource), new Array(count).fill(WANT), `${what}: ${resource} trusts the bundle`)
    }
    t.equal(patches(double), writes, `${what}: one patch per configuration that needed one`)
    t.same(bundles(double, 'mutatingwebhookconfigurations', 'other'), [OLD], `${what}: other configurations untouched`)
    t.same(await run(), { ok: true, wrote: false }, `${what}: a second run writes nothing`)
    t.equal(patches(double), writes, `${what}: no patch the second time`)
  }
})

t.test('no configuration at all: nothing to do', async (t) => {
  const { double, run } = await setup(t, {})
  t.same(await run(), { ok: true, wrote: false })
  t.equal(patches(double), 0)
})

t.test('a write between read and patch: the patch fails its test, and the next read decides again', async (t) => {
  const { double, run, logs } = await setup(t, { mutatingwebhookconfigurations: [hook('a', OLD)] })
  let races = 1
  double.onRequest = (r) => {
    if (r.method !== 'PATCH' || races-- <= 0) return
    // Someone else's write, bumping resourceVersion: the patch's `test` op must refuse.
    double.patch('mutatingwebhookconfigurations', NAME, { metadata: { labels: { edited: 'yes' } } })
  }
  t.same(await run(), { ok: true, wrote: true })
  t.same(bundles(double, 'mutatingwebhookconfigurations'), [WANT])
  t.same(double.get('mutatingwebhookconfigurations', NAME).metadata.labels, { edited: 'yes' }, 'the other write stands')
  t.same(double.requests.filter((r) => r.verb === 'patch').map((r) => r.status), [422, 200], 'refused once, then applied')
  t.match(logs.text(), /changed while patching; re-reading/)
})

t.test('a configuration that keeps changing: given up after five attempts, reported', async (t) => {
  const { double, run } = await setup(t, { mutatingwebhookconfigurations: [hook('a')], validatingwebhookconfigurations: [hook('c')] })
  let edits = 0
  double.onRequest = (r) => {
    if (r.method === 'PATCH' && r.path.includes('/mutatingwebhookconfigurations/')) double.patch('mutatingwebhookconfigurations', NAME, { metadata: { labels: { edits: String(++edits) } } })
  }
  const outcome = await run()
  t.same(outcome, { ok: false, error: 'cannot patch caBundle of mutatingwebhookconfigurations/pullguard: it kept changing (5 attempts)' })
  t.equal(double.requests.filter((r) => r.verb === 'patch' && r.resource === 'mutatingwebhookconfigurations').length, 5)
  t.same(bundles(double, 'validatingwebhookconfigurations'), [WANT], 'the other configuration is still patched')
})

t.test('failures are reported with what to do, never thrown', async (t) => {
  const cases: Array<[string, (double: ApiServerDouble) => void, RegExp]> = [
    ['get denied', (d) => d.deny('mutatingwebhookconfigurations', 'get'), /^forbidden to get mutatingwebhookconfigurations\/pullguard: give pullguard's ServiceAccount get and patch on it \(RBAC; manifests\/base\/rbac\.yaml\): .*cannot get/],
    ['patch denied', (d) => d.deny('validatingwebhookconfigurations', 'patch'), /^forbidden to patch validatingwebhookconfigurations\/pullguard: .*RBAC.*cannot patch/],
    ['both denied', (d) => { d.deny('mutatingwebhookconfigurations', 'patch'); d.deny('validatingwebhookconfigurations', 'get') }, /^forbidden to patch mutatingwebhookconfigurations\/pullguard: .*; forbidden to get validatingwebhookconfigurations\/pullguard: /],
  ]
  for (const [what, fail, error] of cases) {
    const { double, run } = await setup(t, { mutatingwebhookconfigurations: [hook('a')], validatingwebhookconfigurations: [hook('c')] })
    fail(double)
    const outcome = await run()
    t.equal(outcome.ok, false, what)
    if (!outcome.ok) t.match(outcome.error, error, what)
  }
  const double = new ApiServerDouble()
  await double.start()
  t.teardown(async () => { await double.stop() })
  const api = double.kubeConfig('wrong-token').makeApiClient(AdmissionregistrationV1Api)
  const outcome = await ensureCaBundle(api, NAME, BUNDLE, createLogger({ level: 'silent', destination: new LogCapture() }))
  t.match(outcome, { ok: false, error: /^cannot read mutatingwebhookconfigurations\/pullguard: 401 /m }, 'another status is named with its code')
})
