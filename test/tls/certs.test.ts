import t from 'tap'
import type { Test } from 'tap'
import { X509Certificate, createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto'
import https from 'node:https'
import tls from 'node:tls'
import type { AddressInfo } from 'node:net'
import { createRequire, syncBuiltinESMExports } from 'node:module'
import forge from 'node-forge'
import {
  BACKDATE_MS,
  CA_COMMON_NAME,
  CertificateOptionsError,
  caBundle,
  generateCertificates,
  generateServingCertificate,
  validateDnsName,
  validateNamespace,
  validateServiceName
} from '../../src/tls/certs.js'
import type { CertificateBundle } from '../../src/tls/certs.js'
import { randomSerialNumber } from '../../src/tls/serial.js'

const DAY_MS = 24 * 60 * 60 * 1000
const SHA256_WITH_RSA = '1.2.840.113549.1.1.11'
const SERVER_AUTH = '1.3.6.1.5.5.7.3.1'

// One bundle shared by the read-only checks: key generation is the slow part.
const bundle = generateCertificates({ service: 'pullguard', namespace: 'pullguard' })
const caX509 = new X509Certificate(bundle.caCert)
const certX509 = new X509Certificate(bundle.cert)

/** Node prints SANs as "DNS:a, DNS:b, IP Address:127.0.0.1". */
function sans (cert: X509Certificate): string[] {
  return (cert.subjectAltName ?? '').split(', ').filter((s) => s !== '')
}

/** Extension details Node's X509Certificate does not expose, read with forge. */
function forgeCert (pem: string): forge.pki.Certificate {
  return forge.pki.certificateFromPem(pem)
}

interface Ext { critical?: boolean, [k: string]: unknown }
function ext (pem: string, name: string): Ext | undefined {
  return forgeCert(pem).getExtension(name) as Ext | undefined
}

function subjectKeyId (pem: string): string | undefined {
  const e = ext(pem, 'subjectKeyIdentifier')
  return typeof e?.subjectKeyIdentifier === 'string' ? e.subjectKeyIdentifier : undefined
}

/** keyIdentifier [0] of the authorityKeyIdentifier SEQUENCE, as hex. */
function authorityKeyId (pem: string): string | undefined {
  const e = ext(pem, 'authorityKeyIdentifier')
  if (e === undefined || typeof e.value !== 'string') return undefined
  const seq = forge.asn1.fromDer(e.value)
  const keyId = (seq.value as forge.asn1.Asn1[]).find((n) => n.tagClass === forge.asn1.Class.CONTEXT_SPECIFIC && n.type === 0)
  return keyId === undefined ? undefined : forge.util.bytesToHex(keyId.value as string)
}

/** The serial's DER INTEGER content octets, straight from the certificate bytes. */
function serialDer (cert: X509Certificate): Buffer {
  const root = forge.asn1.fromDer(cert.raw.toString('binary'))
  const tbs = (root.value as forge.asn1.Asn1[])[0]!.value as forge.asn1.Asn1[]
  // tbsCertificate: [0] version, serialNumber, ...
  const serial = tbs[1]!
  if (serial.type !== forge.asn1.Type.INTEGER) throw new Error('serial is not an INTEGER')
  return Buffer.from(serial.value as string, 'binary')
}

function checkSerial (t: Test, cert: X509Certificate): void {
  t.notOk(cert.serialNumber.startsWith('-'), 'serial is not negative')
  t.ok(BigInt('0x' + cert.serialNumber) > 0n, 'serial is positive and non-zero')
  const der = serialDer(cert)
  t.ok(der.length >= 1 && der.length <= 20, 'serial fits RFC 5280\'s 20 octets')
  t.equal((der[0] ?? 0) & 0x80, 0, 'DER sign bit clear')
  if (der.length > 1) t.notOk(der[0] === 0 && (der[1] ?? 0) < 0x80, 'minimally encoded')
}

function keyMatches (cert: X509Certificate, keyPem: string): boolean {
  return cert.checkPrivateKey(createPrivateKey(keyPem))
}

t.test('CA certificate', async (t) => {
  t.equal(caX509.subject, `CN=${CA_COMMON_NAME}`)
  t.equal(caX509.issuer, `CN=${CA_COMMON_NAME}`, 'self-issued')
  t.equal(caX509.ca, true, 'ca flag set')
  t.ok(caX509.checkIssued(caX509), 'self-signed')
  t.ok(caX509.verify(caX509.publicKey), 'signature verifies with its own key')
  t.ok(keyMatches(caX509, bundle.caKey), 'CA key matches CA certificate')
  t.equal(caX509.publicKey.asymmetricKeyDetails?.modulusLength, 2048)
  checkSerial(t, caX509)
  t.ok(new Date(caX509.validFrom).getTime() < Date.now(), 'notBefore is in the past')
  t.equal(forgeCert(bundle.caCert).siginfo.algorithmOid, SHA256_WITH_RSA, 'sha256WithRSAEncryption')

  const bc = ext(bundle.caCert, 'basicConstraints')
  t.match(bc, { critical: true, cA: true }, 'basicConstraints cA=true, critical')
  const ku = ext(bundle.caCert, 'keyUsage')
  t.match(ku, { critical: true, keyCertSign: true, cRLSign: true }, 'keyUsage keyCertSign+cRLSign, critical')
  t.notOk(ku?.digitalSignature, 'no digitalSignature on the CA')
  t.notOk(ku?.keyEncipherment, 'no keyEncipherment on the CA')
  t.match(subjectKeyId(bundle.caCert), /^[0-9a-f]{40}$/, 'subjectKeyIdentifier present')
})

t.test('serving certificate', async (t) => {
  t.same(sans(certX509), [
    'DNS:pullguard',
    'DNS:pullguard.pullguard',
    'DNS:pullguard.pullguard.svc',
    'DNS:pullguard.pullguard.svc.cluster.local',
    'DNS:localhost',
    'IP Address:127.0.0.1',
    'IP Address:0:0:0:0:0:0:0:1'
  ], 'SANs exactly as specified, dev names included by default')
  t.equal(certX509.subject, 'CN=pullguard.pullguard.svc')
  t.equal(certX509.issuer, caX509.subject)
  t.equal(certX509.ca, false, 'not a CA')
  t.ok(certX509.checkIssued(caX509), 'issued by the CA')
  t.ok(certX509.verify(caX509.publicKey), 'signature verifies with the CA key')
  t.notOk(certX509.verify(certX509.publicKey), 'and not with its own key')
  t.ok(keyMatches(certX509, bundle.key), 'key matches certificate')
  t.notOk(keyMatches(certX509, bundle.caKey), 'the CA key does not')
  t.equal(certX509.publicKey.asymmetricKeyDetails?.modulusLength, 2048)
  checkSerial(t, certX509)
  t.not(certX509.serialNumber, caX509.serialNumber, 'serials differ')
  t.ok(new Date(certX509.validFrom).getTime() < Date.now(), 'notBefore is in the past')
  t.equal(forgeCert(bundle.cert).siginfo.algorithmOid, SHA256_WITH_RSA, 'sha256WithRSAEncryption')

  t.equal(certX509.checkHost('pullguard.pullguard.svc'), 'pullguard.pullguard.svc')
  t.equal(certX509.checkHost('localhost'), 'localhost')
  t.equal(certX509.checkHost('evil.example'), undefined)
  t.equal(certX509.checkIP('127.0.0.1'), '127.0.0.1')
  t.equal(certX509.checkIP('::1'), '::1')
  t.equal(certX509.checkIP('10.0.0.1'), undefined)
  t.same(certX509.keyUsage, [SERVER_AUTH], 'extKeyUsage serverAuth only')

  const bc = ext(bundle.cert, 'basicConstraints')
  t.ok(bc !== undefined, 'basicConstraints present')
  t.notOk(bc?.cA, 'cA=false')
  const ku = ext(bundle.cert, 'keyUsage')
  t.match(ku, { critical: true, digitalSignature: true, keyEncipherment: true }, 'keyUsage digitalSignature+keyEncipherment, critical')
  t.notOk(ku?.keyCertSign, 'cannot sign certificates')
  t.match(ext(bundle.cert, 'extKeyUsage'), { serverAuth: true })
  const caSki = subjectKeyId(bundle.caCert)
  t.ok(caSki !== undefined)
  t.equal(authorityKeyId(bundle.cert), caSki, 'authorityKeyIdentifier matches the CA\'s subjectKeyIdentifier')
  t.match(subjectKeyId(bundle.cert), /^[0-9a-f]{40}$/, 'own subjectKeyIdentifier present')
  t.not(subjectKeyId(bundle.cert), caSki)
})

t.test('PEM output', async (t) => {
  t.match(bundle.caCert, /^-----BEGIN CERTIFICATE-----\n[^\r]+-----END CERTIFICATE-----\n$/)
  t.match(bundle.cert, /^-----BEGIN CERTIFICATE-----\n[^\r]+-----END CERTIFICATE-----\n$/)
  t.match(bundle.key, /^-----BEGIN PRIVATE KEY-----\n/)
  t.match(bundle.caKey, /^-----BEGIN PRIVATE KEY-----\n/)
  t.equal(createPrivateKey(bundle.key).asymmetricKeyType, 'rsa')
})

t.test('caBundle is base64 of the CA PEM', async (t) => {
  const b64 = caBundle(bundle.caCert)
  t.match(b64, /^[A-Za-z0-9+/]+=*$/)
  t.equal(Buffer.from(b64, 'base64').toString('utf8'), bundle.caCert)
})

t.test('dev: false leaves out localhost and loopback IPs; extra names are added once', async (t) => {
  const b = generateCertificates({
    service: 'hook',
    namespace: 'infra',
    dev: false,
    extraDnsNames: ['hook.example.com', '*.hooks.example.com', 'hook.infra.svc']
  })
  const c = new X509Certificate(b.cert)
  t.same(sans(c), [
    'DNS:hook',
    'DNS:hook.infra',
    'DNS:hook.infra.svc',
    'DNS:hook.infra.svc.cluster.local',
    'DNS:hook.example.com',
    'DNS:*.hooks.example.com'
  ])
  t.equal(c.subject, 'CN=hook.infra.svc')
  t.equal(c.checkHost('localhost'), undefined)
  t.equal(c.checkIP('127.0.0.1'), undefined)
  t.equal(c.checkHost('a.hooks.example.com'), '*.hooks.example.com', 'wildcard SAN matches')
})

t.test('validity dates', async (t) => {
  const now = new Date('2030-06-15T12:00:00Z')
  const b = generateCertificates({ service: 'pullguard', namespace: 'pullguard', now, validityDays: 30, caValidityDays: 100 })
  const ca = new X509Certificate(b.caCert)
  const c = new X509Certificate(b.cert)
  t.equal(new Date(c.validFrom).getTime(), now.getTime() - BACKDATE_MS, 'notBefore backdated')
  t.equal(new Date(ca.validFrom).getTime(), now.getTime() - BACKDATE_MS, 'CA notBefore backdated')
  t.equal(new Date(c.validTo).getTime(), now.getTime() + 30 * DAY_MS)
  t.equal(new Date(ca.validTo).getTime(), now.getTime() + 100 * DAY_MS)

  const d = generateCertificates({ service: 'pullguard', namespace: 'pullguard', now })
  t.equal(new Date(new X509Certificate(d.cert).validTo).getTime(), now.getTime() + 365 * DAY_MS, 'default 365 days')
  t.equal(new Date(new X509Certificate(d.caCert).validTo).getTime(), now.getTime() + 3650 * DAY_MS, 'CA default 3650 days')

  // Past 2049 RFC 5280 4.1.2.5 wants GeneralizedTime; Node must still read it.
  const late = generateCertificates({ service: 'pullguard', namespace: 'pullguard', now: new Date('2049-12-01T00:00:00Z') })
  t.equal(new Date(new X509Certificate(late.cert).validTo).getTime(), new Date('2049-12-01T00:00:00Z').getTime() + 365 * DAY_MS)

  for (const bad of [0, -1, 1.5, Number.NaN, 40000 * 365]) {
    t.throws(() => generateCertificates({ service: 'a', namespace: 'b', validityDays: bad }), CertificateOptionsError, `validityDays ${bad}`)
  }
  t.throws(() => generateCertificates({ service: 'a', namespace: 'b', validityDays: 400, caValidityDays: 300 }),
    /longer than the CA/)
})

t.test('serial numbers', async (t) => {
  const fixed = (...draws: number[][]): ((n: number) => Uint8Array) => {
    let i = 0
    return (n) => {
      const draw = draws[i++] ?? []
      const out = new Uint8Array(n)
      out.set(draw)
      return out
    }
  }
  const ff = new Array(16).fill(0xff)
  t.equal(randomSerialNumber(fixed(ff)), '7f' + 'ff'.repeat(15), 'high bit cleared')
  t.equal(randomSerialNumber(fixed([0x80], [0x01])), '01' + '00'.repeat(15), 'a draw that is zero once the high bit is cleared is retried')
  t.equal(randomSerialNumber(fixed([], [0, 0, 0x05])), '05' + '00'.repeat(13), 'all-zero draw is retried; leading zeros dropped')
  t.equal(randomSerialNumber(fixed([0, 0x90, 1])), '0090' + '01' + '00'.repeat(13), 'sign byte kept when the top bit is set')
  t.equal(randomSerialNumber(fixed([0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01])), '01',
    'smallest positive value')
  const seen = new Set<string>()
  const bad: string[] = []
  for (let i = 0; i < 500; i++) {
    const hex = randomSerialNumber()
    const first = Number.parseInt(hex.slice(0, 2), 16)
    const second = Number.parseInt(hex.slice(2, 4), 16)
    const wellFormed = /^([0-9a-f]{2})+$/.test(hex) && hex.length <= 34 && first < 0x80 &&
      !(hex.length > 2 && first === 0 && second < 0x80) && BigInt('0x' + hex) > 0n
    if (!wellFormed) bad.push(hex)
    seen.add(hex)
  }
  t.same(bad, [], 'every serial is positive, non-zero, minimal, at most 17 bytes')
  t.equal(seen.size, 500, 'no repeats')
})

t.test('names are checked as Kubernetes would', async (t) => {
  for (const ok of ['pullguard', 'a', 'web-hook2', 'a'.repeat(63)]) {
    t.doesNotThrow(() => validateServiceName(ok), `service ${ok}`)
  }
  for (const bad of ['Bad_Name', 'UPPER', '', '-a', 'a-', 'a.b', '1abc', 'a'.repeat(64), 'a b']) {
    t.throws(() => validateServiceName(bad), CertificateOptionsError, `service ${JSON.stringify(bad)} rejected`)
  }
  t.throws(() => validateServiceName('Bad_Name'), { message: /--service "Bad_Name"/ }, 'message names the flag and value')
  for (const ok of ['default', 'kube-system', '1abc', 'a'.repeat(63)]) {
    t.doesNotThrow(() => validateNamespace(ok), `namespace ${ok}`)
  }
  for (const bad of ['Default', '', 'a_b', 'a.b', '-x', 'a'.repeat(64)]) {
    t.throws(() => validateNamespace(bad), CertificateOptionsError, `namespace ${JSON.stringify(bad)} rejected`)
  }
  t.throws(() => validateNamespace('Nope'), { message: /--namespace "Nope"/ })
  t.doesNotThrow(() => validateDnsName('hook.example.com'))
  t.doesNotThrow(() => validateDnsName('*.example.com'))
  for (const bad of ['*', 'a.*.b', 'Hook.example.com', 'a..b', '', 'x'.repeat(64) + '.com']) {
    t.throws(() => validateDnsName(bad), CertificateOptionsError, `dns ${JSON.stringify(bad)} rejected`)
  }
  t.throws(() => generateCertificates({ service: 'Bad_Name', namespace: 'ok' }), { name: 'CertificateOptionsError', message: /Bad_Name/ })
  t.throws(() => generateCertificates({ service: 'Bad_Name', namespace: 'ok' }), { code: 'PG_CERTIFICATE_OPTIONS' }, 'a stable code from the errors catalogue')
  t.throws(() => generateCertificates({ service: 'ok', namespace: 'ok', extraDnsNames: ['bad name'] }), CertificateOptionsError)
})

t.test('key generation uses Node\'s native RSA, not forge\'s JavaScript prime search', async (t) => {
  const original = forge.pki.rsa.generateKeyPair
  forge.pki.rsa.generateKeyPair = (() => { throw new Error('forge key generation used') }) as typeof original
  t.teardown(() => { forge.pki.rsa.generateKeyPair = original })
  // Counted, not timed (tests never assert on wall-clock time): forge's
  // JavaScript prime search is never entered, and exactly two native key
  // generations (the CA's and the serving key) happen.
  // forge.prime exists at run time; @types/node-forge leaves it out.
  const prime = (forge as unknown as { prime: { generateProbablePrime: (...args: unknown[]) => unknown } }).prime
  const originalPrime = prime.generateProbablePrime
  let primeSearches = 0
  prime.generateProbablePrime = (...args: unknown[]) => { primeSearches++; return originalPrime(...args) }
  t.teardown(() => { prime.generateProbablePrime = originalPrime })
  const nodeCrypto = createRequire(import.meta.url)('node:crypto') as typeof import('node:crypto')
  const originalNative = nodeCrypto.generateKeyPairSync
  const nativeCalls: string[] = []
  nodeCrypto.generateKeyPairSync = ((type: string, options: unknown) => {
    nativeCalls.push(`${type}:${String((options as { modulusLength?: number }).modulusLength)}`)
    return (originalNative as (t: string, o: unknown) => unknown)(type, options)
  }) as typeof originalNative
  // The ESM view of node:crypto (what src/tls/certs.ts imports) follows the CommonJS one only when told to.
  syncBuiltinESMExports()
  t.teardown(() => { nodeCrypto.generateKeyPairSync = originalNative; syncBuiltinESMExports() })
  const b = generateCertificates({ service: 'fast', namespace: 'fast' })
  t.ok(new X509Certificate(b.cert).checkIssued(new X509Certificate(b.caCert)))
  t.same(nativeCalls, ['rsa:2048', 'rsa:2048'], 'two native RSA-2048 key generations: the CA\'s and the serving key')
  t.equal(primeSearches, 0, 'forge\'s JavaScript prime search is never used')
})

t.test('generateServingCertificate re-signs with an existing CA', async (t) => {
  const now = new Date()
  const again = generateServingCertificate({ cert: bundle.caCert, key: bundle.caKey }, {
    service: 'pullguard', namespace: 'pullguard', dev: false, now
  })
  const c = new X509Certificate(again.cert)
  t.ok(c.checkIssued(caX509))
  t.ok(c.verify(caX509.publicKey))
  t.ok(keyMatches(c, again.key))
  t.not(again.key, bundle.key, 'fresh key')
  t.not(c.serialNumber, certX509.serialNumber, 'fresh serial')
  t.equal(authorityKeyId(again.cert), subjectKeyId(bundle.caCert))
  t.same(sans(c), [
    'DNS:pullguard',
    'DNS:pullguard.pullguard',
    'DNS:pullguard.pullguard.svc',
    'DNS:pullguard.pullguard.svc.cluster.local'
  ])
  checkSerial(t, c)

  // A PKCS#1 CA key works too.
  const pkcs1 = createPrivateKey(bundle.caKey).export({ type: 'pkcs1', format: 'pem' }).toString()
  t.match(pkcs1, /BEGIN RSA PRIVATE KEY/)
  const viaPkcs1 = generateServingCertificate({ cert: bundle.caCert, key: pkcs1 }, { service: 'x', namespace: 'y' })
  t.ok(new X509Certificate(viaPkcs1.cert).verify(caX509.publicKey))

  // Never outlives the CA.
  const shortCa = generateCertificates({ service: 'a', namespace: 'b', now, caValidityDays: 10, validityDays: 5 })
  const capped = generateServingCertificate({ cert: shortCa.caCert, key: shortCa.caKey }, { service: 'a', namespace: 'b', now, validityDays: 365 })
  t.equal(new X509Certificate(capped.cert).validTo, new X509Certificate(shortCa.caCert).validTo, 'notAfter capped at the CA\'s')
})

t.test('generateServingCertificate refuses a bad CA', async (t) => {
  const other = generateCertificates({ service: 'other', namespace: 'other' })
  t.throws(() => generateServingCertificate({ cert: bundle.caCert, key: other.caKey }, { service: 'a', namespace: 'b' }),
    { name: 'CertificateOptionsError', message: /does not belong/ })
  t.throws(() => generateServingCertificate({ cert: bundle.cert, key: bundle.key }, { service: 'a', namespace: 'b' }),
    { message: /not a CA/ }, 'a leaf certificate is not a CA')
  t.throws(() => generateServingCertificate({ cert: 'nope', key: bundle.caKey }, { service: 'a', namespace: 'b' }),
    CertificateOptionsError)
  t.throws(() => generateServingCertificate({ cert: bundle.caCert, key: 'nope' }, { service: 'a', namespace: 'b' }),
    CertificateOptionsError)
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
  t.throws(() => generateServingCertificate({ cert: bundle.caCert, key: ec }, { service: 'a', namespace: 'b' }),
    { message: /RSA/ })
  t.throws(() => generateServingCertificate({ cert: bundle.caCert, key: bundle.caKey },
    { service: 'a', namespace: 'b', now: new Date(Date.now() + 4000 * DAY_MS) }), { message: /expired/ })
  t.throws(() => generateServingCertificate({ cert: bundle.caCert, key: bundle.caKey }, { service: 'Bad_Name', namespace: 'b' }),
    CertificateOptionsError)
  t.ok(createPublicKey(bundle.caCert), 'CA cert still intact')
})

// ---- a real TLS handshake -------------------------------------------------

async function startServer (t: Test, b: CertificateBundle): Promise<{ port: number, clientErrors: Array<{ code?: string }> }> {
  const server = https.createServer({ cert: b.cert, key: b.key, minVersion: 'TLSv1.2' }, (_req, res) => {
    res.end('ok')
  })
  const clientErrors: Array<{ code?: string }> = []
  server.on('tlsClientError', (err: Error & { code?: string }) => { clientErrors.push(err) })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => {
    server.closeAllConnections()
    server.close(() => resolve())
  }))
  return { port: (server.address() as AddressInfo).port, clientErrors }
}

type Outcome = { ok: true, authorized: boolean, protocol: string | null } | { ok: false, code: string | undefined, message: string }

function handshake (options: tls.ConnectionOptions): Promise<Outcome> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host: '127.0.0.1', ...options })
    socket.once('secureConnect', () => {
      resolve({ ok: true, authorized: socket.authorized, protocol: socket.getProtocol() })
      socket.end()
    })
    socket.once('error', (err: Error & { code?: string }) => {
      resolve({ ok: false, code: err.code, message: err.message })
      socket.destroy()
    })
  })
}

t.test('TLS handshake against a node:https server', async (t) => {
  const { port, clientErrors } = await startServer(t, bundle)
  const ca = bundle.caCert

  for (const servername of ['pullguard.pullguard.svc', 'pullguard', 'pullguard.pullguard.svc.cluster.local', 'localhost']) {
    t.match(await handshake({ port, ca, servername }), { ok: true, authorized: true, protocol: 'TLSv1.3' }, `servername ${servername}`)
  }
  t.match(await handshake({ port, ca }), { ok: true, authorized: true }, 'no servername: 127.0.0.1 matched against the IP SAN')
  t.match(await handshake({ port, ca, servername: 'pullguard.pullguard.svc', maxVersion: 'TLSv1.2' }),
    { ok: true, authorized: true, protocol: 'TLSv1.2' }, 'TLS 1.2 works (key usages fit RSA TLS 1.2 suites)')

  t.match(await handshake({ port, ca, servername: 'unrelated.example.com' }),
    { ok: false, code: 'ERR_TLS_CERT_ALTNAME_INVALID' }, 'unrelated name rejected')
  t.match(await handshake({ port, ca, servername: 'pullguard.other.svc' }),
    { ok: false, code: 'ERR_TLS_CERT_ALTNAME_INVALID' }, 'another namespace rejected')
  t.match(await handshake({ port, servername: 'pullguard.pullguard.svc' }),
    { ok: false, code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' }, 'without our CA the chain is untrusted')
  const stranger = generateCertificates({ service: 'pullguard', namespace: 'pullguard' })
  t.match(await handshake({ port, ca: stranger.caCert, servername: 'pullguard.pullguard.svc' }),
    { ok: false, code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' }, 'a different CA with the same name is not trusted')

  const before = clientErrors.length
  // The client is allowed TLS 1.0/1.1 (and OpenSSL's legacy security level),
  // so the failure is the server's minVersion at work.
  const old = await handshake({
    port, ca, servername: 'pullguard.pullguard.svc', minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0'
  })
  t.equal(old.ok, false, 'TLS 1.1 client fails')
  if (!old.ok) t.match(old.code, /PROTOCOL_VERSION|UNSUPPORTED_PROTOCOL/, `protocol version error (${String(old.code)})`)
  await new Promise((resolve) => setTimeout(resolve, 50))
  t.ok(clientErrors.slice(before).some((e) => e.code === 'ERR_SSL_UNSUPPORTED_PROTOCOL'), 'server refused the protocol version')
})

t.test('HTTPS request through the verified connection', async (t) => {
  const { port } = await startServer(t, bundle)
  const body = await new Promise<string>((resolve, reject) => {
    const req = https.get({ host: '127.0.0.1', port, path: '/', ca: bundle.caCert, servername: 'pullguard.pullguard.svc' }, (res) => {
      let data = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => { data += chunk })
      res.on('end', () => resolve(data))
    })
    req.on('error', reject)
  })
  t.equal(body, 'ok')
})
