/**
 * Secret distribution in a real pullguard process against the API server
 * double, wired as src/main.ts wires it (the informers' namespaces, the
 * config file, the real timers): copies appear, follow a rotation and a
 * relabelled namespace, /preview and /metrics say so, SIGTERM hands the
 * Lease back, and no log line carries the credential. Start-up refuses
 * distribution without cluster mode, and `from` without distribution.
 */
import { randomBytes } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import http from 'node:http'
import https from 'node:https'
import { join } from 'node:path'
import t from 'tap'
import { ApiServerDouble } from './helpers/api-server-double.js'
import { appliedPullSecret, namespaceObject } from './helpers/cluster.js'
import { serving, startPullguard } from './helpers/process.js'
import { waitFor } from './helpers/wait.js'

const CONFIG = `
registries:
  - match: ghcr.io/acme
    secrets: [{name: ghcr-acme, from: pullguard/ghcr-acme}]
    namespaces: [team-a]
    namespaceSelector: {matchLabels: {tenant: acme}}
`

function text (port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path }, (res) => {
      let body = ''
      res.on('data', (c: Buffer) => { body += c.toString() })
      res.on('end', () => resolve(body))
    }).on('error', reject)
  })
}

function preview (port: number, ca: string, namespace: string): Promise<any> {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port, path: `/preview?namespace=${namespace}`, method: 'POST', ca, servername: 'localhost', headers: { 'content-type': 'application/json' } }, (res) => {
      let body = ''
      res.on('data', (c: Buffer) => { body += c.toString() })
      res.on('end', () => resolve(JSON.parse(body)))
    })
    req.on('error', reject)
    req.end(JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'a', image: 'ghcr.io/acme/app:1', imagePullPolicy: 'Always' }] } }))
  })
}

t.test('copies kept by a running pullguard; SIGTERM releases the Lease; no credential in the logs', async (t) => {
  const password = `pw-${randomBytes(12).toString('hex')}`
  const api = new ApiServerDouble()
  await api.start()
  t.teardown(async () => { await api.stop() })
  for (const [name, labels] of [['pullguard', {}], ['team-a', {}], ['team-b', { tenant: 'acme' }], ['team-c', {}]] as const) api.create('namespaces', namespaceObject(name, labels))
  api.create('secrets', appliedPullSecret('pullguard', 'ghcr-acme', ['ghcr.io'], password), 'pullguard')
  const dir = t.testdir({ 'config.yaml': CONFIG })
  writeFileSync(join(dir, 'kubeconfig'), api.kubeConfig().exportConfig())
  const run = startPullguard({
    PULLGUARD_CLUSTER: 'auto', POD_NAMESPACE: 'pullguard', PULLGUARD_DISTRIBUTE_SECRETS: 'true', PULLGUARD_CONFIG: join(dir, 'config.yaml'), DEV_CERT_DIR: dir, LOG_LEVEL: 'debug',
  }, ['--kubeconfig', join(dir, 'kubeconfig')])
  t.teardown(() => { run.child.kill('SIGKILL') })
  const { port, healthPort } = await serving(run)
  const copy = (ns: string): any => api.list('secrets', ns).find((s) => s.metadata.name === 'ghcr-acme')
  await waitFor(() => copy('team-a') !== undefined && copy('team-b') !== undefined, 20_000, 'the copies')
  t.equal(copy('team-c'), undefined, 'none where the entry does not apply')
  t.same(copy('team-a').data, api.get('secrets', 'ghcr-acme', 'pullguard').data)

  const rotated = appliedPullSecret('pullguard', 'ghcr-acme', ['ghcr.io'], `pw-${randomBytes(12).toString('hex')}`)
  api.update('secrets', { ...rotated, metadata: { ...rotated.metadata } }, 'pullguard')
  await waitFor(() => copy('team-b')?.data['.dockerconfigjson'] === rotated.data['.dockerconfigjson'], 20_000, 'the rotation copied')
  const ns = api.get('namespaces', 'team-c')
  api.update('namespaces', { ...ns, metadata: { ...ns.metadata, labels: { ...ns.metadata.labels, tenant: 'acme' } } })
  await waitFor(() => copy('team-c') !== undefined, 20_000, 'team-c relabelled into scope')

  const ca = (await import('node:fs')).readFileSync(join(dir, 'ca.crt'), 'utf8')
  const answer = await preview(port, ca, 'team-c')
  t.same(answer.images[0].secrets[0].copy, { from: 'pullguard/ghcr-acme', state: 'current', exists: true }, '/preview: a distributed copy, and it exists')
  // The gauges are the leader's last plan: the round after the writes sees them current.
  const metrics = await waitFor(async () => {
    const body = await text(healthPort, '/metrics')
    return /pullguard_distribution_copies\{state="current"\} 3/.test(body) ? body : undefined
  }, 20_000, 'the copies counted current')
  t.match(metrics, /pullguard_distribution_leader 1/)
  t.match(metrics, /pullguard_distribution_writes_total\{operation="create"\} 3/)

  run.child.kill('SIGTERM')
  t.equal(await run.exited, 0)
  t.match(api.get('leases', 'pullguard-secret-distribution', 'pullguard').spec, { holderIdentity: '', leaseDurationSeconds: 1 }, 'the Lease is handed back on SIGTERM')
  const logs = run.lines.join('\n')
  t.match(logs, /Secret copy created/)
  t.match(logs, /Secret copy updated/)
  for (const secret of [password, rotated.data['.dockerconfigjson'].slice(0, 40), Buffer.from(`robot:${password}`).toString('base64'), 'sha256:', 'double-token']) {
    t.notOk(logs.includes(secret) || run.stderr.join('').includes(secret), `no ${secret.startsWith('pw-') ? 'password' : secret.slice(0, 8)}… in any log line`)
  }
})

t.test('start-up refuses distribution without cluster mode, and `from` without distribution', async (t) => {
  const dir = t.testdir({ 'config.yaml': CONFIG })
  const local = startPullguard({ POD_NAMESPACE: 'pullguard', PULLGUARD_DISTRIBUTE_SECRETS: 'true', PULLGUARD_CONFIG: join(dir, 'config.yaml'), DEV_CERT_DIR: dir })
  t.equal(await local.exited, 1)
  t.match(local.stderr.join(''), /^pullguard: PULLGUARD_DISTRIBUTE_SECRETS=true needs cluster mode/)
  const off = startPullguard({ POD_NAMESPACE: 'pullguard', PULLGUARD_CONFIG: join(dir, 'config.yaml'), DEV_CERT_DIR: dir })
  t.equal(await off.exited, 1)
  t.match(off.stderr.join(''), /registries\[0\]\.secrets\[0\]\.from: secret distribution is off: it needs cluster mode and PULLGUARD_DISTRIBUTE_SECRETS=true/)
})
