/**
 * The secret-distribution component (manifests/components/secret-distribution),
 * rendered the way a user adds it: with the base, and with the cert-manager
 * overlay's components. Checked: exactly what it adds (a ClusterRole for
 * secrets create/update/delete and nothing else, its binding, the Lease Role
 * by name and its binding, the one environment variable), that nothing else
 * changes, that the base stays read-only on Secrets, that every object is
 * valid, and that the settings and config it switches on are the ones
 * pullguard reads.
 */
import t, { type Test } from 'tap'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { loadConfig } from '../../src/config/compile.js'
import { DISTRIBUTION_LEASE } from '../../src/kube/secret-distributor.js'
import { readSettings } from '../../src/settings.js'
import { composedOverlay, describe, findKubectl, KUBECTL_MISSING, kustomize, one, validateObject, type KObject } from './k8s.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const MANIFESTS = join(ROOT, 'manifests')
const NS = 'pullguard'
const SUBJECTS = [{ kind: 'ServiceAccount', name: 'pullguard', namespace: NS }]

const key = (o: KObject): string => `${describe(o)}`
const container = (objects: KObject[]): KObject => (one(objects, 'Deployment', 'pullguard').spec.template.spec.containers as KObject[]).find((c) => c.name === 'pullguard') as KObject

/** Every rule of every Role and ClusterRole that grants a verb on secrets, as "Kind/name verb". */
function secretGrants (objects: KObject[]): string[] {
  return objects.filter((o) => o.kind === 'ClusterRole' || o.kind === 'Role').flatMap((role) =>
    (role.rules as KObject[]).filter((r) => (r.resources as string[]).includes('secrets'))
      .flatMap((r) => (r.verbs as string[]).map((v) => `${describe(role)} ${v}${r.resourceNames === undefined ? '' : ` (${(r.resourceNames as string[]).join(',')})`}`))).sort()
}

const kubectl = findKubectl()
if (kubectl === undefined) {
  t.fail(KUBECTL_MISSING)
} else {
  t.test('the secret-distribution component', (t) => run(t, kubectl))
}

async function run (t: Test, kubectl: string): Promise<void> {
  const tmp = await mkdtemp(join(tmpdir(), 'pullguard-distribution-'))
  t.teardown(() => rm(tmp, { recursive: true, force: true }))
  const base = await kustomize(kubectl, join(MANIFESTS, 'base'))
  const withDistribution = await kustomize(kubectl, await composedOverlay(MANIFESTS, tmp, 'base-distribution', ['secret-distribution']))
  const certManager = await kustomize(kubectl, join(MANIFESTS, 'overlays', 'cert-manager'))
  const certManagerWith = await kustomize(kubectl, await composedOverlay(MANIFESTS, tmp, 'cert-manager-distribution', ['tls-from-secret', 'cert-manager', 'secret-distribution']))

  t.test('it adds exactly four RBAC objects', async (t) => {
    const before = new Set(base.map(key))
    const added = withDistribution.filter((o) => !before.has(key(o)))
    t.same(added.map(key).sort(), [
      'ClusterRole/pullguard-secret-distribution',
      'ClusterRoleBinding/pullguard-secret-distribution',
      `Role/${NS}/pullguard-secret-distribution`,
      `RoleBinding/${NS}/pullguard-secret-distribution`,
    ])
    t.same(one(withDistribution, 'ClusterRole', 'pullguard-secret-distribution').rules, [
      { apiGroups: [''], resources: ['secrets'], verbs: ['create', 'update', 'delete'] },
    ], 'ClusterRole: create, update and delete secrets; no get/list/watch (the base has them), no patch, no deletecollection, no wildcard')
    t.same(one(withDistribution, 'Role', 'pullguard-secret-distribution').rules, [
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], resourceNames: [DISTRIBUTION_LEASE], verbs: ['get', 'update'] },
    ], `Role in ${NS}: create leases (cannot be limited by name), get and update only the Lease ${DISTRIBUTION_LEASE}`)
    for (const binding of [one(withDistribution, 'ClusterRoleBinding', 'pullguard-secret-distribution'), one(withDistribution, 'RoleBinding', 'pullguard-secret-distribution')]) {
      t.same(binding.subjects, SUBJECTS, `${describe(binding)}: pullguard's ServiceAccount only`)
      t.same(binding.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: binding.kind === 'RoleBinding' ? 'Role' : 'ClusterRole', name: 'pullguard-secret-distribution' })
    }
    for (const obj of added) {
      t.equal(obj.metadata.labels?.['app.kubernetes.io/name'], 'pullguard', `${describe(obj)} labelled`)
      t.same(await validateObject(obj), [], `${describe(obj)} validates`)
    }
  })

  t.test('what it grants on Secrets, against the base, which stays read-only', async (t) => {
    t.same(secretGrants(base), [
      'ClusterRole/pullguard get', 'ClusterRole/pullguard list', 'ClusterRole/pullguard watch',
      `Role/${NS}/pullguard-bootstrap create`, `Role/${NS}/pullguard-bootstrap get (pullguard-tls)`,
      `Role/${NS}/pullguard-bootstrap patch (pullguard-tls)`, `Role/${NS}/pullguard-bootstrap update (pullguard-tls)`,
    ], 'base: read cluster-wide; writes only to its bootstrap Secret in its own namespace')
    t.same(secretGrants(withDistribution).filter((g) => !secretGrants(base).includes(g)), [
      'ClusterRole/pullguard-secret-distribution create', 'ClusterRole/pullguard-secret-distribution delete', 'ClusterRole/pullguard-secret-distribution update',
    ], 'the component: create, update, delete cluster-wide, nothing more')
  })

  t.test('the Deployment gets PULLGUARD_DISTRIBUTE_SECRETS=true and nothing else changes', async (t) => {
    const env = container(withDistribution).env as KObject[]
    t.same(env.filter((e) => e.name === 'PULLGUARD_DISTRIBUTE_SECRETS'), [{ name: 'PULLGUARD_DISTRIBUTE_SECRETS', value: 'true' }])
    const strip = (objects: KObject[]): KObject[] => objects.map((o) => {
      if (o.kind !== 'Deployment') return o
      const copy = structuredClone(o)
      const c = (copy.spec.template.spec.containers as KObject[]).find((x) => x.name === 'pullguard') as KObject
      c.env = (c.env as KObject[]).filter((e) => e.name !== 'PULLGUARD_DISTRIBUTE_SECRETS')
      return copy
    })
    const added = new Set(['ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding'].map((k) => `${k}/pullguard-secret-distribution`))
    const untouched = (objects: KObject[]): KObject[] => strip(objects).filter((o) => !added.has(`${o.kind}/${o.metadata.name}`))
    t.same(untouched(withDistribution), base, 'base + component = base, but for the additions')
    t.same(untouched(certManagerWith), certManager, 'composes with the cert-manager overlay\'s components (which drop the container args)')
    t.same(await validateObject(one(withDistribution, 'Deployment', 'pullguard')), [], 'the Deployment validates')
  })

  t.test('the variable is the setting pullguard reads, and it needs the namespace the Deployment sets', async (t) => {
    const c = container(withDistribution)
    const env = Object.fromEntries((c.env as KObject[]).map((e) => [e.name, e.value ?? 'from the downward API']))
    const settings = readSettings(c.args ?? [], env, '/example.yaml')
    t.equal(settings.distributeSecrets, true)
    t.equal(readSettings(container(base).args ?? [], Object.fromEntries((container(base).env as KObject[]).map((e) => [e.name, e.value ?? 'x'])), '/x').distributeSecrets, false, 'off in the base')
    const text = 'registries: [{match: ghcr.io/acme, secrets: [{name: ghcr-acme, from: pullguard/ghcr-acme}], namespaces: [team-a]}]\n'
    t.doesNotThrow(() => loadConfig(text, { origin: 'x', selfNamespace: NS, distribution: settings.distributeSecrets }), 'with the component, a config with `from` loads')
    t.throws(() => loadConfig(text, { origin: 'x', selfNamespace: NS, distribution: false }), /secret distribution is off/, 'without it, it is refused')
  })
}
