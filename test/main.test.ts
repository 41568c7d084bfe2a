/**
 * The entry point as a real process: settings from the environment, files,
 * listening, readiness, cluster mode and SIGTERM.
 */
import t from 'tap'
import { X509Certificate } from 'node:crypto'
import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import https from 'node:https'
import http from 'node:http'
import { fileURLToPath } from 'node:url'
import { ApiServerDouble } from './helpers/api-server-double.js'
import { namespaceObject, pullSecret } from './helpers/cluster.js'
import { fixture } from './helpers/fixtures.js'
import { waitFor } from './helpers/wait.js'

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url))

interface Running {
  child: ChildProcess
  lines: string[]
  stderr: string[]
  exited: Promise<number | null>
}

function start (env: Record<string, string>, args: string[] = []): Running {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
    env: { PATH: process.env.PATH ?? '', PORT: '0', HEALTH_PORT: '0', HOST: '127.0.0.1', DRAIN_SECONDS: '0.2', PULLGUARD_CLUSTER: 'off', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const lines: string[] = []
  const stderr: string[] = []
  child.stdout?.on('data', (chunk: Buffer) => lines.push(...chunk.toString().split('\n').filter(Boolean)))
  child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk.toString()))
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  return { child, lines, stderr, exited }
}

async function serving (run: Running): Promise<{ port: number, healthPort: number }> {
  const line = await waitFor(() => run.lines.find((l) => l.includes('pullguard is serving')), 30_000, 'pullguard to serve')
  return JSON.parse(line) as { port: number, healthPort: number }
}

function get (port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path }, (res) => { res.resume(); resolve(res.statusCode ?? 0) }).on('error', reject)
  })
}

function mutate (port: number, ca: string): Promise<{ status: number, body: any }> {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port, path: '/mutate', method: 'POST', ca, servername: 'localhost', headers: { 'content-type': 'application/json' } }, (res) => {
      let text = ''
      res.on('data', (c: Buffer) => { text += c.toString() })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }))
    })
    req.on('error', reject)
    req.end(JSON.stringify(fixture('review-create.json')))
  })
}

t.test('local mode: dev certificates, the example config, health, SIGTERM', async (t) => {
  const dir = t.testdir()
  const run = start({ DEV_CERT_DIR: dir })
  t.teardown(() => { run.child.kill('SIGKILL') })
  const { port, healthPort } = await serving(run)
  t.equal(await get(healthPort, '/readyz'), 200)
  const res = await mutate(port, readFileSync(`${dir}/ca.crt`, 'utf8'))
  t.equal(res.status, 200)
  t.equal(res.body.response.patchType, 'JSONPatch')
  // What an SRE reads off /metrics: which version, and when the certificates expire.
  const exposition = await new Promise<string>((resolve, reject) => {
    http.get({ host: '127.0.0.1', port: healthPort, path: '/metrics' }, (r) => {
      let text = ''
      r.on('data', (c: Buffer) => { text += c.toString() })
      r.on('end', () => resolve(text))
    }).on('error', reject)
  })
  const version = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version
  t.match(exposition, `pullguard_build_info{version="${version}",node="${process.version}"} 1`)
  const expiry = (kind: string): number => Number(new RegExp(`pullguard_certificate_expiry_timestamp_seconds\\{certificate="${kind}"\\} (\\S+)`).exec(exposition)?.[1])
  t.equal(expiry('serving'), Date.parse(new X509Certificate(readFileSync(`${dir}/tls.crt`)).validTo) / 1000, 'serving notAfter')
  t.equal(expiry('ca'), Date.parse(new X509Certificate(readFileSync(`${dir}/ca.crt`)).validTo) / 1000, 'CA notAfter')
  run.child.kill('SIGTERM')
  t.equal(await run.exited, 0, 'exits 0 after draining')
  t.ok(run.lines.some((l) => l.includes('"msg":"stopped"')))
})

// LOG_REVIEW_LEVEL reaches the route: the real process writes one review
// line at info by default, at debug only when LOG_LEVEL lets it through, and
// none when silent.
const reviewLines: Array<[string, Record<string, string>, number]> = [
  ['default: info', {}, 1],
  ['debug, LOG_LEVEL info: dropped', { LOG_REVIEW_LEVEL: 'debug' }, 0],
  ['debug, LOG_LEVEL debug: written', { LOG_REVIEW_LEVEL: 'debug', LOG_LEVEL: 'debug' }, 1],
  ['silent', { LOG_REVIEW_LEVEL: 'silent' }, 0],
]
for (const [name, env, want] of reviewLines) {
  t.test(`review line: ${name}`, async (t) => {
    const dir = t.testdir()
    const run = start({ DEV_CERT_DIR: dir, ...env })
    t.teardown(() => { run.child.kill('SIGKILL') })
    const { port } = await serving(run)
    t.equal((await mutate(port, readFileSync(`${dir}/ca.crt`, 'utf8'))).status, 200)
    run.child.kill('SIGTERM')
    await run.exited
    t.equal(run.lines.filter((l) => l.includes('"msg":"admission review"')).length, want)
  })
}

t.test('a bad config stops start-up with the field named', async (t) => {
  const dir = t.testdir({ 'config.yaml': 'alwaysPull: sometimes\n' })
  const run = start({ PULLGUARD_CONFIG: `${dir}/config.yaml`, DEV_CERT_DIR: dir })
  t.equal(await run.exited, 1)
  t.match(run.stderr.join(''), /pullguard: invalid config .*config\.yaml:\n {2}- alwaysPull: "sometimes" is not one of off, all, private/)
})

t.test('bad settings stop start-up with one line', async (t) => {
  const run = start({ PORT: 'https' })
  t.equal(await run.exited, 1)
  t.match(run.stderr.join(''), /^pullguard: PORT="https" is not a TCP port/)
})

// Every setting is checked in settings.ts before anything starts: the line names the variable and the rule.
const badStarts: Array<[string, Record<string, string>, string[], RegExp]> = [
  ['BOOTSTRAP_SERVICE', { POD_NAMESPACE: 'pullguard', BOOTSTRAP_SERVICE: 'Bad_Name' }, ['--bootstrap-certs'],
    /^pullguard: BOOTSTRAP_SERVICE="Bad_Name" is not valid: a Service name must be 1-63 lowercase letters, digits or '-', start with a letter and end with a letter or digit \(RFC 1035 label\)\n$/],
  ['BOOTSTRAP_SECRET', { POD_NAMESPACE: 'pullguard', BOOTSTRAP_SECRET: 'Pullguard-TLS' }, ['--bootstrap-certs'], /^pullguard: BOOTSTRAP_SECRET="Pullguard-TLS" is not valid: .*RFC 1123 subdomain/],
  ['WEBHOOK_CONFIG_NAME', { POD_NAMESPACE: 'pullguard', WEBHOOK_CONFIG_NAME: '-x' }, ['--bootstrap-certs'], /^pullguard: WEBHOOK_CONFIG_NAME="-x" is not valid/],
  ['PULLGUARD_CLUSTER', { PULLGUARD_CLUSTER: 'yes' }, [], /^pullguard: PULLGUARD_CLUSTER="yes" is not one of auto, off/],
]
for (const [variable, env, args, message] of badStarts) {
  t.test(`a bad ${variable} stops start-up with one line naming it`, async (t) => {
    const run = start(env, args)
    t.equal(await run.exited, 1)
    t.match(run.stderr.join(''), message)
    t.notMatch(run.stderr.join(''), /unexpected error/)
    const fatal = run.lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((r) => r.level === 60)
    t.match(fatal, { code: 'PG_CONFIG_INVALID' })
  })
}

t.test('--bootstrap-certs without a cluster stops start-up with one line', async (t) => {
  const run = start({ POD_NAMESPACE: 'pullguard' }, ['--bootstrap-certs'])
  t.equal(await run.exited, 1)
  t.match(run.stderr.join(''), /^pullguard: --bootstrap-certs needs cluster mode/)
})

t.test('cluster mode with --bootstrap-certs against the API server double', async (t) => {
  const api = new ApiServerDouble()
  await api.start()
  t.teardown(async () => { await api.stop() })
  api.create('namespaces', namespaceObject('team-a'))
  api.create('namespaces', namespaceObject('pullguard'))
  api.create('secrets', pullSecret('team-a', 'ghcr-acme', ['ghcr.io']), 'team-a')
  api.create('mutatingwebhookconfigurations', {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'MutatingWebhookConfiguration',
    metadata: { name: 'pullguard' },
    webhooks: [{ name: 'pods.pullguard.dev', admissionReviewVersions: ['v1'], sideEffects: 'None', clientConfig: { service: { namespace: 'pullguard', name: 'pullguard', path: '/mutate' } } }],
  })
  const dir = t.testdir()
  writeFileSync(`${dir}/kubeconfig`, api.kubeConfig().exportConfig())
  const run = start({ PULLGUARD_CLUSTER: 'auto', POD_NAMESPACE: 'pullguard' }, ['--kubeconfig', `${dir}/kubeconfig`, '--bootstrap-certs'])
  t.teardown(() => { run.child.kill('SIGKILL') })
  const { port, healthPort } = await serving(run)
  await waitFor(async () => (await get(healthPort, '/readyz')) === 200, 20_000, 'readiness after the informers sync')

  // The elected replica (the only one here) writes the private-image patterns once the informers synced.
  const patterns = (): string | undefined => api.list('configmaps', 'pullguard').find((cm) => cm.metadata.name === 'pullguard-private-images')?.data?.private
  await waitFor(() => /ghcr/i.test(patterns() ?? ''), 20_000, 'the private-image patterns ConfigMap')
  t.match(api.get('leases', 'pullguard-private-images', 'pullguard').spec.holderIdentity, /^.+_[0-9a-f-]{36}$/, 'the Lease is held by this replica (hostname_uuid)')

  const secret = api.get('secrets', 'pullguard-tls', 'pullguard')
  const bundle = Buffer.from(secret.data['ca.crt'], 'base64').toString('utf8')
  const webhook = api.get('mutatingwebhookconfigurations', 'pullguard')
  t.equal(Buffer.from(webhook.webhooks[0].clientConfig.caBundle, 'base64').toString('utf8'), bundle, 'caBundle patched')

  // The API server's view: trust the caBundle and call the Service name.
  const res = await new Promise<any>((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port, path: '/mutate', method: 'POST', ca: bundle, servername: 'pullguard.pullguard.svc', headers: { 'content-type': 'application/json' } }, (r) => {
      let text = ''
      r.on('data', (c: Buffer) => { text += c.toString() })
      r.on('end', () => resolve(JSON.parse(text)))
    })
    req.on('error', reject)
    const review = fixture('review-create.json')
    review.request.object.spec.containers = [{ name: 'a', image: 'ghcr.io/acme/x', imagePullPolicy: 'Always' }]
    req.end(JSON.stringify(review))
  })
  t.equal(res.response.allowed, true)
  t.same(JSON.parse(Buffer.from(res.response.patch, 'base64').toString()), [
    { op: 'add', path: '/spec/imagePullSecrets', value: [{ name: 'ghcr-acme' }] },
  ], 'the Secret seen by the informers is injected')
  t.notMatch(run.lines.join('\n'), /PRIVATE KEY|double-token/, 'no key material or token in the logs')
  run.child.kill('SIGTERM')
  t.equal(await run.exited, 0)
  t.equal(api.get('leases', 'pullguard-private-images', 'pullguard').spec.holderIdentity, '', 'the Lease is handed back on SIGTERM')
})
