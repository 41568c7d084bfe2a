/**
 * Reads a certificate the way a strict X.509 parser does and lists what it
 * would refuse. The parser that matters is Go's crypto/x509: the API server
 * loads a webhook's `caBundle` with x509.CertPool.AppendCertsFromPEM, which
 * silently drops every certificate that x509.ParseCertificate rejects and
 * fails the webhook call when nothing is left ("unable to load root
 * certificates"). OpenSSL and Node are lenient where Go is not, so "Node can
 * read it" proves nothing about whether the API server can.
 *
 * What is checked is what pullguard's own certificates could get wrong, and
 * what Go's parser (crypto/x509/parser.go) refuses:
 * - every attribute value of the subject and issuer Names is a string type
 *   holding only characters its type allows (X.680 41.4: a PrintableString
 *   has A-Z a-z 0-9 space and '()+,-./:=? only; an IA5String is ASCII; a
 *   UTF8String is valid UTF-8). node-forge writes PrintableString by default
 *   whatever the value holds; an '@' in the CA's name broke every install
 *   that used --bootstrap-certs;
 * - the serial is a positive INTEGER of at most 20 octets (RFC 5280 4.1.2.2);
 * - validity times are UTCTime `YYMMDDHHMMSSZ` before 2050 and
 *   GeneralizedTime `YYYYMMDDHHMMSSZ` from 2050 (RFC 5280 4.1.2.5).
 * Messages are fixed text plus the attribute's short name: never a value.
 */
import forge from 'node-forge'

const { asn1 } = forge
const T = asn1.Type

// X.680 41.4 (Table 10): the PrintableString character set.
const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]*$/
const IA5 = /^\p{ASCII}*$/u
const UTC_TIME = /^\d{12}Z$/
const GENERALIZED_TIME = /^\d{14}Z$/
const MAX_SERIAL_OCTETS = 20

const SHORT_NAMES: Readonly<Record<string, string>> = {
  '2.5.4.3': 'CN', '2.5.4.6': 'C', '2.5.4.7': 'L', '2.5.4.8': 'ST', '2.5.4.10': 'O', '2.5.4.11': 'OU',
}

/** Logged (with the problems) when a serving certificate that Node accepts
 * would be refused by the API server: served anyway, since refusing it would
 * not help, but an operator must know why the webhook is never called. */
export const STRICT_PARSER_WARNING = 'the serving certificate would be refused by Go\'s crypto/x509, which the Kubernetes API server uses: ' +
  'the webhook will not be called (re-issue the certificate with `npm run certs`)'

/** The problems a strict DER parser finds in a PEM certificate; empty when none. */
export function strictCertificateProblems (pem: string): string[] {
  let der: forge.pem.ObjectPEM | undefined
  try { der = forge.pem.decode(pem).find((m) => m.type === 'CERTIFICATE') } catch { der = undefined }
  if (der === undefined) return ['no CERTIFICATE PEM block']
  let tbs: forge.asn1.Asn1[]
  try {
    // The options object is forge's documented form; @types/node-forge only
    // knows the old boolean `strict` argument.
    const options = { strict: true, parseAllBytes: true, decodeBitStrings: false } as unknown as boolean
    const cert = asn1.fromDer(der.body, options)
    tbs = childrenOf(childrenOf(cert)[0])
  } catch {
    return ['not DER-encoded']
  }
  // TBSCertificate: [0] version (explicit, optional), serial, signature,
  // issuer, validity, subject, ... (RFC 5280 4.1).
  const offset = tbs[0]?.tagClass === asn1.Class.CONTEXT_SPECIFIC ? 1 : 0
  return [
    ...serialProblems(tbs[offset]),
    ...nameProblems(tbs[offset + 2], 'issuer'),
    ...validityProblems(tbs[offset + 3]),
    ...nameProblems(tbs[offset + 4], 'subject'),
  ]
}

function childrenOf (node: forge.asn1.Asn1 | undefined): forge.asn1.Asn1[] {
  if (node === undefined || !Array.isArray(node.value)) throw new Error('not a constructed value')
  return node.value
}

function serialProblems (node: forge.asn1.Asn1 | undefined): string[] {
  if (node?.type !== T.INTEGER || typeof node.value !== 'string' || node.value.length === 0) return ['the serial number is not an INTEGER']
  const bytes = node.value
  const first = bytes.charCodeAt(0)
  if (first >= 0x80) return ['the serial number is negative']
  if (bytes.length > 1 && first === 0 && bytes.charCodeAt(1) < 0x80) return ['the serial number is not minimally encoded']
  if ([...bytes].every((octet) => octet === '\0')) return ['the serial number is zero']
  const octets = first === 0 ? bytes.length - 1 : bytes.length
  if (octets > MAX_SERIAL_OCTETS) return ['the serial number is longer than 20 octets']
  return []
}

function nameProblems (node: forge.asn1.Asn1 | undefined, field: string): string[] {
  const problems: string[] = []
  let rdns: forge.asn1.Asn1[]
  try { rdns = childrenOf(node) } catch { return [`the ${field} is not a Name`] }
  for (const rdn of rdns) {
    for (const atv of safeChildren(rdn)) {
      const [oid, value] = safeChildren(atv)
      const type = oid?.type === T.OID && typeof oid.value === 'string' ? asn1.derToOid(oid.value) : '?'
      const attr = SHORT_NAMES[type] ?? type
      const why = valueProblem(value)
      if (why !== undefined) problems.push(`${field} ${attr}: ${why}`)
    }
  }
  return problems
}

function safeChildren (node: forge.asn1.Asn1 | undefined): forge.asn1.Asn1[] {
  try { return childrenOf(node) } catch { return [] }
}

function valueProblem (value: forge.asn1.Asn1 | undefined): string | undefined {
  if (value === undefined || typeof value.value !== 'string') return 'not a string value'
  const bytes = value.value
  switch (value.type) {
    case T.PRINTABLESTRING:
      return PRINTABLE.test(bytes) ? undefined : 'a PrintableString holds a character that type does not allow'
    case T.IA5STRING:
      return IA5.test(bytes) ? undefined : 'an IA5String holds a non-ASCII byte'
    case T.UTF8:
      try {
        new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(bytes, 'binary'))
        return undefined
      } catch {
        return 'a UTF8String is not valid UTF-8'
      }
    default:
      // T61String, BMPString and friends: legal, but nothing pullguard writes.
      return `an unexpected string type (ASN.1 tag ${value.type})`
  }
}

function validityProblems (node: forge.asn1.Asn1 | undefined): string[] {
  let times: forge.asn1.Asn1[]
  try { times = childrenOf(node) } catch { return ['the validity is not a SEQUENCE'] }
  const problems: string[] = []
  for (const [i, time] of times.entries()) {
    const which = i === 0 ? 'notBefore' : 'notAfter'
    const text = typeof time.value === 'string' ? time.value : ''
    if (time.type === T.UTCTIME) {
      if (!UTC_TIME.test(text)) problems.push(`${which} is not a UTCTime of the form YYMMDDHHMMSSZ`)
    } else if (time.type === T.GENERALIZEDTIME) {
      if (!GENERALIZED_TIME.test(text)) problems.push(`${which} is not a GeneralizedTime of the form YYYYMMDDHHMMSSZ`)
      else if (Number(text.slice(0, 4)) < 2050) problems.push(`${which} is a GeneralizedTime before 2050 (RFC 5280 requires UTCTime)`)
    } else {
      problems.push(`${which} is not a time`)
    }
  }
  if (times.length !== 2) problems.push('the validity does not hold exactly two times')
  return problems
}
