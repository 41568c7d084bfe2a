/**
 * The private-image patterns writer and its Lease against the API server
 * double (real HTTP, real client-node): creates the ConfigMap, writes only
 * when the content changes (a config reload of the default mode or the
 * excluded namespaces included), repairs edits, one writer among replicas,
 * failover by release and by expiry, and RBAC denial reported, not thrown.
 * Time is a fake clock; the timers never fire (a one-hour period), each
 * round is driven by sync().
 */
import t, { type Test } from 'tap'
import { createLogger } from '../../src/logger.js'
import { joinPatterns, privateImagePatterns } from '../../src/registry/private-image-patterns.js'
import type { AlwaysPullMode } from '../../src/config/schema.js'
import {
  PRECISION_ANNOTATION, PRIVATE_IMAGES_NAME, privateImagesInputs, privateImagesParams, type PrivateImagesInputs,
} from '../../src/kube/private-images-params.js'
import { startPrivateImagesWriter, type PrivateImagesWriter } from '../../src/kube/private-images-writer.js'
import { ApiServerDouble } from '../helpers/api-server-double.js'
import { mustParse } from '../helpers/keys.js'
import { LogCapture } from '../helpers/server.js'

const NS = 'pullguard'
const HOUR = 3_600_000
const MICRO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/

const inputsOf = (keys: string[], publicImages: string[] = [], alwaysPull: AlwaysPullMode = 'private', excludeNamespaces: string[] = []): PrivateImagesInputs =>
  ({ keys: keys.map(mustParse), publicImages, alwaysPull, excludeNamespaces })
/** The data for no keys: nothing private, only pullguard's own namespace excluded. */
const EMPTY_DATA = { private: '', public: '', alwaysPull: 'private', excludedNamespaces: '^(?:pullguard)$' }

interface Clock { now: () => Date, advance: (ms: number) => void }
function clock (): Clock {
  let at = Date.UTC(2030, 0, 1)
  return { now: () => new Date(at), advance: (ms) => { at += ms } }
}

async function cluster (t: Test): Promise<ApiServerDouble> {
  const double = new ApiServerDouble()
  await double.start()
  t.teardown(async () => { await double.stop() })
  double.create('namespaces', { metadata: { name: NS } })
  return double
}

interface Replica { writer: PrivateImagesWriter, logs: LogCapture, set: (inputs: PrivateImagesInputs | undefined) => void }
function replica (t: Test, double: ApiServerDouble, c: Clock, identity: string, initial: PrivateImagesInputs | undefined): Replica {
  const logs = new LogCapture()
  let inputs = initial
  const writer = startPrivateImagesWriter({
    kubeConfig: double.kubeConfig(),
    namespace: NS,
    identity,
    inputs: () => inputs,
    version: () => inputs,
    log: createLogger({ level: 'debug', destination: logs }),
    timings: { retryPeriodMs: HOUR },
    now: c.now,
  })
  t.teardown(async () => { await writer.stop() })
  return { writer, logs, set: (next) => { inputs = next } }
}

const writesOf = (double: ApiServerDouble): number =>
  double.requests.filter((r) => r.resource === 'configmaps' && (r.verb === 'create' || r.verb === 'update') && r.status !== undefined && r.status < 300).length

t.test('the leader creates the ConfigMap with the patterns, and a Lease as client-go does', async (t) => {
  const double = await cluster(t)
  const c = clock()
  const inputs = inputsOf(['ghcr.io/acme', 'https://index.docker.io/v1/'], ['docker.io/library/'])
  const a = replica(t, double, c, 'pod-a_1', inputs)
  await a.writer.sync()
  const cm = double.get('configmaps', PRIVATE_IMAGES_NAME, NS)
  const patterns = privateImagePatterns(inputs.keys, inputs.publicImages)
  t.same(cm.data, { private: joinPatterns(patterns.private), public: joinPatterns(patterns.public), alwaysPull: 'private', excludedNamespaces: '^(?:pullguard)$' },
    'data: the patterns joined, the config default, pullguard\'s own namespace excluded')
  t.same(cm.data, privateImagesParams(inputs, NS).data, 'what privateImagesParams computes (the policy tests use it)')
  t.match(cm.data.private, /ghcr/)
  t.not(cm.data.public, '', 'the publicImages exclusion')
  t.equal(cm.metadata.annotations?.[PRECISION_ANNOTATION], 'keys')
  t.match(cm.metadata.labels, { 'app.kubernetes.io/managed-by': 'pullguard', 'app.kubernetes.io/name': 'pullguard' })
  const lease = double.get('leases', PRIVATE_IMAGES_NAME, NS)
  t.match(lease.spec, { holderIdentity: 'pod-a_1', leaseDurationSeconds: 15, leaseTransitions: 0, acquireTime: MICRO_TIME, renewTime: MICRO_TIME })
  t.match(a.writer.status(), { leading: true, holder: 'pod-a_1', lastError: undefined, precision: 'keys', writes: 1 })
  t.match(a.logs.text(), /leading: this replica writes the private-image patterns/)
  t.match(a.logs.text(), /private-image patterns created/)

  c.advance(2000)
  await a.writer.sync()
  const renewed = double.get('leases', PRIVATE_IMAGES_NAME, NS)
  t.equal(renewed.spec.acquireTime, lease.spec.acquireTime, 'a renewal keeps acquireTime')
  t.not(renewed.spec.renewTime, lease.spec.renewTime, 'and moves renewTime')
})

t.test('writes only when the content differs; repairs edits and deletion at the resync', async (t) => {
  const double = await cluster(t)
  const c = clock()
  const a = replica(t, double, c, 'a', inputsOf(['ghcr.io/acme']))
  await a.writer.sync()
  t.equal(writesOf(double), 1)
  const reads = (): number => double.requests.filter((r) => r.resource === 'configmaps' && r.verb === 'get').length
  const readsBefore = reads()
  c.advance(2000)
  await a.writer.sync()
  t.equal(writesOf(double), 1, 'unchanged: no write')
  t.equal(reads(), readsBefore, 'unchanged within the resync interval: not even a read')
  c.advance(10_000)
  await a.writer.sync()
  t.equal(writesOf(double), 1, 'resync: read, found current, not written')
  t.ok(reads() > readsBefore, 'the resync reads')

  a.set(inputsOf(['ghcr.io/acme', 'quay.io/team']))
  c.advance(2000)
  await a.writer.sync()
  t.equal(writesOf(double), 2, 'a new key: written at once (the config changed)')
  t.match(double.get('configmaps', PRIVATE_IMAGES_NAME, NS).data.private, /quay/)

  const cm = double.get('configmaps', PRIVATE_IMAGES_NAME, NS)
  double.update('configmaps', { ...cm, data: { private: '', extra: 'x' } }, NS)
  c.advance(11_000)
  await a.writer.sync()
  t.match(double.get('configmaps', PRIVATE_IMAGES_NAME, NS).data, { private: /quay/ }, 'a hand edit is repaired')
  t.notOk('extra' in double.get('configmaps', PRIVATE_IMAGES_NAME, NS).data, 'the data is ours entirely')
  double.remove('configmaps', PRIVATE_IMAGES_NAME, NS)
  c.advance(11_000)
  await a.writer.sync()
  t.match(double.get('configmaps', PRIVATE_IMAGES_NAME, NS).data, { private: /quay/ }, 'a deleted ConfigMap is recreated')
})

t.test('nothing is written until the inputs are complete (informers synced)', async (t) => {
  const double = await cluster(t)
  const c = clock()
  const a = replica(t, double, c, 'a', undefined)
  await a.writer.sync()
  t.equal(a.writer.status().leading, true, 'the Lease is taken meanwhile')
  t.throws(() => double.get('configmaps', PRIVATE_IMAGES_NAME, NS), /not found/, 'no ConfigMap from a partial view')
  t.match(a.logs.text(), /waiting for the informers/)
  a.set(inputsOf([]))
  c.advance(2000)
  await a.writer.sync()
  t.same(double.get('configmaps', PRIVATE_IMAGES_NAME, NS).data, EMPTY_DATA, 'no keys: empty patterns (nothing private)')
})

t.test('two replicas: one writer; the other takes over on release or expiry', async (t) => {
  const double = await cluster(t)
  const c = clock()
  const a = replica(t, double, c, 'a', inputsOf(['ghcr.io/acme']))
  // b lags behind (say, its config not reloaded yet): it must not undo a's content.
  const b = replica(t, double, c, 'b', inputsOf([]))
  for (let i = 0; i < 5; i++) {
    await a.writer.sync()
    await b.writer.sync()
    c.advance(2000)
  }
  t.match(a.writer.status(), { leading: true, writes: 1 })
  t.match(b.writer.status(), { leading: false, holder: 'a', writes: 0, lastError: undefined })
  t.match(double.get('configmaps', PRIVATE_IMAGES_NAME, NS).data.private, /ghcr/, 'the leader\'s content stands')

  await a.writer.stop()
  t.match(double.get('leases', PRIVATE_IMAGES_NAME, NS).spec, { holderIdentity: '', leaseDurationSeconds: 1 }, 'stop() releases the Lease')
  await b.writer.sync()
  t.match(b.writer.status(), { leading: true, holder: 'b' }, 'released: taken over at once')
  t.equal(double.get('leases', PRIVATE_IMAGES_NAME, NS).spec.leaseTransitions, 1, 'a takeover counts a transition')
  t.same(double.get('configmaps', PRIVATE_IMAGES_NAME, NS).data, EMPTY_DATA, 'the new leader writes its view')

  // b stops renewing without releasing (a crash): c waits the lease duration on its own clock.
  const d = replica(t, double, c, 'd', inputsOf(['quay.io']))
  await d.writer.sync()
  t.match(d.writer.status(), { leading: false, holder: 'b' })
  c.advance(14_000)
  await d.writer.sync()
  t.equal(d.writer.status().leading, false, 'not before leaseDurationSeconds have passed since the record last changed')
  t.equal(b.writer.status().leading, false, 'b itself stopped leading after the renew deadline')
  c.advance(2000)
  await d.writer.sync()
  t.match(d.writer.status(), { leading: true, holder: 'd' }, 'expired: taken over')
  t.equal(double.get('leases', PRIVATE_IMAGES_NAME, NS).spec.leaseTransitions, 2)
  t.match(double.get('configmaps', PRIVATE_IMAGES_NAME, NS).data.private, /quay/)
  await b.writer.sync()
  t.match(b.writer.status(), { leading: false, holder: 'd' }, 'b, back, follows')
})

t.test('RBAC denial is reported with the Role to fix, never thrown; recovery clears it', async (t) => {
  const double = await cluster(t)
  const c = clock()
  const a = replica(t, double, c, 'a', inputsOf(['ghcr.io']))
  double.deny('configmaps')
  await a.writer.sync()
  t.match(a.writer.status(), { leading: true, writes: 0, lastError: /forbidden to get configmaps\/pullguard-private-images in namespace pullguard: .*Role pullguard-private-images.*cannot get resource "configmaps"/ })
  t.match(a.logs.text(), /"level":50.*forbidden to get configmaps/)
  double.allow()
  double.deny('configmaps', 'create')
  c.advance(2000)
  await a.writer.sync()
  t.match(a.writer.status().lastError, /forbidden to create configmaps/)
  double.allow()
  double.deny('leases')
  const b = replica(t, double, c, 'b', inputsOf(['ghcr.io']))
  await b.writer.sync()
  t.match(b.writer.status(), { leading: false, lastError: /forbidden to get or update leases\.coordination\.k8s\.io\/pullguard-private-images/ })
  double.allow()
  c.advance(2000)
  await a.writer.sync()
  t.match(a.writer.status(), { leading: true, writes: 1, lastError: undefined }, 'allowed again: written, error cleared')
})

t.test('a failed renewal is reported; the term ends at the renew deadline, not before', async (t) => {
  const double = await cluster(t)
  const c = clock()
  const a = replica(t, double, c, 'a', inputsOf(['ghcr.io']))
  await a.writer.sync()
  double.deny('leases', 'update')
  c.advance(2000)
  a.set(inputsOf(['ghcr.io', 'quay.io']))
  await a.writer.sync()
  t.match(a.writer.status(), { leading: true, writes: 2, lastError: /forbidden to get or update leases/ }, 'still leading within the deadline: writes, and says why renewing fails')
  c.advance(9000)
  await a.writer.sync()
  t.equal(a.writer.status().leading, false, '10 s after the last renewal: no longer leading')
  double.allow()
  c.advance(2000)
  await a.writer.sync()
  t.match(a.writer.status(), { leading: true, lastError: undefined }, 'renewed again')
})

t.test('the config default and the excluded namespaces are written, and rewritten at once on a config reload', async (t) => {
  const double = await cluster(t)
  const c = clock()
  const a = replica(t, double, c, 'a', inputsOf(['ghcr.io/acme'], [], 'private', ['sandbox', 'team-b*']))
  await a.writer.sync()
  const data = (): Record<string, string> => double.get('configmaps', PRIVATE_IMAGES_NAME, NS).data
  t.match(data(), { alwaysPull: 'private', excludedNamespaces: '^(?:pullguard|sandbox|team-b[\\-0-9a-z]*)$', private: /ghcr/ },
    'its own namespace first, then excludeNamespaces, globs as RE2')
  t.equal(writesOf(double), 1)

  a.set(inputsOf(['ghcr.io/acme'], [], 'all', ['sandbox', 'team-b*']))
  c.advance(2000)
  await a.writer.sync()
  t.equal(writesOf(double), 2, 'a new default: written at once, not at the resync')
  t.equal(data().alwaysPull, 'all')

  a.set(inputsOf(['ghcr.io/acme'], [], 'all', ['ci-?']))
  c.advance(2000)
  await a.writer.sync()
  t.equal(writesOf(double), 3, 'new excludeNamespaces: written at once')
  t.equal(data().excludedNamespaces, '^(?:pullguard|ci-[\\-0-9a-z])$')
  t.match(data(), { private: /ghcr/, alwaysPull: 'all' }, 'the rest kept')

  a.set(inputsOf(['ghcr.io/acme'], [], 'off', ['ci-?']))
  c.advance(2000)
  await a.writer.sync()
  t.equal(data().alwaysPull, 'off', 'off is written too (labelled namespaces still count)')
  t.match(a.logs.text(), /private-image patterns updated.*"alwaysPull":"off"|"alwaysPull":"off".*private-image patterns updated/, 'the write is logged with the default')

  const cm = double.get('configmaps', PRIVATE_IMAGES_NAME, NS)
  double.update('configmaps', { ...cm, data: { private: cm.data.private, public: cm.data.public } }, NS)
  c.advance(11_000)
  await a.writer.sync()
  t.match(data(), { alwaysPull: 'off', excludedNamespaces: /ci-/ }, 'a ConfigMap without the new keys (an older pullguard wrote it) is completed at the resync')
})

t.test('privateImagesInputs: every configured key (any namespace scope), every usable pull Secret key, the namespace defaults', async (t) => {
  const config = {
    registries: [{ key: mustParse('ghcr.io/acme') }, { key: mustParse('quay.io') }],
    publicImages: ['docker.io/library/'],
    alwaysPull: 'private',
    excludeNamespaces: ['sandbox', 'team-b*', 'pullguard'],
  }
  const inputs = privateImagesInputs(config as never, { pullSecretKeys: () => [mustParse('registry.example.com')] })
  t.same(inputs.keys.map((k) => k.raw), ['ghcr.io/acme', 'quay.io', 'registry.example.com'])
  t.same(inputs.publicImages, ['docker.io/library/'])
  t.equal(inputs.alwaysPull, 'private')
  t.same(inputs.excludeNamespaces, ['sandbox', 'team-b*', 'pullguard'])
  t.equal(privateImagesParams(inputs, 'pullguard').data.excludedNamespaces, '^(?:pullguard|sandbox|team-b[\\-0-9a-z]*)$', 'its own namespace once, first')
})
