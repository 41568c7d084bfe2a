/**
 * Certificates the way pullguard before 0.2 made them for --bootstrap-certs:
 * node-forge's default encoding writes the CA's name `pullguard-ca@<unix>`
 * as a PrintableString, which cannot hold '@'. Node and OpenSSL read it; Go's
 * crypto/x509 (the API server) does not. Built here with forge directly, so
 * the tests keep an example of the broken encoding after the fix.
 */
import { generateKeyPairSync } from 'node:crypto'
import forge from 'node-forge'

export interface LegacyPair { cert: string, key: string }

function rsa (): { forgeKey: forge.pki.rsa.PrivateKey, pem: string } {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } })
  return { forgeKey: forge.pki.privateKeyFromPem(privateKey), pem: privateKey }
}

/** A CA whose subject (and issuer) CN is a PrintableString holding '@'. */
export function legacyBootstrapCa (now: Date, days = 3650): LegacyPair & { forgeCert: forge.pki.Certificate, forgeKey: forge.pki.rsa.PrivateKey } {
  const { forgeKey, pem } = rsa()
  const cert = forge.pki.createCertificate()
  cert.serialNumber = '01'
  cert.publicKey = forge.pki.setRsaPublicKey(forgeKey.n, forgeKey.e)
  cert.validity.notBefore = new Date(now.getTime() - 3_600_000)
  cert.validity.notAfter = new Date(now.getTime() + days * 86_400_000)
  const name = [{ shortName: 'CN', value: `pullguard-ca@${Math.floor(now.getTime() / 1000)}` }] // forge default: PrintableString
  cert.setSubject(name)
  cert.setIssuer(name)
  cert.setExtensions([{ name: 'basicConstraints', cA: true, critical: true }, { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true }, { name: 'subjectKeyIdentifier' }])
  cert.sign(forgeKey, forge.md.sha256.create())
  return { cert: forge.pki.certificateToPem(cert).replace(/\r\n/g, '\n'), key: pem, forgeCert: cert, forgeKey }
}

/** A serving certificate signed by that CA, its issuer repeating the bad name. */
export function legacyServing (ca: ReturnType<typeof legacyBootstrapCa>, dnsNames: string[], now: Date, days = 365): LegacyPair {
  const { forgeKey, pem } = rsa()
  const cert = forge.pki.createCertificate()
  cert.serialNumber = '02'
  cert.publicKey = forge.pki.setRsaPublicKey(forgeKey.n, forgeKey.e)
  cert.validity.notBefore = new Date(now.getTime() - 3_600_000)
  cert.validity.notAfter = new Date(now.getTime() + days * 86_400_000)
  cert.setSubject([{ shortName: 'CN', value: dnsNames[0] ?? 'pullguard' }])
  cert.setIssuer(ca.forgeCert.subject.attributes)
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames: dnsNames.map((value) => ({ type: 2, value })) },
  ])
  cert.sign(ca.forgeKey, forge.md.sha256.create())
  return { cert: forge.pki.certificateToPem(cert).replace(/\r\n/g, '\n'), key: pem }
}
