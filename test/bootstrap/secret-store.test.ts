/**
 * The bootstrap Secret store (src/bootstrap/secret-store.ts) against the API
 * server double (real HTTP, real client-node CoreV1Api): read decodes, create
 * and replace carry optimistic concurrency (409, never a blind overwrite),
 * and replace keeps what is not pullguard's.
 */
import { CoreV1Api } from '@kubernetes/client-node'
import t, { type Test } from 'tap'
import { rawOf, type SecretContent } from '../../src/bootstrap/secret-layout.js'
import { BootstrapSecretStore } from '../../src/bootstrap/secret-store.js'
import { ApiServerDouble } from '../helpers/api-server-double.js'

const NS = 'pullguard'
const NAME = 'pullguard-tls'
const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64')

/** Content as the plan makes it; the store never reads the PEM, so any text stands in (non-ASCII proves the encoding). */
function content (tag: string, more: Partial<SecretContent> = {}): SecretContent {
  return {
    serving: { cert: `serving cert ${tag} ✓\n`, key: `serving key ${tag}\n` },
    signing: { cert: `ca cert ${tag}\n`, key: `ca key ${tag}\n` },
    next: undefined,
    bundle: [`ca cert ${tag}\n`],
    phase: 'stable',
    since: undefined,
    ...more,
  }
}

async function setup (t: Test): Promise<{ double: ApiServerDouble, store: BootstrapSecretStore }> {
  const double = new ApiServerDouble()
  await double.start()
  t.teardown(async () => { await double.stop() })
  double.create('namespaces', { metadata: { name: NS } })
  return { double, store: new BootstrapSecretStore(double.kubeConfig().makeApiClient(CoreV1Api), NS, NAME) }
}

t.test('read: undefined when there is no Secret; other errors are thrown', async (t) => {
  const { double, store } = await setup(t)
  t.equal(await store.read(), undefined)
  double.deny('secrets', 'get')
  await t.rejects(store.read(), { code: 403 }, 'RBAC denial is not "no Secret"')
})

t.test('create: a kubernetes.io/tls Secret with our label, annotations and data; 409 for the second', async (t) => {
  const cases: Array<[string, SecretContent]> = [
    ['stable', content('a')],
    ['trust-new, with the next CA', content('b', { next: { cert: 'next cert\n', key: 'next key\n' }, bundle: ['next cert\n', 'ca cert b\n'], phase: 'trust-new', since: new Date(Date.UTC(2030, 0, 2)) })],
  ]
  for (const [what, c] of cases) {
    const { double, store } = await setup(t)
    const rv = await store.create(c)
    const stored = double.get('secrets', NAME, NS)
    t.equal(rv, stored.metadata.resourceVersion, `${what}: the new resourceVersion`)
    t.equal(stored.type, 'kubernetes.io/tls', `${what}: type`)
    t.same(stored.metadata.labels, { 'app.kubernetes.io/managed-by': 'pullguard' }, `${what}: label`)
    t.same(stored.metadata.annotations, rawOf(c).annotations, `${what}: annotations`)
    t.same(stored.data, Object.fromEntries(Object.entries(rawOf(c).data).map(([k, v]) => [k, b64(v ?? '')])), `${what}: data, base64`)
    const read = await store.read()
    t.same(read?.raw, rawOf(c), `${what}: read decodes what create wrote`)
    t.equal(read?.resourceVersion, rv, `${what}: read's resourceVersion`)
    await t.rejects(store.create(content('late')), { code: 409 }, `${what}: another replica's create is refused`)
    t.same(double.get('secrets', NAME, NS).data, stored.data, `${what}: and wrote nothing`)
  }
})

t.test('replace: ours replaced, the rest kept, the type left as it is', async (t) => {
  const { double, store } = await setup(t)
  // Created by someone else as Opaque, with keys, labels and annotations of theirs and stale ones of ours.
  double.create('secrets', {
    metadata: { name: NAME, labels: { team: 'infra' }, annotations: { note: 'keep', 'pullguard.dev/ca-rotation-since': '2030-01-01T00:00:00.000Z' } },
    type: 'Opaque',
    data: { 'extra.txt': b64('theirs'), 'ca-next.crt': b64('stale'), 'ca-next.key': b64('stale') },
  }, NS)
  const previous = await store.read()
  if (previous === undefined) throw new Error('expected the Secret')
  const c = content('c')
  const rv = await store.replace(previous, c)
  const stored = double.get('secrets', NAME, NS)
  t.equal(rv, stored.metadata.resourceVersion, 'the new resourceVersion')
  t.not(rv, previous.resourceVersion, 'a write happened')
  t.equal(stored.type, 'Opaque', 'type is immutable: kept, not a 422')
  t.same(stored.metadata.labels, { team: 'infra', 'app.kubernetes.io/managed-by': 'pullguard' })
  t.same(stored.metadata.annotations, { note: 'keep', 'pullguard.dev/ca-rotation-phase': 'stable' }, 'a stale since annotation dropped')
  t.same((await store.read())?.raw.data, { 'extra.txt': 'theirs', ...rawOf(c).data }, 'stale next CA dropped, foreign key kept')
})

t.test('replace: 409 when anyone wrote since the read, and nothing is overwritten', async (t) => {
  const { double, store } = await setup(t)
  await store.create(content('a'))
  const previous = await store.read()
  if (previous === undefined) throw new Error('expected the Secret')
  await store.replace(previous, content('b')) // another replica's write
  const between = double.get('secrets', NAME, NS)
  await t.rejects(store.replace(previous, content('c')), { code: 409 })
  t.same(double.get('secrets', NAME, NS), between, 'the other write stands')
  const fresh = await store.read()
  if (fresh === undefined) throw new Error('expected the Secret')
  await store.replace(fresh, content('c'))
  t.same((await store.read())?.raw, rawOf(content('c')), 'a re-read then writes')
})
