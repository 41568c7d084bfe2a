/**
 * What the bootstrap Secret should hold, decided from what it holds now.
 * No I/O: bootstrap.ts reads the Secret, asks planSecret(), and writes the
 * answer back with the resourceVersion it read (so of two replicas deciding
 * at once, one write wins and the other re-reads and re-decides).
 *
 * Invariants of a usable Secret:
 * - `ca-signing.*` is a CA that has not expired and `tls.*` is a serving pair
 *   it signed, for the Service's DNS names, not expired;
 * - `ca.crt` (what every webhook's caBundle must equal) holds exactly the CAs
 *   of the rotation phase, newest first, and always the signing CA.
 *
 * CA rotation (annotation pullguard.dev/ca-rotation-phase), so that no
 * handshake fails although the API server only learns a new caBundle some
 * time after it is written (its webhook-configuration informer, and in HA
 * every API server on its own):
 *   stable    ca.crt = [S]; serving signed by S.
 *             When S has less than renewBeforeFraction of its life left:
 *   trust-new ca.crt = [N, S]; N in `ca-next.*`; serving still signed by S,
 *             so clients holding either bundle accept it.
 *             After caOverlapMs, once this replica saw the webhook
 *             configurations hold [N, S]:
 *   serve-new ca.crt = [N, S]; N is now the signing CA and signs a new
 *             serving certificate; S's key is dropped. Every API server
 *             trusts N by now; replicas pick the new pair up on their next sync.
 *             After another caOverlapMs (longer than a sync interval, so every
 *             replica serves the N-signed pair), once confirmed again:
 *   stable    ca.crt = [N].
 * `pullguard.dev/ca-rotation-since` is when the phase began. If a replica
 * finds the webhook configurations behind the Secret in a rotation phase
 * (the writer died before patching them), the overlap starts again from
 * when it patched them (`restartOverlap`).
 */
import { X509Certificate, createPrivateKey } from 'node:crypto'
import { CA_COMMON_NAME, generateCertificateAuthority, generateServingCertificate } from '../tls/certs.js'
import { serviceDnsNames } from '../tls/names.js'
import { checkPair } from '../tls/serving-pair.js'
import { strictCertificateProblems } from '../tls/strict-der.js'
import {
  CA_BUNDLE, NEXT_CERT, NEXT_KEY, PHASE_ANNOTATION, PHASES, SIGNING_CERT, SIGNING_KEY, SINCE_ANNOTATION, TLS_CERT, TLS_KEY,
  type KeyPair, type RawSecret, type RotationPhase, type SecretContent,
} from './secret-layout.js'

export interface PlanSettings {
  readonly service: string
  readonly namespace: string
  readonly servingValidityDays: number
  readonly caValidityDays: number
  readonly renewBeforeFraction: number
  readonly caOverlapMs: number
}

export interface PlanContext {
  readonly now: Date
  /** The bundle this replica just saw every webhook configuration hold. */
  readonly confirmedBundle?: string | undefined
  /** The webhook configurations were behind: start the overlap again. */
  readonly restartOverlap?: boolean | undefined
}

/** No reasons: keep the Secret as it is. Reasons are fixed text, never key material. */
export interface Plan { readonly content: SecretContent, readonly reasons: readonly string[] }

interface Ca extends KeyPair { readonly x509: X509Certificate }

export function planSecret (raw: RawSecret | undefined, settings: PlanSettings, ctx: PlanContext): Plan {
  const { now } = ctx
  if (raw === undefined) return { content: freshContent(settings, now), reasons: ['there is no Secret yet'] }
  const signing = usableCa(raw.data[SIGNING_CERT], raw.data[SIGNING_KEY], now)
  if (typeof signing === 'string') {
    return { content: freshContent(settings, now), reasons: [`the signing CA is unusable (${signing}): a new CA replaces it`] }
  }
  const reasons: string[] = []
  const held = heldRotation(raw, signing, now, reasons)
  const ready = overlapConfirmed(held, settings, ctx)
  const { phase, signer, next, bundle, since, serving } = advanceRotation(held, ready, settings, ctx, reasons)
  const servingPair = serving ?? keptOrIssued(raw, signer, settings, now, reasons)
  return { content: { serving: servingPair, signing: pair(signer), next: next === undefined ? undefined : pair(next), bundle, phase, since }, reasons }
}

/** Where a rotation stands; `serving` is set when a step issued a new serving pair. */
interface Rotation {
  readonly phase: RotationPhase
  readonly signer: Ca
  readonly next: Ca | undefined
  readonly bundle: string[]
  readonly since: Date | undefined
  readonly serving?: KeyPair
}

/** The rotation the Secret records, with what is inconsistent in it repaired (and each repair a reason). */
function heldRotation (raw: RawSecret, signing: Ca, now: Date, reasons: string[]): Rotation {
  const { phase, next, fellBack } = heldPhase(raw, now, reasons)
  const since = heldSince(raw, phase, fellBack, now, reasons)
  const bundle = expectedBundle(phase, signing, next, certificatesIn(raw.data[CA_BUNDLE] ?? ''), now)
  if (bundle.join('') !== raw.data[CA_BUNDLE]) reasons.push('ca.crt does not hold exactly the CAs of the rotation phase')
  return { phase, signer: signing, next, bundle, since }
}

/** The recorded phase, back to stable when it is unknown or its next CA is unusable (`fellBack`). */
function heldPhase (raw: RawSecret, now: Date, reasons: string[]): { phase: RotationPhase, next: Ca | undefined, fellBack: boolean } {
  const written = raw.annotations[PHASE_ANNOTATION]
  let phase: RotationPhase = PHASES.find((p) => p === written) ?? 'stable'
  if (phase !== written) reasons.push(written === undefined ? 'the rotation phase is not recorded' : 'the rotation phase is unknown: stable')
  let next: Ca | undefined
  if (phase === 'trust-new') {
    const candidate = usableCa(raw.data[NEXT_CERT], raw.data[NEXT_KEY], now)
    if (typeof candidate === 'string') {
      reasons.push(`the next CA is unusable (${candidate}): back to stable, rotation starts again when due`)
      phase = 'stable'
    } else {
      next = candidate
    }
  }
  const fellBack = phase !== written
  if (!fellBack && next === undefined && (raw.data[NEXT_CERT] !== undefined || raw.data[NEXT_KEY] !== undefined)) reasons.push('a next CA is held outside phase trust-new')
  return { phase, next, fellBack }
}

/** When the phase began: none when stable, now when a rotation phase has no valid start time. */
function heldSince (raw: RawSecret, phase: RotationPhase, fellBack: boolean, now: Date, reasons: string[]): Date | undefined {
  let since = phase === 'stable' ? undefined : dateOf(raw.annotations[SINCE_ANNOTATION])
  if (phase !== 'stable' && since === undefined) {
    reasons.push('the rotation phase has no valid start time: the overlap starts now')
    since = now
  }
  if (!fellBack && phase === 'stable' && raw.annotations[SINCE_ANNOTATION] !== undefined) reasons.push('a rotation start time is held outside a rotation')
  return since
}

/** True when this replica saw every webhook configuration hold the bundle, and the phase has lasted the overlap. */
function overlapConfirmed (held: Rotation, settings: PlanSettings, ctx: PlanContext): boolean {
  const confirmed = ctx.confirmedBundle !== undefined && ctx.confirmedBundle === held.bundle.join('')
  const overlapDone = held.since !== undefined && ctx.now.getTime() - held.since.getTime() >= settings.caOverlapMs
  return confirmed && overlapDone
}

/** At most one step of the rotation (see the file comment); the held rotation when none is due. */
function advanceRotation (held: Rotation, ready: boolean, settings: PlanSettings, ctx: PlanContext, reasons: string[]): Rotation {
  const { now } = ctx
  const { phase, signer, next } = held
  if (phase === 'stable' && dueForRenewal(signer.x509, now, settings.renewBeforeFraction)) {
    const fresh = newCa(settings, now)
    reasons.push('the signing CA is due for rotation: phase trust-new (new CA trusted, not used yet)')
    return { phase: 'trust-new', signer, next: fresh, bundle: [fresh.cert, signer.cert], since: now }
  }
  if (ctx.restartOverlap === true && phase !== 'stable') {
    // Not a moment to advance: the API server has only just been told.
    reasons.push('the webhook configurations were behind the Secret: the overlap starts again')
    return { ...held, since: now }
  }
  if (phase === 'trust-new' && next !== undefined && ready) {
    const serving = issue(next, settings, now)
    reasons.push('the new CA has been trusted for the overlap: phase serve-new (it signs the serving certificate)')
    return { phase: 'serve-new', signer: next, next: undefined, bundle: held.bundle, since: now, serving }
  }
  if (phase === 'serve-new' && ready) {
    reasons.push('every replica serves the new CA\'s certificate by now: phase stable (the old CA is no longer trusted)')
    return { phase: 'stable', signer, next, bundle: [signer.cert], since: undefined }
  }
  return held
}

/** The serving pair the Secret holds if it is usable and not due for renewal; else a new one from `signer`. */
function keptOrIssued (raw: RawSecret, signer: Ca, settings: PlanSettings, now: Date, reasons: string[]): KeyPair {
  const held = { cert: raw.data[TLS_CERT] ?? '', key: raw.data[TLS_KEY] ?? '' }
  const leaf = usableServing(held, signer, settings, now)
  if (typeof leaf === 'string') {
    reasons.push(`the serving certificate is unusable (${leaf}): a new one is issued`)
    return issue(signer, settings, now)
  }
  if (dueForRenewal(leaf, now, settings.renewBeforeFraction)) {
    reasons.push('the serving certificate is due for renewal')
    return issue(signer, settings, now)
  }
  return held
}

/** True when less than `fraction` of the certificate's lifetime is left. */
function dueForRenewal (cert: X509Certificate, now: Date, fraction: number): boolean {
  const from = Date.parse(cert.validFrom)
  const to = Date.parse(cert.validTo)
  return to - now.getTime() < fraction * (to - from)
}

/** The certificates in a PEM text, each as canonical PEM (LF, one trailing newline); unparsable blocks are left out. */
export function certificatesIn (pem: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? []
  const out: X509Certificate[] = []
  for (const block of blocks) {
    try { out.push(new X509Certificate(block)) } catch { /* left out: the bundle is rewritten */ }
  }
  return out
}

function expectedBundle (phase: RotationPhase, signing: Ca, next: Ca | undefined, held: X509Certificate[], now: Date): string[] {
  if (phase === 'stable') return [signing.cert]
  if (phase === 'trust-new') return [next?.cert ?? '', signing.cert]
  // serve-new: the signing CA, then the CAs still trusted from before it,
  // which are only in ca.crt (their keys are gone).
  // Expired ones are useless, and so are ones the API server cannot parse.
  const older = held.filter((c) => c.fingerprint256 !== signing.x509.fingerprint256 && Date.parse(c.validTo) > now.getTime() &&
    rejectedByStrictParsers(c) === undefined)
  return [signing.cert, ...older.map((c) => c.toString())]
}

function freshContent (settings: PlanSettings, now: Date): SecretContent {
  const ca = newCa(settings, now)
  return { serving: issue(ca, settings, now), signing: pair(ca), next: undefined, bundle: [ca.cert], phase: 'stable', since: undefined }
}

function newCa (settings: PlanSettings, now: Date): Ca {
  // Distinct subjects (client-go names its self-signed CAs `host-ca@unixtime`),
  // so the two CAs trusted during a rotation never look alike to chain building.
  const generated = generateCertificateAuthority(
    { service: settings.service, namespace: settings.namespace, caValidityDays: settings.caValidityDays, now },
    `${CA_COMMON_NAME}@${Math.floor(now.getTime() / 1000)}`)
  const x509 = new X509Certificate(generated.cert)
  return { cert: x509.toString(), key: generated.key, x509 }
}

function issue (ca: Ca, settings: PlanSettings, now: Date): KeyPair {
  // dev: false: no localhost/loopback SANs on a certificate for the cluster.
  return generateServingCertificate(ca, {
    service: settings.service, namespace: settings.namespace, dev: false, validityDays: settings.servingValidityDays, now,
  })
}

function pair (ca: Ca): KeyPair {
  return { cert: ca.cert, key: ca.key }
}

function usableCa (certPem: string | undefined, keyPem: string | undefined, now: Date): Ca | string {
  if (certPem === undefined || keyPem === undefined) return 'missing'
  let x509: X509Certificate
  try { x509 = new X509Certificate(certPem) } catch { return 'not a PEM certificate' }
  if (!x509.ca) return 'not a CA certificate'
  // pullguard before 0.2 wrote the CA's name as a PrintableString holding
  // '@': Node reads it, the API server (Go) does not, so the webhook was
  // never called. Such a CA is useless to every client that matters: it is
  // replaced at once, with no trust-new overlap, since nothing trusts it.
  const strict = rejectedByStrictParsers(x509)
  if (strict !== undefined) return strict
  try {
    if (!x509.checkPrivateKey(createPrivateKey(keyPem))) return 'the key does not belong to the certificate'
  } catch {
    return 'not a usable PEM private key'
  }
  if (Date.parse(x509.validTo) <= now.getTime()) return `expired on ${new Date(x509.validTo).toISOString()}`
  return { cert: x509.toString(), key: keyPem, x509 }
}

function usableServing (candidate: KeyPair, signer: Ca, settings: PlanSettings, now: Date): X509Certificate | string {
  const leaf = checkPair(candidate, now)
  if (typeof leaf === 'string') return leaf
  const strict = rejectedByStrictParsers(leaf)
  if (strict !== undefined) return strict
  if (!leaf.checkIssued(signer.x509) || !leaf.verify(signer.x509.publicKey)) return 'not signed by the signing CA'
  const names = new Set((leaf.subjectAltName ?? '').split(', '))
  if (!serviceDnsNames(settings.service, settings.namespace).every((n) => names.has(`DNS:${n}`))) return 'not for the Service\'s DNS names'
  return leaf
}

/** Why Go's crypto/x509 (the API server) would refuse the certificate; fixed text, never a value. */
function rejectedByStrictParsers (x509: X509Certificate): string | undefined {
  const problems = strictCertificateProblems(x509.toString())
  return problems.length === 0 ? undefined : `rejected by strict X.509 parsers such as the API server's: ${problems.join('; ')}`
}

function dateOf (text: string | undefined): Date | undefined {
  if (text === undefined) return undefined
  const ms = Date.parse(text)
  return Number.isNaN(ms) ? undefined : new Date(ms)
}
