/**
 * strict-der.ts reads certificates as Go's crypto/x509 does. Each row builds
 * one certificate with node-forge, breaking one field the way a lenient
 * encoder can, and names what the checker must say. The Go conformance tests
 * (test/conformance/) check the same certificates with Go itself.
 */
import t from 'tap'
import { generateKeyPairSync } from 'node:crypto'
import forge from 'node-forge'
import { generateCertificateAuthority, generateCertificates, generateServingCertificate } from '../../src/tls/certs.js'
import { strictCertificateProblems } from '../../src/tls/strict-der.js'
import { legacyBootstrapCa, legacyServing } from '../helpers/legacy-ca.js'

const { asn1, pki } = forge
const UTF8 = asn1.Type.UTF8 as unknown as forge.asn1.Class
const IA5 = asn1.Type.IA5STRING as unknown as forge.asn1.Class
const BMP = asn1.Type.BMPSTRING as unknown as forge.asn1.Class
const NOW = new Date('2030-01-01T00:00:00Z')
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } })
const key = pki.privateKeyFromPem(privateKey)

interface Row {
  name: string
  cn?: forge.pki.CertificateField
  notAfter?: Date
  /** Sets the serial's DER content octets after signing, for encodings forge
   * will not write (the signature is not checked here). */
  serialOctets?: string
  expected: RegExp[]
}

function build (row: Row): string {
  const cert = pki.createCertificate()
  cert.serialNumber = '01'
  cert.publicKey = pki.setRsaPublicKey(key.n, key.e)
  cert.validity.notBefore = new Date(NOW.getTime() - 3_600_000)
  cert.validity.notAfter = row.notAfter ?? new Date(NOW.getTime() + 86_400_000)
  const name = [row.cn ?? { shortName: 'CN', value: 'pullguard-ca', valueTagClass: UTF8 }]
  cert.setSubject(name)
  cert.setIssuer(name)
  cert.sign(key, forge.md.sha256.create())
  const tree = pki.certificateToAsn1(cert)
  if (row.serialOctets === undefined) return forge.pem.encode({ type: 'CERTIFICATE', body: asn1.toDer(tree).getBytes() })
  // forge trims INTEGERs when it writes them, so the serial is spliced into
  // the bytes and the two enclosing SEQUENCEs are re-wrapped by hand.
  const [tbs, sigAlg, sig] = tree.value as forge.asn1.Asn1[]
  const parts = (tbs!.value as forge.asn1.Asn1[]).map((n) => asn1.toDer(n).getBytes())
  parts[1] = '\x02' + derLength(row.serialOctets.length) + row.serialOctets
  const tbsDer = sequence(parts.join(''))
  return forge.pem.encode({ type: 'CERTIFICATE', body: sequence(tbsDer + asn1.toDer(sigAlg!).getBytes() + asn1.toDer(sig!).getBytes()) })
}

const rows: Row[] = [
  { name: 'UTF8String CN with @', cn: { shortName: 'CN', value: 'pullguard-ca@1', valueTagClass: UTF8 }, expected: [] },
  { name: 'PrintableString CN of allowed characters', cn: { shortName: 'CN', value: "pullguard-ca (1) +,-./:=?'" }, expected: [] },
  { name: 'PrintableString CN with @ (forge default; the bootstrap bug)', cn: { shortName: 'CN', value: 'pullguard-ca@1' }, expected: [/^issuer CN: a PrintableString/, /^subject CN: a PrintableString/] },
  { name: 'PrintableString CN with _', cn: { shortName: 'CN', value: 'pull_guard' }, expected: [/issuer CN/, /subject CN/] },
  { name: 'PrintableString CN with *', cn: { shortName: 'CN', value: '*.pullguard' }, expected: [/issuer CN/, /subject CN/] },
  { name: 'IA5String CN, ASCII', cn: { shortName: 'CN', value: 'a@b', valueTagClass: IA5 }, expected: [] },
  { name: 'BMPString CN', cn: { shortName: 'CN', value: '\x00a', valueTagClass: BMP }, expected: [/unexpected string type/, /unexpected string type/] },
  { name: 'negative serial', serialOctets: '\x80', expected: [/serial number is negative/] },
  { name: 'non-minimal serial', serialOctets: '\x00\x01', expected: [/not minimally encoded/] },
  { name: 'zero serial', serialOctets: '\x00', expected: [/serial number is zero/] },
  { name: 'empty serial', serialOctets: '', expected: [/not an INTEGER/] },
  { name: '20-octet serial with a sign byte', serialOctets: '\x00\x80' + '\x01'.repeat(19), expected: [] },
  { name: '21-octet serial', serialOctets: '\x01' + '\x00'.repeat(20), expected: [/longer than 20 octets/] },
  { name: 'notAfter after 2050 is a GeneralizedTime', notAfter: new Date('2060-01-01T00:00:00Z'), expected: [] },
]

t.test('what a strict parser refuses', async (t) => {
  for (const row of rows) {
    const problems = strictCertificateProblems(build(row))
    t.equal(problems.length, row.expected.length, `${row.name}: ${problems.join(' | ') || 'no problems'}`)
    row.expected.forEach((re, i) => t.match(problems[i], re, `${row.name}: problem ${i}`))
  }
})

t.test('an invalid UTF8String is caught (bytes rewritten inside the name)', async (t) => {
  // forge writes the value it is given; a lone 0xff byte is never valid UTF-8.
  const cn = { shortName: 'CN', value: 'pullguard-c\xff', valueTagClass: asn1.Type.OCTETSTRING as unknown as forge.asn1.Class }
  const tree = pki.certificateToAsn1(Object.assign(pki.certificateFromPem(build({ name: 'x', cn, expected: [] }))))
  for (const i of [3, 5]) {
    const name = ((tree.value as forge.asn1.Asn1[])[0]!.value as forge.asn1.Asn1[])[i]!
    const atv = ((name.value as forge.asn1.Asn1[])[0]!.value as forge.asn1.Asn1[])[0]!
    ;(atv.value as forge.asn1.Asn1[])[1]!.type = asn1.Type.UTF8
  }
  const pem = forge.pem.encode({ type: 'CERTIFICATE', body: asn1.toDer(tree).getBytes() })
  t.match(strictCertificateProblems(pem), [/issuer CN: a UTF8String is not valid UTF-8/, /subject CN: a UTF8String is not valid UTF-8/])
})

t.test('not a certificate', async (t) => {
  t.same(strictCertificateProblems('hello'), ['no CERTIFICATE PEM block'])
  t.same(strictCertificateProblems(forge.pem.encode({ type: 'CERTIFICATE', body: 'garbage' })), ['not DER-encoded'])
})

t.test('messages never carry the value', async (t) => {
  const pem = build({ name: 'secret', cn: { shortName: 'CN', value: 'token@ghp_SECRET' }, expected: [] })
  t.notMatch(strictCertificateProblems(pem).join(' '), /ghp_SECRET|token/)
})

t.test('every certificate pullguard generates passes, in every path', async (t) => {
  const bundle = generateCertificates({ service: 'pullguard', namespace: 'pullguard' })
  const bootstrapCa = generateCertificateAuthority({ service: 'pullguard', namespace: 'pullguard' }, 'pullguard-ca@1700000000')
  const renewed = generateServingCertificate(bootstrapCa, { service: 'pullguard', namespace: 'pullguard', dev: false })
  const table: Array<[string, string]> = [
    ['CA (npm run certs, dev certificates)', bundle.caCert],
    ['serving certificate', bundle.cert],
    ['bootstrap CA named pullguard-ca@unixtime', bootstrapCa.cert],
    ['serving certificate it signs (issuer repeats the name)', renewed.cert],
  ]
  for (const [name, pem] of table) t.same(strictCertificateProblems(pem), [], name)
  // The issuer must be the CA's subject byte for byte (Go finds parents by it).
  t.equal(nameDer(renewed.cert, 'issuer'), nameDer(bootstrapCa.cert, 'subject'), 'issuer bytes == CA subject bytes')
})

t.test('the pre-0.2 bootstrap certificates are caught', async (t) => {
  const ca = legacyBootstrapCa(NOW)
  const serving = legacyServing(ca, ['pullguard.pullguard.svc'], NOW)
  t.match(strictCertificateProblems(ca.cert), [/issuer CN: a PrintableString/, /subject CN: a PrintableString/])
  t.match(strictCertificateProblems(serving.cert), [/issuer CN: a PrintableString/])
})

function derLength (n: number): string {
  if (n < 0x80) return String.fromCharCode(n)
  const bytes = n < 0x100 ? [n] : [n >> 8, n & 0xff]
  return String.fromCharCode(0x80 | bytes.length, ...bytes)
}

function sequence (content: string): string {
  return '\x30' + derLength(content.length) + content
}

function nameDer (pem: string, which: 'issuer' | 'subject'): string {
  const cert = asn1.fromDer(forge.pem.decode(pem)[0]!.body)
  const tbs = (cert.value as forge.asn1.Asn1[])[0]!.value as forge.asn1.Asn1[]
  return forge.util.bytesToHex(asn1.toDer(tbs[which === 'issuer' ? 3 : 5]!).getBytes())
}
