/**
 * The pure half of secret distribution: what is kept of a Secret, the copy
 * written, each copy's state, and what the leader must write, table-driven
 * over a view made of plain data.
 */
import t from 'tap'
import type { NamespaceInfo } from '../../src/cluster/types.js'
import {
  COPIED_FROM_ANNOTATION, DATA_HASH_ANNOTATION, copyBody, dataHash, observeSecret, type ObservedSecret,
} from '../../src/distribution/copy.js'
import { MANAGED_BY_LABEL } from '../../src/cluster/managed-by.js'
import type { DistributionView, Observation } from '../../src/distribution/observation.js'
import { copyStatus, planDistribution } from '../../src/distribution/plan.js'
import { configFrom } from '../helpers/fixtures.js'

const PULL = 'kubernetes.io/dockerconfigjson'
const DATA = { '.dockerconfigjson': Buffer.from('{"auths":{"ghcr.io":{"auth":"c2VjcmV0"}}}').toString('base64') }
const SOURCE = 'pullguard/ghcr-acme'

function secret (namespace: string, name: string, opts: { type?: string, data?: Record<string, string>, copy?: boolean, hash?: string, from?: string } = {}): ObservedSecret {
  const type = opts.type ?? PULL
  const data = opts.data ?? DATA
  return observeSecret({
    metadata: {
      namespace,
      name,
      uid: `uid-${namespace}`,
      resourceVersion: '7',
      ...(opts.copy === true
        ? { labels: { [MANAGED_BY_LABEL]: 'pullguard' }, annotations: { [COPIED_FROM_ANNOTATION]: opts.from ?? SOURCE, [DATA_HASH_ANNOTATION]: opts.hash ?? dataHash(type, data) } }
        : {}),
    },
    type,
    data,
  })
}

/** A view over a list of Secrets; `unknown` namespaces are not listed yet. */
function view (secrets: readonly ObservedSecret[], unknown: readonly string[] = []): DistributionView {
  return {
    observe: (namespace, name): Observation => {
      if (unknown.includes(namespace)) return 'unknown'
      return secrets.find((s) => s.namespace === namespace && s.name === name) ?? 'absent'
    },
  }
}

const CONFIG = configFrom(`
registries:
  - match: ghcr.io/acme
    secrets: [{name: ghcr-acme, from: ${SOURCE}}]
    namespaces: [team-a, team-b, team-c]
`, 'pullguard')
const ns = (name: string, labels: Record<string, string> = {}): NamespaceInfo => ({ name, labels })

t.test('observeSecret keeps names, versions, ownership and a hash; never the data', async (t) => {
  const raw = {
    metadata: { namespace: 'team-a', name: 'x', uid: 'u', resourceVersion: '3', labels: { [MANAGED_BY_LABEL]: 'pullguard' }, annotations: { [COPIED_FROM_ANNOTATION]: SOURCE, 'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify({ data: DATA }) } },
    type: PULL,
    data: DATA,
  }
  const seen = observeSecret(raw)
  t.same(Object.keys(seen).sort(), ['annotatedHash', 'copiedFrom', 'hash', 'managed', 'name', 'namespace', 'resourceVersion', 'type', 'uid'])
  t.match(seen, { namespace: 'team-a', name: 'x', uid: 'u', resourceVersion: '3', type: PULL, managed: true, copiedFrom: SOURCE, annotatedHash: undefined })
  t.notOk(JSON.stringify(seen).includes(DATA['.dockerconfigjson']), 'no data, not even through an annotation')
  t.equal(observeSecret({ metadata: { labels: { [MANAGED_BY_LABEL]: 'pullguard' } } }).managed, false, 'the label alone is not a copy (the bootstrap Secret)')
  t.equal(observeSecret({ metadata: { annotations: { [COPIED_FROM_ANNOTATION]: SOURCE } } }).managed, false, 'nor the annotation alone')
  t.equal(observeSecret({}).type, 'Opaque', 'the API server\'s default type')
})

t.test('dataHash: equal for equal contents, whoever wrote them', async (t) => {
  t.equal(dataHash(PULL, { a: 'eA==', b: 'eQ==' }), dataHash(PULL, { b: 'eQ==', a: 'eA==' }), 'key order does not matter')
  t.not(dataHash(PULL, { a: 'eA==' }), dataHash('kubernetes.io/dockercfg', { a: 'eA==' }), 'the type counts')
  t.not(dataHash(PULL, { a: 'eA==' }), dataHash(PULL, { a: 'eQ==' }), 'values count')
  t.not(dataHash(PULL, { ab: 'c' }), dataHash(PULL, { a: 'bc' }), 'keys and values do not run together')
  t.match(dataHash(PULL, {}), /^sha256:[0-9a-f]{64}$/)
})

t.test('copyBody: the source\'s type and data, our label and annotations, others\' kept, kubectl\'s copy of old data dropped', async (t) => {
  const created = copyBody({ namespace: 'team-a', name: 'ghcr-acme' }, SOURCE, { type: PULL, data: DATA })
  t.same(created, {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: 'ghcr-acme',
      namespace: 'team-a',
      managedFields: undefined,
      labels: { [MANAGED_BY_LABEL]: 'pullguard' },
      annotations: { [COPIED_FROM_ANNOTATION]: SOURCE, [DATA_HASH_ANNOTATION]: dataHash(PULL, DATA) },
    },
    type: PULL,
    data: DATA,
  })
  const updated = copyBody({ namespace: 'team-a', name: 'ghcr-acme' }, SOURCE, { type: PULL, data: DATA }, {
    metadata: { resourceVersion: '9', uid: 'u', labels: { team: 'a' }, annotations: { note: 'x', 'kubectl.kubernetes.io/last-applied-configuration': '{"data":"old"}' } },
  })
  t.match(updated.metadata, { resourceVersion: '9', uid: 'u', labels: { team: 'a', [MANAGED_BY_LABEL]: 'pullguard' }, annotations: { note: 'x' } })
  t.notOk('kubectl.kubernetes.io/last-applied-configuration' in updated.metadata.annotations)
})

t.test('copyStatus, one state per case', async (t) => {
  const src = secret('pullguard', 'ghcr-acme')
  const cases: Array<[string, ObservedSecret[], string[], string | undefined, boolean]> = [
    ['no copy yet', [src], [], 'pending', false],
    ['a current copy', [src, secret('team-a', 'ghcr-acme', { copy: true })], [], 'current', true],
    ['a copy of other data', [src, secret('team-a', 'ghcr-acme', { copy: true, data: { '.dockerconfigjson': 'e30=' } })], [], 'outdated', true],
    ['a copy whose hash annotation was edited', [src, secret('team-a', 'ghcr-acme', { copy: true, hash: 'sha256:0' })], [], 'outdated', true],
    ['a copy of another source', [src, secret('team-a', 'ghcr-acme', { copy: true, from: 'pullguard/other' })], [], 'outdated', true],
    ['someone else\'s Secret of that name', [src, secret('team-a', 'ghcr-acme')], [], 'unmanaged', false],
    ['the source missing, no copy', [], [], 'source-missing', false],
    ['the source missing, a copy kept', [secret('team-a', 'ghcr-acme', { copy: true })], [], 'source-missing', true],
    ['the source not a pull Secret', [secret('pullguard', 'ghcr-acme', { type: 'Opaque' })], [], 'source-invalid', false],
    ['the copy\'s namespace not listed yet', [src], ['team-a'], 'unknown', false],
    ['the source not listed yet', [], ['pullguard'], 'unknown', false],
  ]
  for (const [why, secrets, unknown, state, exists] of cases) {
    t.same(copyStatus(CONFIG.distribution, view(secrets, unknown), 'team-a', {}, 'ghcr-acme'), { from: SOURCE, entry: 0, state, exists }, why)
  }
  t.equal(copyStatus(CONFIG.distribution, view([src]), 'team-z', {}, 'ghcr-acme'), undefined, 'not distributed into this namespace')
  t.equal(copyStatus(CONFIG.distribution, view([src]), 'team-a', {}, 'other'), undefined, 'not a distributed name')
})

t.test('planDistribution: create, update, retype, delete; never an unmanaged Secret; nothing on what is not listed', async (t) => {
  const src = secret('pullguard', 'ghcr-acme')
  const secrets = [
    src,
    secret('team-b', 'ghcr-acme', { copy: true, data: { '.dockerconfigjson': 'e30=' } }),
    secret('team-c', 'ghcr-acme'),
    secret('team-x', 'ghcr-acme', { copy: true }),
    secret('team-y', 'ghcr-acme', { copy: true, type: 'kubernetes.io/dockercfg' }),
  ]
  const managed = secrets.filter((s) => s.managed)
  const plan = planDistribution(CONFIG.distribution, ['team-a', 'team-b', 'team-c', 'team-x', 'pullguard'].map((n) => ns(n)), view(secrets), managed)
  t.same(plan.actions.map((a) => `${a.kind} ${a.namespace}${a.kind === 'delete' ? ` (${a.why})` : ''}`), [
    'create team-a', 'update team-b', 'delete team-x (not-wanted)', 'delete team-y (not-wanted)',
  ], 'team-c is someone else\'s: left alone; team-x and team-y are not in scope')
  t.match(plan.copies, { pending: 1, outdated: 1, unmanaged: 1, current: 0 })
  t.same(plan.problems.map((p) => p.key), ['unmanaged team-c/ghcr-acme'])

  const retyped = planDistribution(CONFIG.distribution, [ns('team-a')], view([src, secret('team-a', 'ghcr-acme', { copy: true, type: 'kubernetes.io/dockercfg' })]), [])
  t.same(retyped.actions.map((a) => `${a.kind} ${a.kind === 'delete' ? a.why : ''}`), ['delete type-changed'], 'another type: deleted, to be created again (type is immutable)')

  const unknown = planDistribution(CONFIG.distribution, [ns('team-a')], view([src], ['team-a']), [])
  t.same(unknown.actions, [], 'a namespace the watches have not listed: nothing')
  t.match(unknown.copies, { unknown: 1 })
})

t.test('planDistribution: a missing source keeps its copies unless onSourceDeleted: delete; a source is never deleted', async (t) => {
  const copies = [secret('team-a', 'ghcr-acme', { copy: true }), secret('team-b', 'ghcr-acme', { copy: true })]
  const keep = planDistribution(CONFIG.distribution, [ns('team-a'), ns('team-b')], view(copies), copies)
  t.same(keep.actions, [], 'keep')
  t.same(keep.sourceProblems, [{ entry: 0, problem: 'missing' }])
  t.same(keep.problems.map((p) => p.key), ['source-missing registries[0].secrets[0]'], 'reported once for the entry, not per namespace')
  const config = configFrom(`
registries:
  - match: ghcr.io/acme
    secrets: [{name: ghcr-acme, from: ${SOURCE}}]
    namespaces: [team-a, team-b]
onSourceDeleted: delete
`, 'pullguard')
  const del = planDistribution(config.distribution, [ns('team-a'), ns('team-b')], view(copies), copies)
  t.same(del.actions.map((a) => a.kind === 'delete' ? `${a.namespace} ${a.why}` : a.kind), ['team-a source-deleted', 'team-b source-deleted'])

  // A source that is itself a managed copy (chained through team-a) is never deleted as unwanted.
  const chained = configFrom(`
registries:
  - match: ghcr.io/acme
    secrets: [{name: second, from: team-a/ghcr-acme}]
    namespaces: [team-b]
`, 'pullguard')
  const source = secret('team-a', 'ghcr-acme', { copy: true })
  const plan = planDistribution(chained.distribution, [ns('team-a'), ns('team-b')], view([source]), [source])
  t.same(plan.actions.map((a) => `${a.kind} ${a.namespace}/${a.name}`), ['create team-b/second'])
})

t.test('planDistribution: two sources under one name in a namespace: no action there, both entries reported', async (t) => {
  const config = configFrom(`
registries:
  - match: ghcr.io/a
    secrets: [{name: pull, from: creds/a}]
    namespaces: ["team-[ab]"]
  - match: ghcr.io/b
    secrets: [{name: pull, from: creds/b}]
    namespaceSelector: {matchLabels: {tenant: b}}
`, 'pullguard')
  const secrets = [secret('creds', 'a'), secret('creds', 'b'), secret('team-b', 'pull', { copy: true, from: 'creds/a' })]
  const plan = planDistribution(config.distribution, [ns('team-a'), ns('team-b', { tenant: 'b' }), ns('team-c', { tenant: 'b' })], view(secrets), secrets.filter((s) => s.managed))
  t.same(plan.actions.map((a) => `${a.kind} ${a.namespace} ${a.kind === 'delete' ? '' : `${a.from.namespace}/${a.from.name}`}`), ['create team-a creds/a', 'create team-c creds/b'], 'team-b: left as it is')
  t.same(plan.problems.map((p) => [p.key, p.entries]), [['source-conflict team-b/pull', ['registries[0].secrets[0] (creds/a)', 'registries[1].secrets[0] (creds/b)']]])
  t.match(plan.copies, { 'source-conflict': 1, pending: 2 })
})
