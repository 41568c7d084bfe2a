/**
 * Namespace and ServiceAccount objects reduced to what pullguard keeps
 * (src/cluster/summaries.ts): frozen, with defaults for what a real object
 * may omit.
 */
import t from 'tap'
import { summarizeNamespace, summarizeServiceAccount } from '../../src/cluster/summaries.js'
import { namespaceObject, serviceAccount } from '../helpers/cluster.js'

t.test('a namespace: its name and a frozen copy of its labels', async (t) => {
  const ns = namespaceObject('team-a', { tenant: 'acme' })
  const info = summarizeNamespace(ns)
  t.same(info, { name: 'team-a', labels: { 'kubernetes.io/metadata.name': 'team-a', tenant: 'acme' } })
  t.ok(Object.isFrozen(info) && Object.isFrozen(info.labels))
  ns.metadata.labels.tenant = 'changed'
  t.equal(info.labels.tenant, 'acme', 'a copy, not the object\'s own labels')
})

t.test('a namespace without metadata or labels', async (t) => {
  t.same(summarizeNamespace({}), { name: '', labels: {} })
  t.same(summarizeNamespace({ metadata: { name: 'x', labels: null } }), { name: 'x', labels: {} })
})

t.test('a ServiceAccount: pull Secret names and whether it enforces mountable secrets', async (t) => {
  const rows: Array<[string, Parameters<typeof summarizeServiceAccount>[0], { imagePullSecrets: string[], enforceMountableSecrets: boolean }]> = [
    ['plain', serviceAccount('team-a', 'default', ['a', 'b']), { imagePullSecrets: ['a', 'b'], enforceMountableSecrets: false }],
    ['enforcing', serviceAccount('team-a', 'default', ['a'], true), { imagePullSecrets: ['a'], enforceMountableSecrets: true }],
    ['annotation not "true"', { metadata: { annotations: { 'kubernetes.io/enforce-mountable-secrets': 'True' } } }, { imagePullSecrets: [], enforceMountableSecrets: false }],
    ['empty and nameless refs dropped', { imagePullSecrets: [{ name: '' }, {}, { name: 'c' }] }, { imagePullSecrets: ['c'], enforceMountableSecrets: false }],
    ['imagePullSecrets null', { imagePullSecrets: null, metadata: { annotations: null } }, { imagePullSecrets: [], enforceMountableSecrets: false }],
  ]
  for (const [name, sa, expected] of rows) t.match(summarizeServiceAccount(sa), expected, name)
  const info = summarizeServiceAccount(serviceAccount('team-a', 'builder', ['a']))
  t.equal(info.namespace, 'team-a')
  t.equal(info.name, 'builder')
  t.ok(Object.isFrozen(info) && Object.isFrozen(info.imagePullSecrets))
  t.same(summarizeServiceAccount({}), { namespace: '', name: '', imagePullSecrets: [], enforceMountableSecrets: false })
})
