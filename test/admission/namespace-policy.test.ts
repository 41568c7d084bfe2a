/**
 * Per-namespace policy from namespace labels (src/admission/namespace-policy.ts):
 * only namespace labels tune it (the platform team's), a bad value is
 * ignored with a warning, and without a cluster the config alone decides.
 */
import t from 'tap'
import { LABEL_ALWAYS_PULL, LABEL_DISCOVER, LABEL_INJECT, namespacePolicy } from '../../src/admission/namespace-policy.js'
import { Warnings } from '../../src/admission/warnings.js'
import { ClusterStore } from '../../src/cluster/store.js'
import { summarizeNamespace } from '../../src/cluster/summaries.js'
import { namespaceObject } from '../helpers/cluster.js'
import { testConfig } from '../helpers/fixtures.js'

const store = (labels: Record<string, string>): ClusterStore => {
  const s = new ClusterStore()
  s.setNamespace(summarizeNamespace(namespaceObject('team-a', labels)))
  return s
}

t.test('without a cluster: the config alwaysPull, inject on, discovery off, no labels', async (t) => {
  for (const alwaysPull of ['off', 'all', 'private'] as const) {
    const warnings = new Warnings()
    const p = namespacePolicy(testConfig({ alwaysPull, discoverSecrets: true }), undefined, 'team-a', warnings)
    t.same(p, { alwaysPull, inject: true, discover: false, labels: {} }, alwaysPull)
    t.same(warnings.list(), [])
  }
})

interface Row { name: string, labels: Record<string, string>, discoverSecrets?: boolean, expected: { alwaysPull: string, inject: boolean, discover: boolean }, warning?: RegExp }
const rows: Row[] = [
  { name: 'no labels: config defaults', labels: {}, expected: { alwaysPull: 'private', inject: true, discover: false } },
  { name: 'discoverSecrets from config', labels: {}, discoverSecrets: true, expected: { alwaysPull: 'private', inject: true, discover: true } },
  { name: 'always-pull all', labels: { [LABEL_ALWAYS_PULL]: 'all' }, expected: { alwaysPull: 'all', inject: true, discover: false } },
  { name: 'always-pull off', labels: { [LABEL_ALWAYS_PULL]: 'off' }, expected: { alwaysPull: 'off', inject: true, discover: false } },
  { name: 'inject false', labels: { [LABEL_INJECT]: 'false' }, expected: { alwaysPull: 'private', inject: false, discover: false } },
  { name: 'discover true', labels: { [LABEL_DISCOVER]: 'true' }, expected: { alwaysPull: 'private', inject: true, discover: true } },
  { name: 'discover false beats the config', labels: { [LABEL_DISCOVER]: 'false' }, discoverSecrets: true, expected: { alwaysPull: 'private', inject: true, discover: false } },
  { name: 'a bad always-pull value', labels: { [LABEL_ALWAYS_PULL]: 'sometimes' }, expected: { alwaysPull: 'private', inject: true, discover: false }, warning: /^pullguard: namespace label pullguard\.dev\/always-pull=sometimes is not one of off\|all\|private; ignored$/ },
  { name: 'a bad inject value (case matters)', labels: { [LABEL_INJECT]: 'False' }, expected: { alwaysPull: 'private', inject: true, discover: false }, warning: /inject=False is not one of true\|false/ },
  { name: 'a bad value is quoted 20 characters at most', labels: { [LABEL_DISCOVER]: 'y'.repeat(63) }, expected: { alwaysPull: 'private', inject: true, discover: false }, warning: new RegExp(`=${'y'.repeat(20)} is`) },
]

t.test('labels tune the namespace, bad values are ignored with a warning', async (t) => {
  for (const row of rows) {
    const warnings = new Warnings()
    const p = namespacePolicy(testConfig({ discoverSecrets: row.discoverSecrets ?? false }), store(row.labels), 'team-a', warnings)
    t.same({ alwaysPull: p.alwaysPull, inject: p.inject, discover: p.discover }, row.expected, row.name)
    t.equal(p.labels[LABEL_ALWAYS_PULL], row.labels[LABEL_ALWAYS_PULL], `${row.name}: the namespace's labels come along`)
    if (row.warning === undefined) t.same(warnings.list(), [], `${row.name}: no warning`)
    else {
      t.match(warnings.list(), [row.warning], `${row.name}: warned`)
      t.same(warnings.reasons(), ['bad-label'])
    }
  }
})

t.test('a namespace not in the cache yet: config defaults, with discovery as configured, and a warning', async (t) => {
  const warnings = new Warnings()
  const p = namespacePolicy(testConfig({ discoverSecrets: true }), store({}), 'team-new', warnings)
  t.same(p, { alwaysPull: 'private', inject: true, discover: true, labels: {} })
  t.same(warnings.list(), ['pullguard: namespace "team-new" not in cache yet; config defaults used'])
  t.same(warnings.reasons(), ['namespace-unknown'])
})

t.test('a label named like an Object.prototype key is not a policy label', async (t) => {
  const warnings = new Warnings()
  const p = namespacePolicy(testConfig(), store({ constructor: 'x', toString: 'y' }), 'team-a', warnings)
  t.equal(p.alwaysPull, 'private')
  t.same(warnings.list(), [])
})
