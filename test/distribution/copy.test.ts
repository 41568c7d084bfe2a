/**
 * A distributed copy as pullguard writes it and reads it back
 * (src/distribution/copy.ts): only a Secret with the managed-by label AND
 * the source annotation is pullguard's, data is hashed and dropped at once,
 * and a rewritten copy never carries kubectl's last-applied manifest.
 */
import t from 'tap'
import fc from 'fast-check'
import { COPIED_FROM_ANNOTATION, DATA_HASH_ANNOTATION, copyBody, dataHash, observeSecret } from '../../src/distribution/copy.js'
import { MANAGED_BY, MANAGED_BY_LABEL } from '../../src/cluster/managed-by.js'
import { appliedPullSecret, FAKE_PASSWORD, pullSecret } from '../helpers/cluster.js'

const DCJ = 'kubernetes.io/dockerconfigjson'

t.test('dataHash: equal for equal type and data, whatever the key order; different otherwise', async (t) => {
  t.equal(dataHash(DCJ, { a: 'x', b: 'y' }), dataHash(DCJ, { b: 'y', a: 'x' }))
  t.match(dataHash(DCJ, { a: 'x' }), /^sha256:[0-9a-f]{64}$/)
  const variants = [
    dataHash(DCJ, { a: 'x' }),
    dataHash('Opaque', { a: 'x' }),
    dataHash(DCJ, { a: 'y' }),
    dataHash(DCJ, { b: 'x' }),
    dataHash(DCJ, { a: 'x', b: '' }),
    dataHash(DCJ, {}),
    dataHash(DCJ, { 'a":"x': '' }), // key/value boundaries are JSON-quoted, so this is not { a: 'x' }
  ]
  t.equal(new Set(variants).size, variants.length)
  t.equal(dataHash(DCJ, null), dataHash(DCJ, undefined))
  t.equal(dataHash(DCJ, null), dataHash(DCJ, {}))
})

t.test('dataHash is injective on small data in practice (no two different maps collide)', async () => {
  const data = fc.dictionary(fc.string({ maxLength: 4 }), fc.string({ maxLength: 4 }), { maxKeys: 3 })
  fc.assert(fc.property(data, data, (a, b) => {
    const same = JSON.stringify(Object.entries(a).sort()) === JSON.stringify(Object.entries(b).sort())
    return (dataHash(DCJ, a) === dataHash(DCJ, b)) === same
  }))
})

t.test('observeSecret keeps names, versions, managed state and a hash; never the data', async (t) => {
  const secret = appliedPullSecret('team-a', 'ghcr', ['ghcr.io'], FAKE_PASSWORD, { [COPIED_FROM_ANNOTATION]: 'pullguard/ghcr', [DATA_HASH_ANNOTATION]: 'sha256:old' })
  secret.metadata.labels = { [MANAGED_BY_LABEL]: MANAGED_BY }
  secret.metadata.uid = 'u1'
  secret.metadata.resourceVersion = '7'
  const seen = observeSecret(secret)
  t.same(seen, {
    namespace: 'team-a',
    name: 'ghcr',
    uid: 'u1',
    resourceVersion: '7',
    type: DCJ,
    managed: true,
    copiedFrom: 'pullguard/ghcr',
    annotatedHash: 'sha256:old',
    hash: dataHash(DCJ, secret.data),
  })
  t.ok(Object.isFrozen(seen))
  const text = JSON.stringify(seen)
  t.notMatch(text, FAKE_PASSWORD)
  t.notMatch(text, secret.data['.dockerconfigjson'])
})

t.test('managed only with both the label and a source annotation', async (t) => {
  const rows: Array<[string, Record<string, string> | undefined, Record<string, string> | undefined, boolean]> = [
    ['label and source', { [MANAGED_BY_LABEL]: MANAGED_BY }, { [COPIED_FROM_ANNOTATION]: 'a/b' }, true],
    ['label only (the bootstrap Secret pullguard-tls)', { [MANAGED_BY_LABEL]: MANAGED_BY }, undefined, false],
    ['label and an empty source', { [MANAGED_BY_LABEL]: MANAGED_BY }, { [COPIED_FROM_ANNOTATION]: '' }, false],
    ['source only', undefined, { [COPIED_FROM_ANNOTATION]: 'a/b' }, false],
    ['another manager', { [MANAGED_BY_LABEL]: 'helm' }, { [COPIED_FROM_ANNOTATION]: 'a/b' }, false],
  ]
  for (const [name, labels, annotations, managed] of rows) {
    const s = pullSecret('team-a', 'x', ['ghcr.io'])
    s.metadata.labels = labels
    s.metadata.annotations = annotations
    t.equal(observeSecret(s).managed, managed, name)
  }
})

t.test('defaults for what the object omits: type Opaque, empty names', async (t) => {
  t.match(observeSecret({}), { namespace: '', name: '', uid: '', resourceVersion: '', type: 'Opaque', managed: false, copiedFrom: undefined, hash: dataHash('Opaque', {}) })
  t.equal(observeSecret({ type: '', data: 'nope' }).type, 'Opaque')
})

t.test('copyBody: the source\'s type and data, our label, source and hash annotations', async (t) => {
  const source = pullSecret('pullguard', 'ghcr', ['ghcr.io'])
  const body = copyBody({ namespace: 'team-a', name: 'ghcr-copy' }, 'pullguard/ghcr', source)
  t.same(body, {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: 'ghcr-copy',
      namespace: 'team-a',
      managedFields: undefined,
      labels: { [MANAGED_BY_LABEL]: MANAGED_BY },
      annotations: { [COPIED_FROM_ANNOTATION]: 'pullguard/ghcr', [DATA_HASH_ANNOTATION]: dataHash(DCJ, source.data) },
    },
    type: DCJ,
    data: source.data,
  })
  t.not(body.data, source.data, 'the data is copied, not shared')
  t.equal(observeSecret(body).managed, true, 'what it writes it reads back as its own')
  t.equal(observeSecret(body).hash, observeSecret(body).annotatedHash, 'and as current')
})

t.test('copyBody for an update keeps the resourceVersion and others\' labels and annotations, drops last-applied', async (t) => {
  const current = appliedPullSecret('team-a', 'ghcr-copy', ['ghcr.io'], 'old-password', { team: 'a', [DATA_HASH_ANNOTATION]: 'sha256:stale' })
  current.metadata.resourceVersion = '42'
  current.metadata.labels = { app: 'x', [MANAGED_BY_LABEL]: 'someone' }
  const body = copyBody({ namespace: 'team-a', name: 'ghcr-copy' }, 'pullguard/ghcr', { data: { k: 'v' } }, current)
  t.equal(body.metadata.resourceVersion, '42')
  t.equal(body.metadata.managedFields, undefined)
  t.same(body.metadata.labels, { app: 'x', [MANAGED_BY_LABEL]: MANAGED_BY })
  t.same(body.metadata.annotations, { team: 'a', [COPIED_FROM_ANNOTATION]: 'pullguard/ghcr', [DATA_HASH_ANNOTATION]: dataHash('Opaque', { k: 'v' }) })
  t.equal(body.type, 'Opaque')
  t.notMatch(JSON.stringify(body), 'old-password', 'the old credential in last-applied is not carried')
})
