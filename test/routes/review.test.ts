import t from 'tap'
import { fixture, testConfig } from '../helpers/fixtures.js'
import { startServer } from '../helpers/server.js'

/**
 * The per-review line is written without pino's redaction (src/logger.ts,
 * createReviewLog), on the promise that it is built only from fields that
 * cannot hold credentials (src/admission/review-line.ts). This drives reviews
 * through the real HTTPS server with credential-shaped text in every field
 * of the pod a tenant writes freely (and in the request's own headers), and
 * looks for each in everything logged.
 *
 * Names are not planted: the pod's name, its namespace and container names
 * identify what was admitted, and the line carries them (cut to 253
 * characters) as the API server's own audit log does.
 */
const PLANTED = {
  annotation: 'eyJhdXRocyI6eyJnaGNyLmlvIjp7ImF1dGgiOiJhbm5vdGF0aW9uIn19fQ',
  lastApplied: 'bGFzdC1hcHBsaWVkLWRvY2tlcmNvbmZpZ2pzb24',
  label: 'label-s3cr3t-value',
  env: 'env-hunter2-password',
  envFromKey: 'ENVFROM_PREFIX_TOKEN_',
  args: '--password=args-s3cr3t',
  command: 'command-bearer-token-value',
  userinfoImage: 'robot-user:userinfo-s3cr3t',
  tagImage: 'tag-looks-like-a-t0ken',
  digestImage: 'c3VwZXItc2VjcmV0LWltYWdlLWRpZ2VzdA',
  volumeImage: 'volume-image-userinfo-s3cr3t',
  initImage: 'init-userinfo-s3cr3t',
  ephemeralArgs: 'ephemeral-args-s3cr3t',
  header: 'Bearer header-service-account-token',
  userExtra: 'user-extra-credential-value',
}

function plant (review: any, uid: string): any {
  const { request } = review
  request.uid = uid
  request.userInfo = { ...request.userInfo, extra: { 'authentication.kubernetes.io/credential-id': [PLANTED.userExtra] } }
  for (const pod of [request.object, request.oldObject]) {
    if (pod === undefined || pod === null) continue
    pod.metadata.annotations = {
      'example.com/registry-auth': PLANTED.annotation,
      'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify({ data: { '.dockerconfigjson': PLANTED.lastApplied } }),
    }
    pod.metadata.labels = { ...pod.metadata.labels, token: PLANTED.label }
    const [first, second, ...rest] = pod.spec.containers
    pod.spec.containers = [
      { ...first, env: [{ name: 'REGISTRY_PASSWORD', value: PLANTED.env }], envFrom: [{ prefix: PLANTED.envFromKey, secretRef: { name: 'app-env' } }], args: [PLANTED.args], command: ['/bin/sh', '-c', `echo ${PLANTED.command}`] },
      { ...second, image: `ghcr.io/acme/web:${PLANTED.tagImage}` },
      ...rest,
      { name: 'userinfo', image: `${PLANTED.userinfoImage}@ghcr.io/acme/x:1` },
      { name: 'digest', image: `nginx@sha256:${PLANTED.digestImage}` },
    ]
    pod.spec.initContainers = [{ name: 'init', image: `ghcr.io/acme/${PLANTED.initImage}`, args: [PLANTED.args] }]
    pod.spec.volumes = [...(pod.spec.volumes ?? []), { name: 'tools', image: { reference: `robot:${PLANTED.volumeImage}@ghcr.io/acme/tools:1` } }]
    for (const ephemeral of pod.spec.ephemeralContainers ?? []) ephemeral.args = [PLANTED.ephemeralArgs]
  }
  return review
}

const REVIEWS: Array<[string, string, string]> = [
  ['/mutate', 'review-create.json', 'CREATE'],
  ['/validate', 'review-create.json', 'CREATE'],
  ['/mutate', 'review-update.json', 'UPDATE'],
  ['/mutate', 'review-ephemeral.json', 'UPDATE/ephemeralcontainers'],
  ['/mutate', 'review-create-v1beta1.json', 'CREATE'],
]

t.test('the per-review line carries no tenant-written content', async (t) => {
  const server = await startServer(testConfig())
  t.teardown(() => server.close())
  for (const [path, name, operation] of REVIEWS) {
    const uid = `planted-${path.slice(1)}-${name}`
    const body = JSON.stringify(plant(fixture(name), uid))
    const res = await server.request('POST', path, body, { 'content-type': 'application/json', authorization: PLANTED.header })
    t.equal(res.status, 200, `${path} ${name}: answered`)
    const line = server.logs.records().find((r) => r.uid === uid)
    t.match(line, { msg: 'admission review', endpoint: path.slice(1), operation }, `${path} ${name}: its review line`)
  }
  const text = server.logs.text()
  for (const [field, value] of Object.entries(PLANTED)) t.notOk(text.includes(value), `${field} is not in the log`)
  // The control: the planted values were really sent (each body held them).
  t.ok(JSON.stringify(plant(fixture('review-create.json'), 'x')).includes(PLANTED.userinfoImage))
})

t.test('the review line: what it says about the outcome', async (t) => {
  const server = await startServer(testConfig())
  t.teardown(() => server.close())
  const review = fixture('review-create.json')
  review.request.uid = 'outcome-line'
  review.request.dryRun = true
  await server.post('/mutate', review)
  const line = server.logs.records().find((r) => r.uid === 'outcome-line')
  t.match(line, {
    level: 30,
    service: 'pullguard',
    endpoint: 'mutate',
    namespace: 'team-a',
    pod: 'web-7d9c8b6f5-',
    operation: 'CREATE',
    dryRun: true,
    decision: 'patched',
    secretsAdded: Array,
    policiesForced: Array,
    warnings: Array,
    durationMs: Number,
  })
  t.notOk(line !== undefined && 'skipped' in line, 'skipped only when skipped')
})
