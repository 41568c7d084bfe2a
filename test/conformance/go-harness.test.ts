/**
 * The Go conformance harness itself: it finds (or reports a missing) Go as
 * documented, and it can fail. A CA whose name Go refuses, a serving
 * certificate without SANs, and AdmissionReview answers the API server
 * would refuse (served by a bare node:https server) must each make the Go
 * client fail with a message that names the problem; the same things done
 * right must pass, so the failures come from exactly that defect.
 */
import t, { type Test } from 'tap'
import { generateKeyPairSync } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import https from 'node:https'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import forge from 'node-forge'
import { generateCertificates } from '../../src/tls/certs.js'
import { fixture, testConfig } from '../helpers/fixtures.js'
import { goAvailability, goClientFor, type GoClient } from '../helpers/go-client.js'
import { listenWith } from '../helpers/server.js'

const SERVICE = { service: 'pullguard', namespace: 'pullguard' }
const SERVER_NAME = 'pullguard.pullguard.svc'
const REQUEST_UID = fixture('review-create.json').request.uid as string

t.test('finding Go', async (t) => {
  const dir = t.testdir({ bin: {} })
  const fakeGo = join(dir, 'bin', 'go')
  writeFileSync(fakeGo, '#!/bin/sh\n', { mode: 0o755 })
  const cases: Array<[string, NodeJS.ProcessEnv, string[], object]> = [
    ['go on PATH', { PATH: join(dir, 'bin') }, [], { go: fakeGo }],
    ['the well-known /usr/bin/go when PATH has none', { PATH: '/nonexistent' }, [fakeGo], { go: fakeGo }],
    ['GO wins over PATH', { GO: process.execPath, PATH: join(dir, 'bin') }, [], { go: process.execPath }],
    ['no Go: skipped, with one line saying how to get it', { PATH: '/nonexistent' }, [],
      { skip: 'Go conformance tests skipped: go not found (install Debian\'s golang-go, or set GO=/path/to/go)' }],
    ['a GO that is not there is reported, not replaced', { GO: '/nonexistent/go', PATH: join(dir, 'bin') }, [],
      { skip: 'Go conformance tests skipped: GO=/nonexistent/go is not an executable (install Debian\'s golang-go, or set GO=/path/to/go)' }],
    ['no Go under CI=true: a failure', { PATH: '/nonexistent', CI: 'true' }, [],
      { fail: 'Go conformance tests cannot run: go not found (CI=true, so this is a failure; install Debian\'s golang-go, or set GO=/path/to/go)' }],
  ]
  for (const [name, env, wellKnown, expected] of cases) t.same(goAvailability(env, wellKnown), expected, name)
})

// --- certificates Go must refuse ----------------------------------------------

interface Pair { cert: string, key: string }
type Forged = Pair & { forgeCert: forge.pki.Certificate, forgeKey: forge.pki.rsa.PrivateKey }

function rsaKey (): { forgeKey: forge.pki.rsa.PrivateKey, pem: string } {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } })
  return { forgeKey: forge.pki.privateKeyFromPem(privateKey), pem: privateKey }
}

function toPem (cert: forge.pki.Certificate): string {
  return forge.pki.certificateToPem(cert).replace(/\r\n/g, '\n')
}

/** A CA built with node-forge directly; without `utf8` forge writes the CN as a PrintableString, whatever it holds. */
function forgeCa (commonName: string, utf8: boolean): Forged {
  const { forgeKey, pem } = rsaKey()
  const cert = forge.pki.createCertificate()
  cert.serialNumber = '01'
  cert.publicKey = forge.pki.setRsaPublicKey(forgeKey.n, forgeKey.e)
  cert.validity.notBefore = new Date(Date.now() - 3_600_000)
  cert.validity.notAfter = new Date(Date.now() + 86_400_000)
  const name = [{ shortName: 'CN', value: commonName, ...(utf8 ? { valueTagClass: forge.asn1.Type.UTF8 as unknown as forge.asn1.Class } : {}) }]
  cert.setSubject(name)
  cert.setIssuer(name)
  cert.setExtensions([{ name: 'basicConstraints', cA: true, critical: true }, { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true }, { name: 'subjectKeyIdentifier' }])
  cert.sign(forgeKey, forge.md.sha256.create())
  return { cert: toPem(cert), key: pem, forgeCert: cert, forgeKey }
}

/** A serving certificate for NAME.NS.svc signed by `ca` (issuer = the CA's subject, same string types); `san: false` leaves the name to the CN only. */
function forgeLeaf (ca: Forged, san: boolean): Pair {
  const { forgeKey, pem } = rsaKey()
  const cert = forge.pki.createCertificate()
  cert.serialNumber = '02'
  cert.publicKey = forge.pki.setRsaPublicKey(forgeKey.n, forgeKey.e)
  cert.validity.notBefore = new Date(Date.now() - 3_600_000)
  cert.validity.notAfter = new Date(Date.now() + 86_400_000)
  cert.setSubject([{ shortName: 'CN', value: SERVER_NAME }])
  cert.setIssuer(ca.forgeCert.subject.attributes) // ASCII names: the same bytes as the CA's subject
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    ...(san ? [{ name: 'subjectAltName', altNames: [{ type: 2, value: SERVER_NAME }] }] : []),
  ])
  cert.sign(ca.forgeKey, forge.md.sha256.create())
  return { cert: toPem(cert), key: pem }
}

async function certificates (t: Test, go: GoClient): Promise<void> {
  const cases: Array<{ name: string, cn: string, utf8: boolean, san: boolean, review?: RegExp, inspect?: RegExp }> = [
    {
      name: 'CA CN with \'@\' as PrintableString (forge\'s default): Go cannot load the caBundle',
      cn: 'pullguard-ca@1700000000',
      utf8: false,
      san: true,
      review: /unable to load root certificates: .*block 1: x509: invalid RDNSequence: invalid attribute value: invalid PrintableString/,
      inspect: /x509\.ParseCertificate: x509: invalid RDNSequence: invalid attribute value: invalid PrintableString/,
    },
    { name: 'the same name as UTF8String: accepted', cn: 'pullguard-ca@1700000000', utf8: true, san: true },
    { name: 'a PrintableString without \'@\': accepted', cn: 'pullguard-ca', utf8: false, san: true },
    {
      name: 'a serving certificate with its name in the CN only: Go ignores the CN',
      cn: 'pullguard-ca',
      utf8: true,
      san: false,
      review: /x509: certificate relies on legacy Common Name field, use SANs instead/,
      inspect: /no DNS subjectAltName: Go ignores the Common Name/,
    },
  ]
  for (const c of cases) {
    await t.test(c.name, async (t) => {
      const ca = forgeCa(c.cn, c.utf8)
      const leaf = forgeLeaf(ca, c.san)
      const { app, port } = await listenWith(testConfig(), leaf)
      t.teardown(async () => { await app.close() })
      const review = await go.review({ port, ...SERVICE, ca: { pem: ca.cert } })
      const inspect = await go.inspect([{ name: 'ca.crt', pem: ca.cert, role: 'ca' }, { name: 'tls.crt', pem: leaf.cert, role: 'serving' }], { dns: SERVER_NAME })
      if (c.review === undefined) {
        t.equal(review.error, '', 'the Go client accepts it')
        t.equal(inspect.error, '', 'inspect accepts it')
      } else {
        t.equal(review.code, 1, 'the Go client fails')
        t.match(review.error, c.review)
        t.notMatch(review.error, /\n./, 'with one line')
        t.equal(review.summary?.ok, false)
        t.equal(inspect.code, 1, 'inspect fails')
        t.match(inspect.error, c.inspect)
      }
      if (!c.utf8) {
        t.match(inspect.summary?.certificates[0].notes, [/subject CN is a PrintableString/], 'the string type is named even when Go refuses to parse')
      }
    })
  }
}

async function anotherServiceName (t: Test, go: GoClient): Promise<void> {
  const certs = generateCertificates({ ...SERVICE, dev: false })
  const { app, port } = await listenWith(testConfig(), certs)
  t.teardown(async () => { await app.close() })
  const r = await go.review({ port, service: 'other', namespace: 'pullguard', ca: { pem: certs.caCert } })
  t.equal(r.code, 1)
  t.match(r.error, /^webhook-client: failed to call webhook: Post "https:\/\/other\.pullguard\.svc:\d+\/mutate\?timeout=10s": x509: certificate is valid for .*, not other\.pullguard\.svc$/)
}

// --- answers the API server must refuse ---------------------------------------

/** A patch whose standard base64 holds '+' or '/', so its URL-safe form differs. */
function awkwardPatch (): { ops: unknown[], std: string } {
  for (let i = 0; ; i++) {
    const ops = [{ op: 'add', path: '/metadata/labels/x', value: `???>>>${'a'.repeat(i)}` }]
    const std = Buffer.from(JSON.stringify(ops)).toString('base64')
    if (/[+/]/.test(std)) return { ops, std }
  }
}

interface Answer { status?: number, body: unknown }
const patch = awkwardPatch()
const urlSafe = patch.std.replace(/\+/g, '-').replace(/\//g, '_')
const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64')
const v1 = (response: Record<string, unknown> | undefined, extra: Record<string, unknown> = {}): Answer =>
  ({ body: { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', ...(response === undefined ? {} : { response }), ...extra } })
const answers: Array<{ name: string, answer: (uid: string) => Answer, validating?: boolean, error?: RegExp }> = [
  { name: 'a correct answer with a patch', answer: (uid) => v1({ uid, allowed: true, patchType: 'JSONPatch', patch: patch.std }) },
  { name: 'a correct denial', answer: (uid) => v1({ uid, allowed: false, status: { code: 403, message: 'no' } }) },
  { name: 'a wrong uid', answer: () => v1({ uid: 'not-the-request', allowed: true }), error: new RegExp(`expected response\\.uid="${REQUEST_UID}", got "not-the-request"`) },
  { name: '"UID" for "uid" (field names are case-sensitive)', answer: (uid) => v1({ UID: uid, allowed: true }), error: /expected response\.uid="[^"]+", got ""/ },
  { name: 'URL-safe base64 in patch', answer: (uid) => v1({ uid, allowed: true, patchType: 'JSONPatch', patch: urlSafe }), error: /response\.patch: illegal base64 data at input byte/ },
  { name: 'unpadded base64 in patch', answer: (uid) => v1({ uid, allowed: true, patchType: 'JSONPatch', patch: b64([{ op: 'remove', path: '/metadata/labels/app' }]).replace(/=+$/, '') }), error: /illegal base64 data/ },
  { name: 'a patch without patchType', answer: (uid) => v1({ uid, allowed: true, patch: patch.std }), error: /webhook returned response\.patch but not response\.patchType/ },
  { name: 'a patchType without patch', answer: (uid) => v1({ uid, allowed: true, patchType: 'JSONPatch' }), error: /webhook returned response\.patchType but not response\.patch/ },
  { name: 'patchType MergePatch', answer: (uid) => v1({ uid, allowed: true, patchType: 'MergePatch', patch: b64({ metadata: { labels: { x: 'y' } } }) }), error: /not a JSON array of operation objects/ },
  { name: 'patchType MergePatch with an array', answer: (uid) => v1({ uid, allowed: true, patchType: 'MergePatch', patch: patch.std }), error: /unsupported patch type "MergePatch"/ },
  { name: 'an operation without a path', answer: (uid) => v1({ uid, allowed: true, patchType: 'JSONPatch', patch: b64([{ op: 'add', value: 1 }]) }), error: /patch operation 0 \(add\): missing "path"/ },
  { name: 'an unknown op', answer: (uid) => v1({ uid, allowed: true, patchType: 'JSONPatch', patch: b64([{ op: 'merge', path: '/spec' }]) }), error: /unknown op "merge"/ },
  { name: 'a patch that does not apply to the pod', answer: (uid) => v1({ uid, allowed: true, patchType: 'JSONPatch', patch: b64([{ op: 'replace', path: '/spec/nodeName', value: 'n' }]) }), error: /the patch does not apply to the request's object: operation 0 \(replace \/spec\/nodeName\): \/spec\/nodeName does not exist/ },
  { name: 'a v1beta1 answer to a v1 request', answer: (uid) => v1({ uid, allowed: true }, { apiVersion: 'admission.k8s.io/v1beta1' }), error: /expected webhook response of admission\.k8s\.io\/v1, Kind=AdmissionReview, got admission\.k8s\.io\/v1beta1, Kind=AdmissionReview/ },
  { name: 'no apiVersion and kind', answer: (uid) => ({ body: { response: { uid, allowed: true } } }), error: /got \/, Kind=$/ },
  { name: 'no response', answer: () => v1(undefined), error: /webhook response was absent/ },
  { name: 'HTTP 500', answer: () => ({ status: 500, body: { message: 'boom' } }), error: /webhook answered HTTP 500: \{"message":"boom"\}/ },
  { name: 'a body that is not JSON', answer: () => ({ body: 'oops' }), error: /decoding the webhook's answer: the webhook's answer is not a JSON object/ },
  { name: 'a validating webhook returning a patch', validating: true, answer: (uid) => v1({ uid, allowed: true, patchType: 'JSONPatch', patch: patch.std }), error: /validating webhook may not return response\.patch/ },
]

async function admissionReviewAnswers (t: Test, go: GoClient): Promise<void> {
  const certs = generateCertificates({ ...SERVICE, dev: false })
  // A bare webhook: /answer/N gives answers[N] for the request's uid.
  const server = https.createServer({ cert: certs.cert, key: certs.key }, (req, res) => {
    let text = ''
    req.on('data', (c: Buffer) => { text += c.toString() })
    req.on('end', () => {
      const entry = answers[Number(/^\/answer\/(\d+)/.exec(req.url ?? '')?.[1])]
      const { status, body } = entry?.answer((JSON.parse(text) as { request: { uid: string } }).request.uid) ?? { status: 404, body: {} }
      res.writeHead(status ?? 200, { 'content-type': 'application/json' })
      res.end(typeof body === 'string' ? body : JSON.stringify(body))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { server.close() })
  const port = (server.address() as AddressInfo).port
  t.ok(urlSafe !== patch.std, 'the URL-safe patch differs from the standard one')

  for (const [i, c] of answers.entries()) {
    await t.test(c.name, async (t) => {
      const r = await go.review({ port, ...SERVICE, ca: { pem: certs.caCert }, path: `/answer/${i}`, validating: c.validating })
      if (c.error === undefined) {
        t.equal(r.error, '', 'accepted')
        t.equal(r.summary?.uid, REQUEST_UID)
      } else {
        t.equal(r.code, 1, 'refused')
        t.match(r.error, c.error)
        t.notMatch(r.error, /\n./, 'one line')
      }
    })
  }
}

// One parent, so a missing Go is one skip line for all of them.
t.test('the Go client', async (t) => {
  const go = await goClientFor(t)
  if (go === undefined) return
  await t.test('certificates', (t) => certificates(t, go))
  await t.test('a serving certificate for another Service name', (t) => anotherServiceName(t, go))
  await t.test('AdmissionReview answers', (t) => admissionReviewAnswers(t, go))
})
