/**
 * `pullguard preview --kubeconfig`: the decision with a read-only snapshot of
 * a cluster (the API server double), LIST calls only.
 */
import t, { type Test } from 'tap'
import { writeFileSync } from 'node:fs'
import { ApiServerDouble } from '../helpers/api-server-double.js'
import { pullguard } from '../helpers/cli.js'
import { FAKE_PASSWORD, namespaceObject, pullSecret, serviceAccount } from '../helpers/cluster.js'

const CONFIG = ['--config', 'test/fixtures/config.yaml']

function oneLine (t: Test, stderr: string, pattern: RegExp): void {
  t.match(stderr, pattern)
  t.equal(stderr.split('\n').filter(Boolean).length, 1, 'one line on stderr')
  t.notMatch(stderr, /\n\s+at /, 'no stack trace')
}

t.test('--kubeconfig: a LIST-only snapshot of the cluster', async (t) => {
  const api = new ApiServerDouble()
  await api.start()
  t.teardown(async () => { await api.stop() })
  api.create('namespaces', namespaceObject('team-a', { 'pullguard.dev/discover-secrets': 'true' }))
  api.create('namespaces', namespaceObject('kube-system'))
  api.create('namespaces', namespaceObject('team-z'))
  api.create('secrets', pullSecret('team-a', 'ghcr-acme', ['ghcr.io']), 'team-a')
  api.create('secrets', pullSecret('team-a', 'quay-creds', ['quay.io']), 'team-a')
  api.create('secrets', pullSecret('team-z', 'z-docker', ['docker.io'], 'kubernetes.io/dockercfg'), 'team-z')
  api.create('secrets', { apiVersion: 'v1', kind: 'Secret', metadata: { namespace: 'team-a', name: 'opaque' }, type: 'Opaque', data: { password: Buffer.from(FAKE_PASSWORD).toString('base64') } }, 'team-a')
  // The Deployment's ServiceAccount only lets its pods mount ghcr-acme.
  api.create('serviceaccounts', serviceAccount('team-a', 'web', ['ghcr-acme'], true), 'team-a')
  const dir = t.testdir()
  writeFileSync(`${dir}/kubeconfig`, api.kubeConfig().exportConfig())
  const before = api.requests.length

  const r = await pullguard(['preview', '-f', 'test/fixtures/preview/app.yaml', '-f', 'test/fixtures/preview/jobs/batch.yml', ...CONFIG, '--kubeconfig', `${dir}/kubeconfig`])
  t.equal(r.code, 0, r.stderr)
  t.equal(r.stderr, '')
  t.match(r.stdout, `cluster: snapshot of ${api.url}: 3 namespaces, 3 pull Secrets, 1 ServiceAccounts`)
  t.match(r.stdout, /^ {2}proxy +\S+ +myreg\.azurecr\.io +acr-pull \(registries\[1\] \*\.azurecr\.io; not added: not-mountable\)/m, 'the ServiceAccount does not list acr-pull')
  t.match(r.stdout, '  warning: pullguard: pull secret "acr-pull" not added: service account "web" does not list it')
  t.match(r.stdout, '  warning: pullguard: pull secret "dockerhub-pull" does not exist in "team-a" yet; added: the kubelet uses it once it exists')
  t.match(r.stdout, /^ {2}backfill +quay\.io\/acme\/backfill:1\.0 +quay\.io +\+quay-creds \(discovered\)/m, 'discovery in team-a (namespace label)')
  t.notMatch(r.stdout + r.stderr, FAKE_PASSWORD, 'no credential material')

  const calls = api.requests.slice(before)
  t.ok(calls.length > 0)
  t.same([...new Set(calls.map((c) => c.verb))], ['list'], 'LIST only: no watch, get or write')
  t.same(calls.filter((c) => c.resource === 'secrets').map((c) => c.query.fieldSelector).sort(), ['type=kubernetes.io/dockercfg', 'type=kubernetes.io/dockerconfigjson'])
  t.same(calls.filter((c) => c.resource === 'serviceaccounts').map((c) => c.namespace), ['kube-system', 'team-a'], 'ServiceAccounts of the previewed namespaces only')

  const json = await pullguard(['preview', '-f', 'test/fixtures/pod.yaml', ...CONFIG, '--kubeconfig', `${dir}/kubeconfig`, '-o', 'json'])
  t.match(JSON.parse(json.stdout).cluster, { evaluated: true, server: api.url })

  api.deny('secrets', 'list')
  const denied = await pullguard(['preview', '-f', 'test/fixtures/pod.yaml', ...CONFIG, '--kubeconfig', `${dir}/kubeconfig`])
  t.equal(denied.code, 2)
  oneLine(t, denied.stderr, /^pullguard: cannot list secrets of type kubernetes\.io\/dockerconfigjson: 403 Forbidden: secrets is forbidden: User "[^"]+" cannot list resource "secrets"/)
  t.equal(denied.stdout, '')

  await api.stop()
  const down = await pullguard(['preview', '-f', 'test/fixtures/pod.yaml', ...CONFIG, '--kubeconfig', `${dir}/kubeconfig`])
  t.equal(down.code, 2)
  oneLine(t, down.stderr, /^pullguard: cannot list namespaces: .*ECONNREFUSED/)
  t.notMatch(down.stderr, /double-token/, 'the bearer token is never printed')
})
