/**
 * The static-certs overlay checked by Go the way the API server would:
 * certificates from the CLI in the overlay's certs/ (the command its
 * kustomization.yaml documents), rendered with render.sh and with plain
 * `kubectl kustomize`; then for every webhook of the rendered webhook
 * configurations, the Go client calls the Service its clientConfig names,
 * trusting its caBundle exactly as rendered (kustomize alone wraps it over
 * lines, which the API server's base64 decoder skips), against a server
 * using the rendered Secret's tls.crt and tls.key.
 */
import t, { type Test } from 'tap'
import { execFile } from 'node:child_process'
import { cp, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { FIXTURES, testConfig } from '../helpers/fixtures.js'
import { goClientFor, type GoClient } from '../helpers/go-client.js'
import { listenWith } from '../helpers/server.js'
import { findKubectl, KUBECTL_MISSING, kustomize, one, parseObjects, type KObject } from '../manifests/k8s.js'

const execFileAsync = promisify(execFile)
const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const CLI = join(ROOT, 'src', 'tls', 'certs-cli.ts')

const go = await goClientFor(t)
const kubectl = findKubectl()
if (go !== undefined && kubectl === undefined) t.fail(KUBECTL_MISSING) // as test/manifests/render.test.ts: reported, not skipped
if (go !== undefined && kubectl !== undefined) {
  const tmp = await mkdtemp(join(tmpdir(), 'pullguard-static-certs-'))
  t.teardown(() => rm(tmp, { recursive: true, force: true }))
  const manifests = join(tmp, 'manifests')
  await cp(join(ROOT, 'manifests'), manifests, { recursive: true, filter: (src) => !src.includes(join('static-certs', 'certs')) })
  const overlay = join(manifests, 'overlays', 'static-certs')
  await execFileAsync(process.execPath, ['--import', 'tsx', CLI, '--service', 'pullguard', '--namespace', 'pullguard', '--out', join(overlay, 'certs')], { timeout: 30_000 })

  const rendered = await execFileAsync('sh', [join(overlay, 'render.sh')], { env: { ...process.env, KUBECTL: kubectl }, timeout: 60_000, maxBuffer: 32 * 1024 * 1024 })
  const renders: Array<[string, KObject[], boolean]> = [
    ['render.sh', parseObjects(rendered.stdout, 'render.sh'), false],
    ['kubectl kustomize alone', await kustomize(kubectl, overlay), true],
  ]
  for (const [name, objects, wrapped] of renders) {
    t.test(`static-certs rendered by ${name}`, async (t) => { await check(t, go, objects, wrapped) })
  }
}

async function check (t: Test, client: GoClient, objects: KObject[], wrapped: boolean): Promise<void> {
  const secret = one(objects, 'Secret', 'pullguard-serving-tls')
  const text = (key: string): string => Buffer.from(secret.data[key] as string, 'base64').toString('utf8')
  const { app, port } = await listenWith(testConfig(), { cert: text('tls.crt'), key: text('tls.key') })
  t.teardown(async () => { await app.close() })

  const inspected = await client.inspect([{ name: 'secret-ca.crt', pem: text('ca.crt'), role: 'ca' }, { name: 'secret-tls.crt', pem: text('tls.crt'), role: 'serving' }],
    { dns: 'pullguard.pullguard.svc', ca: { pem: text('ca.crt') } })
  t.equal(inspected.error, '', 'Go parses the Secret\'s certificates; tls.crt verifies for pullguard.pullguard.svc')

  const configurations = objects.filter((o) => o.kind === 'MutatingWebhookConfiguration' || o.kind === 'ValidatingWebhookConfiguration')
  t.ok(configurations.some((o) => o.kind === 'MutatingWebhookConfiguration'), 'a MutatingWebhookConfiguration is rendered')
  for (const configuration of configurations) {
    for (const hook of configuration.webhooks as KObject[]) {
      const { caBundle, service } = hook.clientConfig as { caBundle?: string, service: { name: string, namespace: string, path?: string } }
      t.ok(caBundle, `${hook.name}: caBundle is set`)
      t.equal(caBundle?.includes('\n'), wrapped, wrapped ? 'wrapped over lines, as kustomize writes it' : 'on one line')
      const v1 = (hook.admissionReviewVersions as string[]).includes('v1')
      const r = await client.review({
        port,
        service: service.name,
        namespace: service.namespace,
        path: service.path ?? '/',
        ca: { bundle: caBundle ?? '' },
        review: join(FIXTURES, v1 ? 'review-create.json' : 'review-create-v1beta1.json'),
        validating: configuration.kind === 'ValidatingWebhookConfiguration',
      })
      t.equal(r.error, '', `${configuration.kind}/${configuration.metadata.name} ${hook.name}: the API server's webhook client accepts pullguard`)
      t.equal(r.summary?.serverName, `${service.name}.${service.namespace}.svc`)
    }
  }
}
