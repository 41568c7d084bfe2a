/**
 * What node-forge needs help with to write certificates that Go, OpenSSL
 * and Node all read alike: string types of names, issuer bytes, key
 * identifiers, native key generation and PEM line ends. Used by certs.ts.
 */
import { createPrivateKey, generateKeyPairSync } from 'node:crypto'
import forge from 'node-forge'

const { pki } = forge

// RSA 2048: the floor in NIST SP 800-57 / CA/Browser Forum baseline, and what
// Go, OpenSSL and every API server version accept.
const RSA_BITS = 2048
const RSA_PUBLIC_EXPONENT = 0x10001

/**
 * A Name with one CN attribute, encoded as UTF8String.
 *
 * node-forge encodes every attribute as PrintableString unless told
 * otherwise, whatever the value holds; PrintableString cannot hold '@', '_',
 * '*' or '&' (X.680 41.4), and Go's crypto/x509, which the API server uses
 * to read `caBundle`, rejects such a certificate outright ("invalid
 * PrintableString"), while OpenSSL and Node accept it. UTF8String holds any
 * value and is what RFC 5280 4.1.2.6 asks CAs to use for DirectoryString.
 */
export function commonNameOnly (value: string): forge.pki.CertificateField[] {
  // valueTagClass holds a universal tag number (forge's x509.js reads it so);
  // @types/node-forge types it as a tag class.
  return [{ shortName: 'CN', value, valueTagClass: forge.asn1.Type.UTF8 as unknown as forge.asn1.Class }]
}

/**
 * The CA's subject, to be written as a certificate's issuer with the same
 * string types. forge keeps a parsed UTF8String value as raw bytes but
 * encodes the value it writes, so decode it first or non-ASCII names would
 * be encoded twice and no longer match the CA's subject.
 */
export function issuerOf (caCert: forge.pki.Certificate): forge.pki.CertificateField[] {
  return caCert.subject.attributes.map((attr) => {
    if ((attr.valueTagClass as number | undefined) !== forge.asn1.Type.UTF8 || typeof attr.value !== 'string') return attr
    return { ...attr, value: forge.util.decodeUtf8(attr.value) }
  })
}

/** The CA's subjectKeyIdentifier as a byte string, read from the extension
 * when it has one (it must match exactly), else computed as forge does. */
export function subjectKeyIdentifierBytes (caCert: forge.pki.Certificate): string {
  const ext = caCert.getExtension('subjectKeyIdentifier') as { subjectKeyIdentifier?: string } | undefined
  if (typeof ext?.subjectKeyIdentifier === 'string') return forge.util.hexToBytes(ext.subjectKeyIdentifier)
  return caCert.generateSubjectKeyIdentifier().getBytes()
}

export interface RsaKeyPair {
  publicKey: forge.pki.rsa.PublicKey
  privateKey: forge.pki.rsa.PrivateKey
  /** PKCS#8 PEM ("BEGIN PRIVATE KEY"), which Go, OpenSSL and Node all read. */
  privateKeyPem: string
}

/**
 * Generates the key with Node's native crypto directly, rather than trusting
 * forge to pick it: forge falls back to a pure-JavaScript prime search
 * (seconds per key) whenever `forge.options.usePureJavaScript` is set or a
 * custom PRNG is passed. The PEM is then parsed into forge's key objects.
 */
export function generateRsaKeyPair (): RsaKeyPair {
  const { privateKey } = generateKeyPairSync('rsa', {
    modulusLength: RSA_BITS,
    publicExponent: RSA_PUBLIC_EXPONENT,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' }
  })
  const forgePrivate = pki.privateKeyFromPem(privateKey)
  return {
    privateKey: forgePrivate,
    publicKey: pki.setRsaPublicKey(forgePrivate.n, forgePrivate.e),
    privateKeyPem: privateKey
  }
}

/** Reads an unencrypted PKCS#1 or PKCS#8 RSA key. Node parses it (clear
 * errors, any PEM flavour) and hands forge the PKCS#1 form it reads best. */
export function privateKeyFromPem (pem: string): forge.pki.rsa.PrivateKey {
  const key = createPrivateKey(pem)
  if (key.asymmetricKeyType !== 'rsa') throw new Error(`expected an RSA key, got ${String(key.asymmetricKeyType)}`)
  return pki.privateKeyFromPem(key.export({ type: 'pkcs1', format: 'pem' }).toString())
}

/** forge writes PEM with CRLF line ends; Node, OpenSSL and Go write LF. */
export function certificateToPem (cert: forge.pki.Certificate): string {
  return pki.certificateToPem(cert).replace(/\r\n/g, '\n')
}
