/**
 * Leader election over a coordination.k8s.io/v1 Lease (src/kube/leader-lease.ts),
 * as client-go's tools/leaderelection, against the API server double (which
 * checks resourceVersions and decodes MicroTimes strictly) with client-node's
 * CoordinationV1Api. The replicas share a fake clock that only moves when a
 * test moves it, so nothing here waits on real time.
 */
import t, { type Test } from 'tap'
import { CoordinationV1Api } from '@kubernetes/client-node'
import { LeaderLease, type LeaderLeaseOptions } from '../../src/kube/leader-lease.js'
import { ApiServerDouble } from '../helpers/api-server-double.js'

const NS = 'pullguard'
const NAME = 'pullguard-test'

interface Clock { now: () => Date, advance: (ms: number) => void }
function clock (): Clock {
  let at = Date.UTC(2030, 0, 1)
  return { now: () => new Date(at), advance: (ms) => { at += ms } }
}

async function setup (t: Test): Promise<{ api: ApiServerDouble, c: Clock, replica: (identity: string, extra?: Partial<LeaderLeaseOptions>) => LeaderLease }> {
  const api = new ApiServerDouble()
  await api.start()
  t.teardown(async () => { await api.stop() })
  const c = clock()
  const replica = (identity: string, extra: Partial<LeaderLeaseOptions> = {}): LeaderLease =>
    new LeaderLease({ api: api.kubeConfig().makeApiClient(CoordinationV1Api), namespace: NS, name: NAME, identity, now: c.now, ...extra })
  return { api, c, replica }
}

t.test('the first replica creates the Lease and leads; another sees the holder', async (t) => {
  const { api, replica } = await setup(t)
  const a = replica('a')
  const b = replica('b')
  t.same(await a.step(), { leading: true })
  t.ok(a.isLeader())
  t.equal(a.holder(), 'a')
  t.match(api.get('leases', NAME, NS).spec, { holderIdentity: 'a', leaseDurationSeconds: 15, leaseTransitions: 0, acquireTime: '2030-01-01T00:00:00.000000Z' })
  t.same(await b.step(), { leading: false, holder: 'a' })
  t.notOk(b.isLeader())
})

t.test('a renewal keeps acquireTime and transitions and moves renewTime', async (t) => {
  const { api, c, replica } = await setup(t)
  const a = replica('a')
  await a.step()
  c.advance(2000)
  t.same(await a.step(), { leading: true })
  t.match(api.get('leases', NAME, NS).spec, { holderIdentity: 'a', acquireTime: '2030-01-01T00:00:00.000000Z', renewTime: '2030-01-01T00:00:02.000000Z', leaseTransitions: 0 })
})

t.test('a Lease held by another is respected for its duration on our clock, then taken over as a new term', async (t) => {
  const { api, c, replica } = await setup(t)
  const a = replica('a')
  const b = replica('b')
  await a.step()
  await b.step() // b sees a's record now
  c.advance(14_000)
  t.same(await b.step(), { leading: false, holder: 'a' }, 'not yet: 14 s of 15')
  c.advance(1_001)
  t.same(await b.step(), { leading: true }, 'a stopped renewing: b takes over')
  t.match(api.get('leases', NAME, NS).spec, { holderIdentity: 'b', leaseTransitions: 1, acquireTime: '2030-01-01T00:00:15.001000Z' })
  t.notOk(a.isLeader(), 'a stopped leading on its own clock (renew deadline 10 s)')
  t.same(await a.step(), { leading: false, holder: 'b' }, 'a reads the new holder')
})

t.test('a record that keeps changing restarts the count: renewals keep others out indefinitely', async (t) => {
  const { c, replica } = await setup(t)
  const a = replica('a')
  const b = replica('b')
  await a.step()
  for (let i = 0; i < 5; i++) {
    c.advance(9_000)
    t.same(await a.step(), { leading: true })
    t.same(await b.step(), { leading: false, holder: 'a' }, `after ${(i + 1) * 9} s`)
  }
})

t.test('leading ends at the renew deadline, before anyone may take over', async (t) => {
  const { c, replica } = await setup(t)
  const a = replica('a', { renewDeadlineMs: 10_000 })
  await a.step()
  c.advance(9_999)
  t.ok(a.isLeader())
  c.advance(1)
  t.notOk(a.isLeader())
})

t.test('release hands the Lease back: another replica takes it at once', async (t) => {
  const { api, replica } = await setup(t)
  const a = replica('a')
  const b = replica('b')
  await a.step()
  await b.step()
  await a.release()
  t.notOk(a.isLeader())
  t.match(api.get('leases', NAME, NS).spec, { holderIdentity: '', leaseDurationSeconds: 1 })
  t.same(await b.step(), { leading: true })
  t.match(api.get('leases', NAME, NS).spec, { holderIdentity: 'b', leaseTransitions: 1 })
  await a.release()
  t.equal(api.get('leases', NAME, NS).spec.holderIdentity, 'b', 'a replica that does not hold it releases nothing')
})

t.test('two replicas racing for an expired Lease: one wins, the other gets 409 Conflict', async (t) => {
  const { api, c, replica } = await setup(t)
  const a = replica('a')
  await a.step()
  const b = replica('b')
  const d = replica('d')
  await b.step()
  await d.step()
  c.advance(16_000)
  const steps = await Promise.all([b.step(), d.step()])
  t.equal(steps.filter((s) => s.leading).length, 1, 'exactly one leads')
  const lost = steps.find((s) => !s.leading)
  t.match(lost, { leading: false, error: { code: 409 } })
  t.equal(api.get('leases', NAME, NS).spec.leaseTransitions, 1)
})

t.test('RBAC refusals come back in the step, never thrown', async (t) => {
  const { api, replica } = await setup(t)
  api.deny('leases')
  const step = await replica('a').step()
  t.match(step, { leading: false, holder: undefined, error: { code: 403 } })
})

t.test('the renew deadline must be shorter than the lease duration', async (t) => {
  const { replica } = await setup(t)
  t.throws(() => replica('a', { leaseDurationSeconds: 10, renewDeadlineMs: 10_000 }), RangeError)
  t.doesNotThrow(() => replica('a', { leaseDurationSeconds: 10, renewDeadlineMs: 9_999 }))
})
