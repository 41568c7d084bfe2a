import t from 'tap'
import tls from 'node:tls'
import jsonpatch from 'fast-json-patch'
import { BODY_LIMIT, buildHealthApp, HEADERS_TIMEOUT_MS, KEEP_ALIVE_TIMEOUT_MS } from '../src/app.js'
import { fixture, fixtureText, testConfig, type Json } from './helpers/fixtures.js'
import { openMutateRequest, startServer, testCertificates } from './helpers/server.js'

function decodePatch (response: Json): jsonpatch.Operation[] {
  return JSON.parse(Buffer.from(response.patch, 'base64').toString('utf8'))
}

t.test('the webhook over real TLS', async (t) => {
  const server = await startServer(testConfig())
  t.teardown(server.close)

  t.test('POST /mutate (v1): patch applies and a second pass is empty', async (t) => {
    const review = fixture('review-create.json')
    const res = await server.post('/mutate', review)
    t.equal(res.status, 200)
    t.match(res.headers['content-type'], /application\/json/)
    t.equal(res.json.apiVersion, 'admission.k8s.io/v1')
    t.equal(res.json.kind, 'AdmissionReview')
    t.equal(res.json.response.uid, review.request.uid)
    t.equal(res.json.response.allowed, true)
    t.equal(res.json.response.patchType, 'JSONPatch')
    const pod = jsonpatch.applyPatch(structuredClone(review.request.object), decodePatch(res.json.response), true, false).newDocument
    t.same(pod.spec.imagePullSecrets, [{ name: 'ghcr-acme' }, { name: 'acr-pull' }, { name: 'dockerhub-pull' }])
    t.same(pod.spec.containers.map((c: Json) => c.imagePullPolicy), ['Always', 'Always', 'Always'])
    review.request.object = pod
    const again = await server.post('/mutate', review)
    t.same(again.json.response, { uid: review.request.uid, allowed: true })
  })

  t.test('POST /mutate (v1beta1) is answered in v1beta1', async (t) => {
    const review = fixture('review-create-v1beta1.json')
    const res = await server.post('/mutate', review)
    t.equal(res.json.apiVersion, 'admission.k8s.io/v1beta1')
    t.equal(res.json.response.uid, review.request.uid)
    t.equal(res.json.response.patchType, 'JSONPatch')
  })

  t.test('POST /mutate UPDATE with a new image and IfNotPresent is denied', async (t) => {
    const res = await server.post('/mutate', fixture('review-update.json'))
    t.equal(res.status, 200)
    t.equal(res.json.response.allowed, false)
    t.equal(res.json.response.status.code, 403)
    t.match(res.json.response.status.message, /spec\.containers\[0\]\.imagePullPolicy/)
    t.notOk(res.json.response.patchType)
  })

  t.test('POST /mutate on pods/ephemeralcontainers patches the new container and warns', async (t) => {
    const res = await server.post('/mutate', fixture('review-ephemeral.json'))
    t.same(decodePatch(res.json.response), [{ op: 'replace', path: '/spec/ephemeralContainers/0/imagePullPolicy', value: 'Always' }])
    t.equal(res.json.response.warnings.length, 1)
  })

  t.test('POST /validate denies the unmutated pod, with the in-tree field path', async (t) => {
    const res = await server.post('/validate', fixture('review-create.json'))
    t.equal(res.json.response.allowed, false)
    t.match(res.json.response.status.message, 'spec.containers[0].imagePullPolicy: Unsupported value: "IfNotPresent": supported values: "Always"')
  })

  t.test('POST /preview with the YAML pod shows patch, patched pod and decisions', async (t) => {
    const res = await server.post('/preview?namespace=team-a', fixtureText('pod.yaml'), 'application/yaml')
    t.equal(res.status, 200)
    const body = res.json
    t.equal(body.namespace, 'team-a')
    t.equal(body.decision, 'patched')
    t.same(body.patchedPod.spec.imagePullSecrets.map((s: Json) => s.name), ['ghcr-acme', 'acr-pull', 'dockerhub-pull'])
    const metrics = body.images.find((i: Json) => i.name === 'metrics')
    t.equal(metrics.registryName, 'docker.io/library/nginx')
    t.equal(metrics.canonical, 'docker.io/library/nginx:latest')
    t.same(metrics.matched, [{ index: 3, match: 'https://index.docker.io/v1/' }])
    t.same(metrics.secrets, [{ name: 'dockerhub-pull', source: 'config', entry: 3, match: 'https://index.docker.io/v1/', added: true }])
    const volume = body.images.find((i: Json) => i.field === 'spec.volumes[0].image')
    t.same(volume.pullPolicy, { before: 'IfNotPresent', after: 'Always' })
    t.same(body.validation, { allowed: true })
    const direct = jsonpatch.applyPatch(fixture('pod.yaml'), body.patch, true, false).newDocument
    t.same(direct, body.patchedPod, 'the shown patch produces the shown pod')
  })

  t.test('POST /preview takes JSON pods and whole AdmissionReviews', async (t) => {
    const pod = fixture('pod.yaml')
    const json = await server.post('/preview', pod)
    t.equal(json.json.namespace, 'team-a', 'namespace from metadata')
    const review = await server.post('/preview', fixture('review-update.json'))
    t.equal(review.json.allowed, false)
    t.equal(review.json.operation, 'UPDATE')
  })

  const bad: Array<[string, () => Promise<{ status: number, json: Json }>, number, string]> = [
    ['malformed JSON', () => server.post('/mutate', '{"kind": "AdmissionReview",'), 400, 'PG_BODY_INVALID_JSON'],
    ['empty JSON body', () => server.post('/mutate', ''), 400, 'PG_BODY_EMPTY'],
    ['wrong content type', () => server.post('/mutate', 'hello', 'text/plain'), 415, 'PG_UNSUPPORTED_MEDIA_TYPE'],
    ['YAML to /mutate', () => server.post('/mutate', fixtureText('pod.yaml'), 'application/yaml'), 415, 'PG_UNSUPPORTED_MEDIA_TYPE'],
    ['oversized body', () => server.post('/mutate', Buffer.alloc(BODY_LIMIT + 1, 0x20)), 413, 'PG_BODY_TOO_LARGE'],
    ['review without request', () => server.post('/mutate', { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' }), 400, 'PG_REVIEW_INVALID'],
    ['review without uid', () => { const r = fixture('review-create.json'); delete r.request.uid; return server.post('/mutate', r) }, 400, 'PG_REVIEW_INVALID'],
    ['unknown apiVersion', () => { const r = fixture('review-create.json'); r.apiVersion = 'admission.k8s.io/v9'; return server.post('/validate', r) }, 400, 'PG_REVIEW_UNKNOWN_VERSION'],
    ['not a Pod', () => { const r = fixture('review-create.json'); r.request.object = { kind: 'Secret', apiVersion: 'v1', data: {} }; return server.post('/mutate', r) }, 400, 'PG_NOT_A_POD'],
    ['prototype pollution', () => server.post('/mutate', '{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"__proto__":{"uid":"x"}}}'), 400, 'PG_BODY_FORBIDDEN_KEY'],
    ['deeply nested JSON', () => server.post('/mutate', '{"a":' + '['.repeat(50_000) + ']'.repeat(50_000) + '}'), 400, 'PG_BODY_TOO_DEEP'],
    ['preview: bad namespace', () => server.post('/preview?namespace=Team_A', fixture('pod.yaml')), 400, 'PG_BAD_QUERY'],
    ['preview: UPDATE of a bare pod', () => server.post('/preview?operation=UPDATE', fixture('pod.yaml')), 400, 'PG_BAD_QUERY'],
    ['preview: unknown parameter', () => server.post('/preview?ns=a', fixture('pod.yaml')), 400, 'PG_BAD_QUERY'],
    ['preview: a list', () => server.post('/preview', '- a\n', 'application/yaml'), 400, 'PG_NOT_A_POD'],
    ['unknown route', () => server.request('GET', '/mutate'), 404, 'PG_NOT_FOUND'],
  ]
  for (const [name, send, status, code] of bad) {
    t.test(`bad input: ${name} → ${status} ${code}`, async (t) => {
      const res = await send()
      t.equal(res.status, status)
      t.equal(res.json?.error?.code, code)
      t.type(res.json?.error?.message, 'string')
    })
  }

  t.test('the server still answers after all of that', async (t) => {
    const res = await server.post('/mutate', fixture('review-create.json'))
    t.equal(res.status, 200)
  })

  t.test('one structured log line per review, without credential material', async (t) => {
    const review = fixture('review-create.json')
    review.request.uid = 'log-check-uid'
    review.request.object.metadata.annotations = { 'kubectl.kubernetes.io/last-applied-configuration': '{"data":{".dockerconfigjson":"eyJhdXRocyI6e319c2VjcmV0"}}' }
    review.request.object.spec.containers[0].env = [{ name: 'REGISTRY_PASSWORD', value: 'hunter2-very-secret' }]
    review.request.object.spec.containers.push({ name: 'bad', image: 'robot:s3cr3t-token@ghcr.io/acme/x' })
    const res = await server.post('/mutate', review)
    t.equal(res.status, 200)
    t.notMatch(JSON.stringify(res.json), /s3cr3t-token|hunter2|eyJhdXRocyI6/, 'response carries none of it')
    const line = server.logs.records().find((r) => r.uid === 'log-check-uid')
    t.ok(line, 'a review line carries the uid')
    t.match(line, { msg: 'admission review', endpoint: 'mutate', namespace: 'team-a', pod: 'web-7d9c8b6f5-', operation: 'CREATE', decision: 'patched' })
    t.notMatch(server.logs.text(), /s3cr3t-token|hunter2|eyJhdXRocyI6/, 'logs carry none of it')
  })

  t.test('timeouts are set for the API server\'s connection reuse and against slow clients', async (t) => {
    t.ok(server.app.server.keepAliveTimeout > 90_000)
    t.equal(server.app.server.keepAliveTimeout, KEEP_ALIVE_TIMEOUT_MS)
    t.equal(server.app.server.headersTimeout, HEADERS_TIMEOUT_MS)
    t.ok(server.app.server.requestTimeout > 0)
  })

  t.test('TLS 1.1 and older are refused', async (t) => {
    const err = await new Promise<Error | undefined>((resolve) => {
      const socket = tls.connect({ host: '127.0.0.1', port: server.port, ca: testCertificates().caCert, servername: 'localhost', maxVersion: 'TLSv1.1', minVersion: 'TLSv1' })
      socket.on('secureConnect', () => { socket.destroy(); resolve(undefined) })
      socket.on('error', resolve)
    })
    t.ok(err, 'handshake failed')
  })
})

t.test('SIGTERM-style close finishes the request in flight', async (t) => {
  const server = await startServer(testConfig())
  const body = JSON.stringify(fixture('review-create.json'))
  const half = body.length >> 1
  const result = new Promise<number>((resolve, reject) => {
    const req = openMutateRequest(server.port, body, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode ?? 0)) })
    req.on('error', reject)
    req.write(body.slice(0, half))
    // Close while the body is only half sent, then finish it.
    setTimeout(() => {
      const closing = server.app.close()
      setTimeout(() => req.end(body.slice(half)), 50)
      void closing
    }, 50)
  })
  t.equal(await result, 200, 'the in-flight review got its answer')
  server.agent.destroy()
})

t.test('health app', async (t) => {
  let reason: string | undefined = 'starting'
  const health = buildHealthApp({ notReady: () => reason })
  t.teardown(() => health.close())
  t.equal((await health.inject({ method: 'GET', url: '/healthz' })).statusCode, 200)
  const notReady = await health.inject({ method: 'GET', url: '/readyz' })
  t.equal(notReady.statusCode, 503)
  t.match(notReady.json(), { reason: 'starting' })
  reason = undefined
  t.equal((await health.inject({ method: 'GET', url: '/readyz' })).statusCode, 200)
})
