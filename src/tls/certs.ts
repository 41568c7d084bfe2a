/**
 * Certificates for the webhook's HTTPS endpoint: a private CA and a serving
 * certificate it signs. Pure: everything comes back as PEM strings; writing
 * them anywhere is the caller's business (see certs-cli.ts, dev-certs.ts).
 *
 * Why a CA and not one self-signed certificate: the API server trusts
 * whatever is in the webhook configuration's `clientConfig.caBundle`, and
 * keeping that bundle a CA means the serving certificate can be re-issued
 * (generateServingCertificate) without touching the webhook configuration.
 *
 * The API server is a Go program and calls the webhook as
 * https://NAME.NS.svc:PORT/PATH. Go's crypto/x509 checks the host name only
 * against the subjectAltName extension; since Go 1.15 the Common Name is
 * ignored altogether, so a certificate without the right SAN is rejected
 * ("x509: certificate relies on legacy Common Name field"). See the
 * Kubernetes docs, "Dynamic Admission Control" > "Contacting the webhook"
 * (https://kubernetes.io/docs/reference/access-authn-authz/extensible-admission-controllers/#service-reference)
 * and RFC 6125 section 6.4.4 (a client MUST NOT look at the CN when SANs of
 * a supported type are present). The CN is still set, for humans.
 *
 * About 300 lines because the two generators, their one options type and
 * its validation read as one contract; names, serials and forge's low-level
 * helpers already live in names.ts, serial.ts and forge-x509.ts.
 */
import forge from 'node-forge'
import { PullguardError } from '../errors.js'
import { certificateToPem, commonNameOnly, generateRsaKeyPair, issuerOf, privateKeyFromPem, subjectKeyIdentifierBytes, type RsaKeyPair } from './forge-x509.js'
import { dnsNameProblem, namespaceProblem, serviceDnsNames, serviceNameProblem } from './names.js'
import { randomSerialNumber } from './serial.js'

const { pki, md } = forge

export interface CertificateOptions {
  /** Kubernetes Service name, e.g. 'pullguard'. */
  service: string
  /** Namespace of that Service, e.g. 'pullguard'. */
  namespace: string
  /**
   * Also add SANs `localhost`, IP 127.0.0.1 and IP ::1, so the same
   * certificate works for port-forwarding and local runs. Default true.
   */
  dev?: boolean
  /** More DNS SANs (RFC 1123 names, optionally with a leading `*.`). */
  extraDnsNames?: string[]
  /** Lifetime of the serving certificate in days. Default 365. */
  validityDays?: number
  /** Lifetime of the CA in days. Default 3650. */
  caValidityDays?: number
  /** The clock, for tests. */
  now?: Date
}

/** PEM-encoded CA certificate and key, serving certificate and key. */
export interface CertificateBundle {
  caCert: string
  caKey: string
  cert: string
  key: string
}

/** A bad option value: the CLI turns this into exit code 2 plus usage. */
export class CertificateOptionsError extends PullguardError {
  override name = 'CertificateOptionsError'

  constructor (message: string) {
    super('PG_CERTIFICATE_OPTIONS', message)
  }
}

export const CA_COMMON_NAME = 'pullguard-ca'
export const DEFAULT_VALIDITY_DAYS = 365
const DEFAULT_CA_VALIDITY_DAYS = 3650
/** notBefore is set this far in the past, so a peer whose clock is a little
 * behind ours does not see a certificate that is "not yet valid". */
export const BACKDATE_MS = 60 * 60 * 1000
const DAY_MS = 24 * 60 * 60 * 1000
const MAX_CERT_DAYS = 100 * 365

/**
 * Throws unless `name` can be a Kubernetes Service name (RFC 1035 label as
 * the API server checks it: lowercase letters, digits and '-', starting with
 * a letter, at most 63 characters). `flag` names the input in the message.
 */
export function validateServiceName (name: string, flag = '--service'): void {
  const problem = serviceNameProblem(name)
  if (problem !== undefined) throw new CertificateOptionsError(`invalid ${flag} ${JSON.stringify(name)}: ${problem}`)
}

/**
 * Throws unless `name` can be a Kubernetes namespace name (RFC 1123 label:
 * lowercase letters, digits and '-', at most 63 characters).
 */
export function validateNamespace (name: string, flag = '--namespace'): void {
  const problem = namespaceProblem(name)
  if (problem !== undefined) throw new CertificateOptionsError(`invalid ${flag} ${JSON.stringify(name)}: ${problem}`)
}

/** Throws unless `name` is a DNS name usable as a dNSName SAN. */
export function validateDnsName (name: string, flag = '--dns'): void {
  const problem = dnsNameProblem(name)
  if (problem !== undefined) throw new CertificateOptionsError(`invalid ${flag} ${JSON.stringify(name)}: ${problem}`)
}

/** base64 of the PEM text, the encoding `clientConfig.caBundle` expects. */
export function caBundle (caCertPem: string): string {
  return Buffer.from(caCertPem, 'utf8').toString('base64')
}

const DEV_DNS_NAMES = ['localhost']
const DEV_IPS = ['127.0.0.1', '::1']

/** Generates a new CA and a serving certificate signed by it. */
export function generateCertificates (opts: CertificateOptions): CertificateBundle {
  const settings = checkOptions(opts)
  if (settings.validityDays > settings.caValidityDays) {
    throw new CertificateOptionsError(
      `invalid validityDays ${settings.validityDays}: longer than the CA's ${settings.caValidityDays} days`)
  }
  const { caCert, caKeys } = issueCertificateAuthority(settings)
  const serving = issueServingCertificate(caCert, caKeys.privateKey, settings)
  return {
    caCert: certificateToPem(caCert),
    caKey: caKeys.privateKeyPem,
    cert: serving.cert,
    key: serving.key
  }
}

/**
 * Generates a CA only (no serving certificate), e.g. the second CA of a CA
 * rotation, which must be trusted (put in caBundle) well before it signs
 * anything. Uses `caValidityDays` and `now` of the options. `commonName`
 * lets two CAs that are trusted side by side have different subjects, so
 * chain building never has to tell them apart by key identifier alone (the
 * way client-go names its self-signed CAs `host-ca@unixtime`).
 */
export function generateCertificateAuthority (opts: CertificateOptions, commonName = CA_COMMON_NAME): { cert: string, key: string } {
  if (commonName.length === 0 || commonName.length > 64) {
    // RFC 5280 appendix A: ub-common-name is 64.
    throw new CertificateOptionsError('invalid CA common name: must be 1-64 characters')
  }
  const { caCert, caKeys } = issueCertificateAuthority(checkOptions(opts), commonName)
  return { cert: certificateToPem(caCert), key: caKeys.privateKeyPem }
}

function issueCertificateAuthority (settings: Settings, commonName = CA_COMMON_NAME): { caCert: forge.pki.Certificate, caKeys: RsaKeyPair } {
  const caKeys = generateRsaKeyPair()
  const caCert = pki.createCertificate()
  caCert.serialNumber = randomSerialNumber()
  caCert.publicKey = caKeys.publicKey
  caCert.validity.notBefore = new Date(settings.now.getTime() - BACKDATE_MS)
  caCert.validity.notAfter = new Date(settings.now.getTime() + settings.caValidityDays * DAY_MS)
  const caSubject = commonNameOnly(commonName)
  caCert.setSubject(caSubject)
  caCert.setIssuer(caSubject) // self-signed: issuer == subject (RFC 5280 3.2)
  caCert.setExtensions([
    // RFC 5280 4.2.1.9: a CA certificate MUST carry basicConstraints with
    // cA TRUE, and it MUST be critical. No pathLenConstraint: this CA only
    // ever signs end-entity certificates, and leaving it out is the norm.
    { name: 'basicConstraints', cA: true, critical: true },
    // RFC 5280 4.2.1.3: keyCertSign is required to sign certificates (and
    // cRLSign to sign CRLs); conforming CAs SHOULD mark it critical. Nothing
    // else: the CA key never does TLS itself.
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    // RFC 5280 4.2.1.2: MUST appear in CA certificates, so that the
    // authorityKeyIdentifier of the certificates it signs can point at it
    // (method 1: SHA-1 of the subjectPublicKey BIT STRING).
    { name: 'subjectKeyIdentifier' }
  ])
  caCert.sign(caKeys.privateKey, md.sha256.create())
  return { caCert, caKeys }
}

/**
 * Issues a new serving certificate and key signed by an existing CA, so the
 * webhook's caBundle stays the same. The serving certificate never outlives
 * the CA: its notAfter is capped at the CA's.
 */
export function generateServingCertificate (
  ca: { cert: string, key: string },
  opts: CertificateOptions
): { cert: string, key: string } {
  const settings = checkOptions(opts)
  let caCert: forge.pki.Certificate
  let caKey: forge.pki.rsa.PrivateKey
  try {
    caCert = pki.certificateFromPem(ca.cert)
  } catch (err) {
    throw new CertificateOptionsError(`the CA certificate is not a PEM RSA certificate: ${messageOf(err)}`)
  }
  try {
    caKey = privateKeyFromPem(ca.key)
  } catch (err) {
    throw new CertificateOptionsError(`the CA key is not a PEM RSA private key: ${messageOf(err)}`)
  }
  const caPublic = caCert.publicKey as forge.pki.rsa.PublicKey
  if (caPublic.n.compareTo(caKey.n) !== 0 || caPublic.e.compareTo(caKey.e) !== 0) {
    throw new CertificateOptionsError('the CA key does not belong to the CA certificate')
  }
  const constraints = caCert.getExtension('basicConstraints') as { cA?: boolean } | undefined
  if (constraints?.cA !== true) {
    throw new CertificateOptionsError('the CA certificate is not a CA (basicConstraints cA is not true)')
  }
  if (caCert.validity.notAfter.getTime() <= settings.now.getTime()) {
    throw new CertificateOptionsError(`the CA certificate expired on ${caCert.validity.notAfter.toISOString()}`)
  }
  return issueServingCertificate(caCert, caKey, settings)
}

interface Settings {
  service: string
  namespace: string
  dnsNames: string[]
  ips: string[]
  validityDays: number
  caValidityDays: number
  now: Date
}

function checkOptions (opts: CertificateOptions): Settings {
  validateServiceName(opts.service, 'service')
  validateNamespace(opts.namespace, 'namespace')
  for (const name of opts.extraDnsNames ?? []) validateDnsName(name, 'extraDnsNames entry')
  const validityDays = checkDays(opts.validityDays ?? DEFAULT_VALIDITY_DAYS, 'validityDays')
  const caValidityDays = checkDays(opts.caValidityDays ?? DEFAULT_CA_VALIDITY_DAYS, 'caValidityDays')
  const now = opts.now ?? new Date()
  if (Number.isNaN(now.getTime())) throw new CertificateOptionsError('invalid now: not a date')
  const dev = opts.dev ?? true
  const dnsNames = [
    ...serviceDnsNames(opts.service, opts.namespace),
    ...(dev ? DEV_DNS_NAMES : []),
    ...(opts.extraDnsNames ?? [])
  ]
  return {
    service: opts.service,
    namespace: opts.namespace,
    dnsNames: [...new Set(dnsNames)],
    ips: dev ? DEV_IPS : [],
    validityDays,
    caValidityDays,
    now
  }
}

function checkDays (days: number, name: string): number {
  if (!Number.isInteger(days) || days < 1 || days > MAX_CERT_DAYS) {
    throw new CertificateOptionsError(`invalid ${name} ${String(days)}: must be a whole number of days from 1 to ${MAX_CERT_DAYS}`)
  }
  return days
}

function issueServingCertificate (
  caCert: forge.pki.Certificate,
  caKey: forge.pki.rsa.PrivateKey,
  settings: Settings
): { cert: string, key: string } {
  const keys = generateRsaKeyPair()
  const cert = pki.createCertificate()
  cert.serialNumber = randomSerialNumber()
  cert.publicKey = keys.publicKey
  cert.validity.notBefore = new Date(settings.now.getTime() - BACKDATE_MS)
  const wanted = settings.now.getTime() + settings.validityDays * DAY_MS
  cert.validity.notAfter = new Date(Math.min(wanted, caCert.validity.notAfter.getTime()))
  // The CN is informational only (see the header comment): NAME.NS.svc is
  // the name the API server connects to.
  cert.setSubject(commonNameOnly(`${settings.service}.${settings.namespace}.svc`))
  // RFC 5280 4.1.2.4: the issuer field MUST equal the CA's subject, byte for
  // byte in practice (Go's chain building looks parents up by the raw bytes).
  cert.setIssuer(issuerOf(caCert))
  cert.setExtensions([
    // RFC 5280 4.2.1.9: cA FALSE marks an end-entity certificate, so the key
    // cannot be used to mint further certificates that chain to our CA.
    { name: 'basicConstraints', cA: false },
    // RFC 5280 4.2.1.3 (SHOULD be critical). For an RSA TLS server key:
    // digitalSignature for (EC)DHE key exchange signatures and TLS 1.3
    // CertificateVerify; keyEncipherment for RSA key transport in TLS 1.2
    // (RFC 5246 7.4.2 / RFC 8446 4.4.2.2 list these usages).
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    // RFC 5280 4.2.1.12: restricts the key to TLS server authentication
    // (id-kp-serverAuth). Go checks extKeyUsage against ExtKeyUsageServerAuth
    // when verifying a server chain.
    { name: 'extKeyUsage', serverAuth: true },
    // RFC 5280 4.2.1.6: the identities. dNSName (type 2) and iPAddress
    // (type 7, 4 or 16 octets). This is what Go, OpenSSL and Node match the
    // host name against (RFC 6125 6.4); not critical because the subject is
    // non-empty.
    {
      name: 'subjectAltName',
      altNames: [
        ...settings.dnsNames.map((value) => ({ type: 2, value })),
        ...settings.ips.map((ip) => ({ type: 7, ip }))
      ]
    },
    // RFC 5280 4.2.1.1: MUST be present in certificates not self-signed, and
    // equal the issuing CA's subjectKeyIdentifier, so verifiers can pick the
    // right issuer key.
    { name: 'authorityKeyIdentifier', keyIdentifier: subjectKeyIdentifierBytes(caCert) },
    // RFC 5280 4.2.1.2: SHOULD be present in end-entity certificates.
    { name: 'subjectKeyIdentifier' }
  ])
  // sha256WithRSAEncryption (RFC 4055): SHA-1 signatures are refused by Go
  // since 1.18 and by OpenSSL at its default security level.
  cert.sign(caKey, md.sha256.create())
  return { cert: certificateToPem(cert), key: keys.privateKeyPem }
}

function messageOf (err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
