/**
 * node-forge's helpers (src/tls/forge-x509.ts), checked by readers other
 * than forge: Node's X509Certificate and KeyObject, and the strict DER reader
 * that stands for Go's crypto/x509 (src/tls/strict-der.ts).
 */
import { createHash, createPublicKey, generateKeyPairSync, X509Certificate } from 'node:crypto'
import forge from 'node-forge'
import t from 'tap'
import {
  certificateToPem, commonNameOnly, generateRsaKeyPair, issuerOf, privateKeyFromPem, subjectKeyIdentifierBytes, type RsaKeyPair,
} from '../../src/tls/forge-x509.js'
import { strictCertificateProblems } from '../../src/tls/strict-der.js'

const { pki } = forge
const ca = generateRsaKeyPair()
const leafKeys = generateRsaKeyPair()

/** A certificate signed by `signer`, as certs.ts builds them. */
function certificate (subject: forge.pki.CertificateField[], issuer: forge.pki.CertificateField[], keys: RsaKeyPair, signer: RsaKeyPair, extensions: object[] = []): forge.pki.Certificate {
  const cert = pki.createCertificate()
  cert.publicKey = keys.publicKey
  cert.serialNumber = '01'
  cert.validity.notBefore = new Date(Date.UTC(2030, 0, 1))
  cert.validity.notAfter = new Date(Date.UTC(2031, 0, 1))
  cert.setSubject(subject)
  cert.setIssuer(issuer)
  cert.setExtensions(extensions)
  cert.sign(signer.privateKey, forge.md.sha256.create())
  return cert
}

t.test('commonNameOnly: names PrintableString cannot hold stay readable by a strict parser', async (t) => {
  for (const name of ['pullguard-ca', 'ops@example.com', 'pull_guard', '*.hooks', 'a&b', 'pullguard-çа-Ω']) {
    const pem = certificateToPem(certificate(commonNameOnly(name), commonNameOnly(name), ca, ca))
    t.same(strictCertificateProblems(pem), [], `${name}: no problems`)
    t.equal(new X509Certificate(pem).subject, `CN=${name}`, `${name}: Node reads the same name`)
  }
})

t.test('issuerOf: a leaf names its CA byte for byte, non-ASCII names included', async (t) => {
  for (const name of ['pullguard-ca', 'pullguard-çа-Ω', 'ops@example.com']) {
    // Read back from PEM, as the bootstrap reads its CA from the Secret.
    const caCert = pki.certificateFromPem(certificateToPem(certificate(commonNameOnly(name), commonNameOnly(name), ca, ca)))
    const leafPem = certificateToPem(certificate(commonNameOnly('leaf'), issuerOf(caCert), leafKeys, ca))
    const caX509 = new X509Certificate(certificateToPem(caCert))
    const leaf = new X509Certificate(leafPem)
    t.equal(leaf.issuer, `CN=${name}`, `${name}: issuer as Node reads it`)
    t.ok(leaf.checkIssued(caX509), `${name}: the issuer matches the CA's subject`)
    t.ok(leaf.verify(caX509.publicKey), `${name}: signed by the CA`)
    t.same(strictCertificateProblems(leafPem), [], `${name}: strict parser accepts the leaf`)
  }
})

t.test('subjectKeyIdentifierBytes: the extension when there is one, else SHA-1 of the public key (RFC 5280 4.2.1.2)', async (t) => {
  const spki = createPublicKey(ca.privateKeyPem).export({ type: 'pkcs1', format: 'der' })
  const sha1 = createHash('sha1').update(spki).digest('binary')
  const cases: Array<[string, object[], string]> = [
    ['no extension', [], sha1],
    // Written as given (forge would compute it): a CA made elsewhere may use any identifier, and the leaf's must match it.
    ['an extension with another value', [{ name: 'subjectKeyIdentifier', value: forge.asn1.create(forge.asn1.Class.UNIVERSAL, forge.asn1.Type.OCTETSTRING, false, '\x0a\x0b\x0c\x0d') }], '\x0a\x0b\x0c\x0d'],
    ['a computed extension', [{ name: 'subjectKeyIdentifier' }], sha1],
  ]
  for (const [what, extensions, want] of cases) {
    const caCert = pki.certificateFromPem(certificateToPem(certificate(commonNameOnly('ca'), commonNameOnly('ca'), ca, ca, extensions)))
    t.equal(forge.util.bytesToHex(subjectKeyIdentifierBytes(caCert)), forge.util.bytesToHex(want), what)
  }
})

t.test('generateRsaKeyPair: RSA 2048, e=65537, one key in forge and PKCS#8 PEM forms', async (t) => {
  const pair = generateRsaKeyPair()
  t.match(pair.privateKeyPem, /^-----BEGIN PRIVATE KEY-----\n/, 'PKCS#8 PEM')
  const node = createPublicKey(pair.privateKeyPem)
  t.equal(node.asymmetricKeyDetails?.modulusLength, 2048)
  t.equal(node.asymmetricKeyDetails?.publicExponent, 65537n)
  t.equal(pki.publicKeyToPem(pair.publicKey).replace(/\r\n/g, '\n'), node.export({ type: 'spki', format: 'pem' }), 'forge public key is the PEM key')
  const digest = forge.md.sha256.create().update('pullguard')
  t.ok(pair.publicKey.verify(digest.digest().getBytes(), pair.privateKey.sign(digest)), 'forge private key signs for the public key')
  t.not(generateRsaKeyPair().privateKeyPem, pair.privateKeyPem, 'a new key each time')
})

t.test('privateKeyFromPem: PKCS#1 and PKCS#8 RSA keys read alike; anything else is refused', async (t) => {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const n = createPublicKey(privateKey).export({ format: 'jwk' }).n ?? ''
  for (const type of ['pkcs1', 'pkcs8'] as const) {
    const key = privateKeyFromPem(privateKey.export({ type, format: 'pem' }).toString())
    t.equal(Buffer.from(key.n.toString(16), 'hex').toString('base64url'), n, `${type}: the same modulus`)
  }
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
  t.throws(() => privateKeyFromPem(ec), /expected an RSA key, got ec/)
  t.throws(() => privateKeyFromPem('-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n'))
})

t.test('certificateToPem: LF line ends, as Node, OpenSSL and Go write', async (t) => {
  const pem = certificateToPem(certificate(commonNameOnly('ca'), commonNameOnly('ca'), ca, ca))
  t.notMatch(pem, /\r/, 'no CR')
  t.match(pem, /^-----BEGIN CERTIFICATE-----\n[A-Za-z0-9+/=\n]+-----END CERTIFICATE-----\n$/)
  t.equal(new X509Certificate(pem).toString(), pem, 'what Node writes for the same certificate')
})
