/**
 * Secret distribution against the API server double (real HTTP, real
 * client-node, real watches): copies where entries apply and nowhere else,
 * one writer among replicas racing for the Lease, rotation, namespaces
 * relabelled in and out, an unmanaged Secret never touched, a config reload
 * dropping an entry, hand-deleted and hand-edited copies restored, a deleted
 * source (keep and delete), conflicts retried with backoff, paced writes,
 * RBAC refusals reported, and no credential in any log line.
 *
 * The Lease runs on a fake clock and the timers never fire (an hour): each
 * round is driven by sync() once the watches have caught up with the double.
 */
import { randomBytes } from 'node:crypto'
import t, { type Test } from 'tap'
import { summarizeNamespace } from '../../src/cluster/summaries.js'
import type { Config } from '../../src/config/compile.js'
import { COPIED_FROM_ANNOTATION, DATA_HASH_ANNOTATION, dataHash } from '../../src/distribution/copy.js'
import { MANAGED_BY_LABEL } from '../../src/cluster/managed-by.js'
import { copyStatus } from '../../src/distribution/plan.js'
import { createLogger } from '../../src/logger.js'
import { DISTRIBUTION_LEASE, startSecretDistributor, type SecretDistributor } from '../../src/kube/secret-distributor.js'
import { ApiServerDouble, type KObject } from '../helpers/api-server-double.js'
import { appliedPullSecret, namespaceObject } from '../helpers/cluster.js'
import { configFrom, type Json } from '../helpers/fixtures.js'
import { LogCapture } from '../helpers/server.js'
import { waitFor } from '../helpers/wait.js'

const NS = 'pullguard'
const HOUR = 3_600_000
const NAME = 'ghcr-acme'
const CONFIG_TEXT = `
registries:
  - match: ghcr.io/acme
    secrets:
      - name: ${NAME}
        from: pullguard/${NAME}
    namespaces: [team-a]
    namespaceSelector: {matchLabels: {tenant: acme}}
excludeNamespaces: [kube-system, sandbox]
`
const load = (text: string): Config => configFrom(text, NS)

interface Clock { now: () => Date, advance: (ms: number) => void }
function clock (): Clock {
  let at = Date.UTC(2030, 0, 1)
  return { now: () => new Date(at), advance: (ms) => { at += ms } }
}

/** A fresh credential per test, so that a log search finds exactly it. */
function credential (): string {
  return `pw-${randomBytes(12).toString('hex')}`
}

function source (secret: string): KObject {
  return appliedPullSecret(NS, NAME, ['ghcr.io'], secret)
}

async function cluster (t: Test, secret: string): Promise<ApiServerDouble> {
  const double = new ApiServerDouble()
  await double.start()
  t.teardown(async () => { await double.stop() })
  for (const [name, labels] of [[NS, {}], ['team-a', {}], ['team-b', { tenant: 'acme' }], ['team-c', {}], ['sandbox', { tenant: 'acme' }], ['kube-system', { tenant: 'acme' }]] as const) {
    double.create('namespaces', namespaceObject(name, labels))
  }
  double.create('secrets', source(secret), NS)
  return double
}

interface Replica { d: SecretDistributor, logs: LogCapture, setConfig: (c: Config) => void }
function replica (t: Test, double: ApiServerDouble, c: Clock, identity: string, config: Config, timings: Record<string, number> = {}): Replica {
  const logs = new LogCapture()
  let current = config
  const d = startSecretDistributor({
    kubeConfig: double.kubeConfig(),
    namespace: NS,
    identity,
    config: () => current,
    namespaces: () => double.list('namespaces').map((ns) => summarizeNamespace(ns as never)),
    log: createLogger({ level: 'debug', destination: logs }),
    timings: { retryPeriodMs: HOUR, kickDelayMs: HOUR, ...timings },
    watchBackoff: { initialMs: 20, maxMs: 200 },
    now: c.now,
  })
  t.teardown(async () => { await d.stop() })
  return { d, logs, setConfig: (next) => { current = next } }
}

/**
 * The replica's watches see every Secret named `names` (watched in every
 * namespace) and each of `sources` exactly as the double has it.
 */
function caughtUp (r: Replica, double: ApiServerDouble, names: readonly string[] = [NAME], sources: ReadonlyArray<readonly [string, string]> = [[NS, NAME]]): boolean {
  const same = (namespace: string, name: string): boolean => {
    const there = double.list('secrets', namespace).find((s) => s.metadata.name === name)
    const seen = r.d.view.observe(namespace, name)
    return there === undefined ? seen === 'absent' : (typeof seen === 'object' && seen.resourceVersion === there.metadata.resourceVersion)
  }
  return double.list('namespaces').every((ns) => names.every((name) => same(ns.metadata.name as string, name))) &&
    sources.every(([namespace, name]) => same(namespace, name))
}

/** One round at once (it follows the config), then rounds after the watches caught up until the leader plans nothing more. */
async function converge (r: Replica, double: ApiServerDouble, c: Clock, names: readonly string[] = [NAME], sources: ReadonlyArray<readonly [string, string]> = [[NS, NAME]]): Promise<void> {
  c.advance(2000)
  await r.d.sync()
  for (let i = 0; i < 10; i++) {
    await waitFor(() => caughtUp(r, double, names, sources), 5000, 'the watches to catch up')
    c.advance(2000)
    await r.d.sync()
    if (r.d.status().planned === 0) return
  }
  throw new Error(`no convergence: ${JSON.stringify(r.d.status())}`)
}

const copyIn = (double: ApiServerDouble, namespace: string): Json =>
  double.list('secrets', namespace).find((s) => s.metadata.name === NAME)

const namespacesWithCopies = (double: ApiServerDouble): string[] =>
  double.list('namespaces').map((n) => n.metadata.name as string).filter((ns) => ns !== NS && copyIn(double, ns) !== undefined).sort()

const writes = (double: ApiServerDouble): number =>
  double.requests.filter((r) => r.resource === 'secrets' && ['create', 'update', 'delete'].includes(r.verb ?? '') && (r.status ?? 500) < 300).length

/** Nothing of the credential in any log line: the password, its base64 forms, the Secret's data. */
function assertNoCredential (t: Test, logs: LogCapture, secret: string): void {
  const text = logs.text()
  const data = (source(secret).data as Record<string, string>)['.dockerconfigjson'] as string
  t.notOk(text.includes(secret), 'the password is in no log line')
  t.notOk(text.includes(Buffer.from(`robot:${secret}`).toString('base64')), 'nor its auth field')
  t.notOk(text.includes(data.slice(0, 40)), 'nor the Secret\'s data')
  t.notOk(text.includes('sha256:'), 'nor a hash of it')
  t.notOk(text.includes('double-token'), 'nor the API token')
  t.ok(logs.lines.length > 0, 'while logs were written')
}

t.test('copies go where the entry applies: listed namespaces and selected ones, never excluded ones or the source\'s own', async (t) => {
  const secret = credential()
  const double = await cluster(t, secret)
  const c = clock()
  const a = replica(t, double, c, 'a', load(CONFIG_TEXT))
  await converge(a, double, c)
  t.same(namespacesWithCopies(double), ['team-a', 'team-b'], 'team-a (listed) and team-b (tenant=acme); not team-c, sandbox (excluded), kube-system (excluded), pullguard')
  const src = double.get('secrets', NAME, NS)
  const copy = copyIn(double, 'team-a') as Json
  t.same(copy.data, src.data, 'the data of the source')
  t.equal(copy.type, 'kubernetes.io/dockerconfigjson', 'its type')
  t.equal(copy.metadata.labels[MANAGED_BY_LABEL], 'pullguard', 'labelled managed-by pullguard')
  t.equal(copy.metadata.annotations[COPIED_FROM_ANNOTATION], `${NS}/${NAME}`, 'annotated with the source')
  t.equal(copy.metadata.annotations[DATA_HASH_ANNOTATION], dataHash(src.type, src.data), 'and the hash of its data')
  t.notOk('kubectl.kubernetes.io/last-applied-configuration' in copy.metadata.annotations, 'none of the source\'s annotations (kubectl\'s holds the data)')
  t.match(a.d.status(), { leading: true, lastError: undefined, copies: { current: 2, pending: 0 }, writes: { create: 2, update: 0, delete: 0 } })
  t.same(copyStatus(load(CONFIG_TEXT).distribution, a.d.view, 'team-b', { tenant: 'acme' }, NAME), { from: `${NS}/${NAME}`, entry: 0, state: 'current', exists: true }, 'the view says current')
  t.equal(double.get('leases', DISTRIBUTION_LEASE, NS).spec.holderIdentity, 'a', 'the Lease pullguard-secret-distribution')
  const before = writes(double)
  await converge(a, double, c)
  t.equal(writes(double), before, 'nothing to do: nothing written')
  assertNoCredential(t, a.logs, secret)
})

t.test('two replicas racing: exactly one writes', async (t) => {
  const secret = credential()
  const double = await cluster(t, secret)
  const c = clock()
  const config = load(CONFIG_TEXT)
  const a = replica(t, double, c, 'a', config)
  const b = replica(t, double, c, 'b', config)
  await waitFor(() => caughtUp(a, double) && caughtUp(b, double), 5000, 'both watching')
  for (let i = 0; i < 4; i++) {
    await Promise.all([a.d.sync(), b.d.sync()])
    await waitFor(() => caughtUp(a, double) && caughtUp(b, double), 5000, 'both caught up')
    c.advance(2000)
  }
  const [leader, follower] = a.d.status().leading ? [a, b] : [b, a]
  t.equal(leader.d.status().leading, true, 'one leads')
  t.match(follower.d.status(), { leading: false, holder: leader === a ? 'a' : 'b', copies: undefined, writes: { create: 0, update: 0, delete: 0 } }, 'the other follows and writes nothing')
  t.equal(leader.d.status().writes.create, 2, 'each copy created once')
  t.equal(double.requests.filter((r) => r.resource === 'secrets' && r.verb === 'create' && r.status === 409).length, 0, 'no create lost to the other replica')
  t.same(namespacesWithCopies(double), ['team-a', 'team-b'])
  t.same(follower.d.view.observe('team-a', NAME) !== 'unknown' && follower.d.view.observe('team-a', NAME) !== 'absent', true, 'the follower sees the copies too (for admission)')

  await leader.d.stop()
  t.match(double.get('leases', DISTRIBUTION_LEASE, NS).spec, { holderIdentity: '', leaseDurationSeconds: 1 }, 'stop() releases the Lease')
  await follower.d.sync()
  t.equal(follower.d.status().leading, true, 'released: the other takes over at once')
  double.remove('secrets', NAME, 'team-b')
  await converge(follower, double, c)
  t.ok(copyIn(double, 'team-b'), 'and writes from then on')
})

t.test('source rotated: every copy updated at the next round', async (t) => {
  const secret = credential()
  const double = await cluster(t, secret)
  const c = clock()
  const a = replica(t, double, c, 'a', load(CONFIG_TEXT))
  await converge(a, double, c)
  const rotated = credential()
  double.update('secrets', { ...source(rotated), metadata: { ...source(rotated).metadata, resourceVersion: undefined } }, NS)
  await waitFor(() => caughtUp(a, double), 5000, 'the rotation seen')
  t.match(a.d.status().copies ?? {}, { current: 2 }, 'before the round: still the last plan')
  t.equal(copyStatus(load(CONFIG_TEXT).distribution, a.d.view, 'team-a', {}, NAME)?.state, 'outdated', 'the view already says outdated')
  await converge(a, double, c)
  const data = double.get('secrets', NAME, NS).data
  for (const ns of ['team-a', 'team-b']) {
    t.same(copyIn(double, ns)?.data, data, `${ns}: the new data`)
    t.equal(copyIn(double, ns)?.metadata.annotations[DATA_HASH_ANNOTATION], dataHash('kubernetes.io/dockerconfigjson', data), `${ns}: the new hash`)
  }
  t.match(a.d.status(), { copies: { current: 2, outdated: 0 }, writes: { create: 2, update: 2 } })
  t.match(a.logs.text(), /Secret copy updated/)
  assertNoCredential(t, a.logs, secret)
  assertNoCredential(t, a.logs, rotated)
})

t.test('a namespace relabelled into scope gets a copy; out of scope, the copy goes', async (t) => {
  const secret = credential()
  const double = await cluster(t, secret)
  const c = clock()
  const a = replica(t, double, c, 'a', load(CONFIG_TEXT))
  await converge(a, double, c)
  const relabel = (labels: Record<string, string>): void => {
    const ns = double.get('namespaces', 'team-c')
    double.update('namespaces', { ...ns, metadata: { ...ns.metadata, labels: { 'kubernetes.io/metadata.name': 'team-c', ...labels } } })
  }
  relabel({ tenant: 'acme' })
  await converge(a, double, c)
  t.same(namespacesWithCopies(double), ['team-a', 'team-b', 'team-c'], 'relabelled in: copied')
  relabel({ tenant: 'other' })
  await converge(a, double, c)
  t.same(namespacesWithCopies(double), ['team-a', 'team-b'], 'relabelled out: deleted')
  double.create('namespaces', namespaceObject('team-d', { tenant: 'acme' }))
  await converge(a, double, c)
  t.same(namespacesWithCopies(double), ['team-a', 'team-b', 'team-d'], 'a new namespace in scope: copied')
  t.match(a.logs.text(), /"why":"not-wanted".*Secret copy deleted/)
})

t.test('a Secret of the copy\'s name that pullguard does not manage is never touched, and reported once', async (t) => {
  const secret = credential()
  const double = await cluster(t, secret)
  const theirs = double.create('secrets', { metadata: { name: NAME, namespace: 'team-b', labels: { team: 'b' } }, type: 'Opaque', data: { token: 'dGhlaXJz' } }, 'team-b')
  // Labelled but without pullguard's source annotation (as the bootstrap Secret): not a copy either.
  const labelled = double.create('secrets', { metadata: { name: NAME, namespace: 'team-a', labels: { [MANAGED_BY_LABEL]: 'pullguard' } }, type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': 'e30=' } }, 'team-a')
  const c = clock()
  const a = replica(t, double, c, 'a', load(CONFIG_TEXT))
  await converge(a, double, c)
  await converge(a, double, c)
  t.equal(double.get('secrets', NAME, 'team-b').metadata.resourceVersion, theirs.metadata.resourceVersion, 'the unmanaged Secret is unchanged')
  t.equal(double.get('secrets', NAME, 'team-a').metadata.resourceVersion, labelled.metadata.resourceVersion, 'so is one with the label alone')
  t.equal(double.requests.filter((r) => r.resource === 'secrets' && r.namespace !== NS && r.verb !== 'list' && r.verb !== 'watch').length, 0, 'not even read')
  t.match(a.d.status(), { copies: { unmanaged: 2, current: 0 }, planned: 0 })
  t.equal(a.logs.records().filter((l) => /pullguard does not manage it/.test(String(l.msg))).length, 2, 'one warning per Secret, not per round')
  t.match(a.logs.text(), /"state":"unmanaged","namespace":"team-b","secret":"ghcr-acme","entries":\["registries\[0\]\.secrets\[0\] \(pullguard\/ghcr-acme\)"\]/)
  double.remove('secrets', NAME, 'team-b')
  await converge(a, double, c)
  t.ok(copyIn(double, 'team-b')?.metadata.labels[MANAGED_BY_LABEL], 'gone: pullguard\'s copy takes its place')
  t.match(a.logs.text(), /secret distribution problem resolved/)
})

t.test('a config reload without the entry deletes its copies; one with it again brings them back', async (t) => {
  const secret = credential()
  const double = await cluster(t, secret)
  const c = clock()
  const a = replica(t, double, c, 'a', load(CONFIG_TEXT))
  await converge(a, double, c)
  a.setConfig(load('registries: [{match: ghcr.io/acme, secrets: [ghcr-acme], namespaces: [team-a]}]\nexcludeNamespaces: [kube-system, sandbox]\n'))
  c.advance(2000)
  await a.d.sync()
  t.same(namespacesWithCopies(double), [], 'the name is no longer distributed (a plain Secret name now): its copies are found by label and deleted')
  t.equal(double.get('secrets', NAME, NS).metadata.name, NAME, 'the source stays')
  t.ok(double.requests.some((r) => r.resource === 'secrets' && r.verb === 'list' && r.query.labelSelector === 'app.kubernetes.io/managed-by=pullguard'), 'by a labelled list')
  a.setConfig(load(CONFIG_TEXT))
  await converge(a, double, c)
  t.same(namespacesWithCopies(double), ['team-a', 'team-b'], 'back')
})

t.test('after a restart with a config that no longer has the entry, the old copies are deleted', async (t) => {
  const secret = credential()
  const double = await cluster(t, secret)
  const c = clock()
  const first = replica(t, double, c, 'a', load(CONFIG_TEXT))
  await converge(first, double, c)
  await first.d.stop()
  const other = load(CONFIG_TEXT.replace(`name: ${NAME}`, 'name: ghcr-acme-2'))
  const second = replica(t, double, c, 'b', other)
  await converge(second, double, c, ['ghcr-acme-2'])
  t.same(namespacesWithCopies(double), [], 'no copy of the old name is left')
  t.same(double.list('secrets', 'team-a').map((s) => s.metadata.name), ['ghcr-acme-2'], 'the new name is copied')
})

t.test('a copy deleted or edited by hand comes back at the next round', async (t) => {
  const secret = credential()
  const double = await cluster(t, secret)
  const c = clock()
  const a = replica(t, double, c, 'a', load(CONFIG_TEXT))
  await converge(a, double, c)
  double.remove('secrets', NAME, 'team-a')
  const edited = copyIn(double, 'team-b') as KObject
  double.update('secrets', { ...edited, data: { '.dockerconfigjson': Buffer.from('{"auths":{}}').toString('base64') } }, 'team-b')
  await converge(a, double, c)
  const data = double.get('secrets', NAME, NS).data
  t.same(copyIn(double, 'team-a')?.data, data, 'deleted: recreated')
  t.same(copyIn(double, 'team-b')?.data, data, 'edited data (annotations untouched): rewritten')
  const again = copyIn(double, 'team-b') as KObject
  double.update('secrets', { ...again, metadata: { ...again.metadata, labels: { ...again.metadata.labels, extra: 'kept' }, annotations: { ...again.metadata.annotations, [DATA_HASH_ANNOTATION]: 'sha256:0' } } }, 'team-b')
  await converge(a, double, c)
  t.equal(copyIn(double, 'team-b')?.metadata.annotations[DATA_HASH_ANNOTATION], dataHash('kubernetes.io/dockerconfigjson', data), 'a hash annotation edited: rewritten')
  t.equal(copyIn(double, 'team-b')?.metadata.labels.extra, 'kept', 'someone else\'s label kept')
})

t.test('source deleted: copies kept and reported (keep); deleted with onSourceDeleted: delete', async (t) => {
  const secret = credential()
  const double = await cluster(t, secret)
  const c = clock()
  const a = replica(t, double, c, 'a', load(CONFIG_TEXT))
  await converge(a, double, c)
  double.remove('secrets', NAME, NS)
  await converge(a, double, c)
  t.same(namespacesWithCopies(double), ['team-a', 'team-b'], 'keep (default): the copies stay, pods keep pulling')
  t.match(a.d.status(), { copies: { 'source-missing': 2 }, sourceProblems: [{ entry: 0, problem: 'missing' }] })
  t.match(a.logs.text(), /the source Secret does not exist: its copies are kept \(onSourceDeleted: keep\)/)
  t.equal(copyStatus(load(CONFIG_TEXT).distribution, a.d.view, 'team-a', {}, NAME)?.exists, true, 'the view: source missing, copy exists')

  a.setConfig(load(`${CONFIG_TEXT}onSourceDeleted: delete\n`))
  await converge(a, double, c)
  t.same(namespacesWithCopies(double), [], 'delete: the copies go')
  t.match(a.logs.text(), /"why":"source-deleted"/)

  double.create('secrets', { ...source(secret), metadata: { ...source(secret).metadata, name: NAME, namespace: NS } }, NS)
  await converge(a, double, c)
  t.same(namespacesWithCopies(double), ['team-a', 'team-b'], 'the source back: copied again')
  t.same(a.d.status().sourceProblems, [], 'nothing to report')
})

t.test('a source that is not a pull Secret is not copied, and reported', async (t) => {
  const secret = credential()
  const double = await cluster(t, secret)
  double.remove('secrets', NAME, NS)
  double.create('secrets', { metadata: { name: NAME, namespace: NS }, type: 'Opaque', data: { password: Buffer.from(secret).toString('base64') } }, NS)
  const c = clock()
  const a = replica(t, double, c, 'a', load(CONFIG_TEXT))
  await converge(a, double, c)
  t.same(namespacesWithCopies(double), [], 'nothing copied')
  t.match(a.d.status(), { copies: { 'source-invalid': 2 }, sourceProblems: [{ entry: 0, problem: 'not-a-pull-secret' }] })
  t.match(a.logs.text(), /not of type kubernetes\.io\/dockerconfigjson or kubernetes\.io\/dockercfg: not copied/)
  assertNoCredential(t, a.logs, secret)
})

t.test('a copy changed while pullguard writes it: 409 Conflict, retried after a backoff', async (t) => {
  const secret = credential()
  const double = await cluster(t, secret)
  const c = clock()
  const a = replica(t, double, c, 'a', load(CONFIG_TEXT), { backoffInitialMs: 5000 })
  await converge(a, double, c)
  double.update('secrets', { ...source(credential()), metadata: { ...source(secret).metadata, resourceVersion: undefined } }, NS)
  let raced = 0
  double.onRequest = (r) => {
    // Someone writes team-a's copy between pullguard's read and its PUT.
    if (r.method === 'PUT' && r.path === `/api/v1/namespaces/team-a/secrets/${NAME}` && raced++ === 0) {
      const copy = double.get('secrets', NAME, 'team-a')
      double.update('secrets', { ...copy, metadata: { ...copy.metadata, labels: { ...copy.metadata.labels, touched: 'yes' } } }, 'team-a')
    }
  }
  await waitFor(() => caughtUp(a, double), 5000, 'the rotation seen')
  c.advance(2000)
  await a.d.sync()
  t.equal(a.d.status().errors.update, 1, 'one update refused')
  t.match(a.logs.text(), /the Secret changed while pullguard wrote it; retrying/)
  const hashIn = (ns: string): string | undefined => (copyIn(double, ns) as Json)?.metadata.annotations[DATA_HASH_ANNOTATION]
  const stale = hashIn('team-a')
  await waitFor(() => caughtUp(a, double), 5000, 'caught up')
  c.advance(2000)
  await a.d.sync()
  t.equal(hashIn('team-a'), stale, 'within the backoff: not tried again')
  c.advance(5000)
  await converge(a, double, c)
  t.equal(copyIn(double, 'team-a')?.metadata.labels.touched, 'yes', 'the other writer\'s change kept')
  t.same(copyIn(double, 'team-a')?.data, double.get('secrets', NAME, NS).data, 'after the backoff: written')
})

t.test('writes are paced: a burst, then the rate', async (t) => {
  const secret = credential()
  const double = await cluster(t, secret)
  for (let i = 0; i < 6; i++) double.create('namespaces', namespaceObject(`tenant-${i}`, { tenant: 'acme' }))
  const c = clock()
  const a = replica(t, double, c, 'a', load(CONFIG_TEXT), { writesPerSecond: 1, writeBurst: 3 })
  await waitFor(() => caughtUp(a, double), 5000, 'watching')
  await a.d.sync()
  t.equal(a.d.status().writes.create, 3, 'the burst')
  await a.d.sync()
  t.equal(a.d.status().writes.create, 3, 'no time passed: no token')
  c.advance(2000)
  await a.d.sync()
  t.equal(a.d.status().writes.create, 5, 'two seconds: two more')
  c.advance(10_000)
  await a.d.sync()
  t.equal(a.d.status().writes.create, 8, 'the rest (8 namespaces in scope)')
})

t.test('RBAC refusing writes is reported with the component to add, never thrown', async (t) => {
  const secret = credential()
  const double = await cluster(t, secret)
  double.deny('secrets', 'create')
  const c = clock()
  const a = replica(t, double, c, 'a', load(CONFIG_TEXT))
  await waitFor(() => caughtUp(a, double), 5000, 'watching')
  await a.d.sync()
  t.match(a.d.status(), { leading: true, lastError: /cannot create Secret team-[ab]\/ghcr-acme: 403 .*cannot create resource "secrets".*secret-distribution component grants create, update and delete on secrets/ })
  t.equal(a.d.status().errors.create, 1, 'one refusal, then the round stops')
  t.match(a.logs.text(), /"level":50.*secret distribution failing/)
  double.allow()
  await converge(a, double, c)
  t.match(a.d.status(), { lastError: undefined, copies: { current: 2 } }, 'allowed again: copied, error cleared')
  double.deny('leases')
  const b = replica(t, double, c, 'b', load(CONFIG_TEXT))
  await b.d.sync()
  t.match(b.d.status(), { leading: false, lastError: /forbidden to get or update leases\.coordination\.k8s\.io\/pullguard-secret-distribution .*Role pullguard-secret-distribution/ })
})

t.test('two entries distributing different sources under one name: no copy where both apply, reported with both entries', async (t) => {
  const secret = credential()
  const double = await cluster(t, secret)
  double.create('secrets', { ...source(secret), metadata: { ...source(secret).metadata, name: 'other' } }, NS)
  const config = load(`
registries:
  - match: ghcr.io/acme
    secrets: [{name: ${NAME}, from: pullguard/${NAME}}]
    namespaces: ["team-[ab]"]
  - match: ghcr.io/other
    secrets: [{name: ${NAME}, from: pullguard/other}]
    namespaces: ["team-[bc]"]
`)
  const c = clock()
  const a = replica(t, double, c, 'a', config)
  await converge(a, double, c, [NAME], [[NS, NAME], [NS, 'other']])
  t.same(namespacesWithCopies(double), ['team-a', 'team-c'], 'one source each in team-a and team-c; none in team-b, where both globs match')
  t.equal(copyIn(double, 'team-c')?.metadata.annotations[COPIED_FROM_ANNOTATION], `${NS}/other`)
  t.match(a.d.status().copies, { current: 2, 'source-conflict': 1 })
  t.match(a.logs.text(), /"state":"source-conflict","namespace":"team-b","secret":"ghcr-acme","entries":\["registries\[0\]\.secrets\[0\] \(pullguard\/ghcr-acme\)","registries\[1\]\.secrets\[0\] \(pullguard\/other\)"\].*no copy is written there/)
  t.equal(copyStatus(config.distribution, a.d.view, 'team-b', {}, NAME)?.state, 'source-conflict')
})
