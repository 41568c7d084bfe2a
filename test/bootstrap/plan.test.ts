/**
 * The bootstrap Secret's state machine (src/bootstrap/plan.ts), without I/O.
 */
import t from 'tap'
import { X509Certificate } from 'node:crypto'
import { certificatesIn, planSecret, type PlanContext, type PlanSettings } from '../../src/bootstrap/plan.js'
import { rawOf, type RawSecret, type SecretContent } from '../../src/bootstrap/secret-layout.js'
import { generateCertificateAuthority, generateServingCertificate } from '../../src/tls/certs.js'
import { serviceDnsNames } from '../../src/tls/names.js'
import { strictCertificateProblems } from '../../src/tls/strict-der.js'
import { legacyBootstrapCa, legacyServing } from '../helpers/legacy-ca.js'

const DAY = 24 * 3_600_000
const OVERLAP = 600_000
const settings: PlanSettings = { service: 'pullguard', namespace: 'pullguard', servingValidityDays: 10, caValidityDays: 30, renewBeforeFraction: 1 / 3, caOverlapMs: OVERLAP }
const T0 = new Date('2030-01-01T00:00:00Z')
const at = (ms: number): Date => new Date(T0.getTime() + ms)
const x509 = (pem: string): X509Certificate => new X509Certificate(pem)
const signedBy = (leaf: string, ca: string): boolean => x509(leaf).checkIssued(x509(ca)) && x509(leaf).verify(x509(ca).publicKey)
const plan = (raw: RawSecret | undefined, ctx: PlanContext): { content: SecretContent, reasons: readonly string[] } => planSecret(raw, settings, ctx)
const withAnnotations = (content: SecretContent, annotations: Record<string, string | undefined>): RawSecret => {
  const raw = rawOf(content)
  return { data: raw.data, annotations: { ...raw.annotations, ...annotations } }
}

const fresh = plan(undefined, { now: T0 }).content

t.test('no Secret: a new CA and a serving certificate it signed, phase stable', async (t) => {
  t.equal(fresh.phase, 'stable')
  t.equal(fresh.since, undefined)
  t.same(fresh.bundle, [fresh.signing.cert])
  t.ok(x509(fresh.signing.cert).ca)
  t.match(x509(fresh.signing.cert).subject, /^CN=pullguard-ca@\d+$/)
  t.ok(signedBy(fresh.serving.cert, fresh.signing.cert))
  t.same(plan(rawOf(fresh), { now: at(DAY) }).reasons, [], 'its own output is kept as it is')
})

t.test('the serving certificate is renewed when less than a third of its life is left', async (t) => {
  t.same(plan(rawOf(fresh), { now: at(6 * DAY) }).reasons, [])
  const renewed = plan(rawOf(fresh), { now: at(7 * DAY) })
  t.same(renewed.reasons, ['the serving certificate is due for renewal'])
  t.equal(renewed.content.signing.cert, fresh.signing.cert)
  t.not(renewed.content.serving.key, fresh.serving.key)
})

t.test('the full rotation', async (t) => {
  // The CA (30 days) is due with under 10 days left; the serving certificate
  // (10 days) has expired meanwhile and is re-issued on the way, by the OLD CA.
  const start = plan(rawOf(fresh), { now: at(21 * DAY) })
  const s1 = start.content
  t.equal(s1.phase, 'trust-new')
  t.same(s1.since, at(21 * DAY))
  t.ok(s1.next)
  const newCa = s1.next?.cert ?? ''
  t.same(s1.bundle, [newCa, fresh.signing.cert], 'new first, then old')
  t.equal(s1.signing.cert, fresh.signing.cert)
  t.ok(signedBy(s1.serving.cert, fresh.signing.cert), 'the serving certificate stays with the old CA')
  t.match(start.reasons, [/due for rotation/, /serving certificate is unusable \(the certificate expired/])

  const bundle = s1.bundle.join('')
  const raw1 = rawOf(s1)
  t.same(plan(raw1, { now: at(22 * DAY) }).reasons, [], 'no step without the bundle confirmed in the webhooks')
  t.same(plan(raw1, { now: at(21 * DAY + OVERLAP - 1), confirmedBundle: bundle }).reasons, [], 'no step before the overlap is over')
  t.same(plan(raw1, { now: at(22 * DAY), confirmedBundle: 'something else' }).reasons, [], 'a different bundle is no confirmation')

  const s2 = plan(raw1, { now: at(21 * DAY + OVERLAP), confirmedBundle: bundle }).content
  t.equal(s2.phase, 'serve-new')
  t.equal(s2.signing.cert, newCa)
  t.equal(s2.next, undefined)
  t.same(s2.bundle, [newCa, fresh.signing.cert], 'both CAs still trusted')
  t.ok(signedBy(s2.serving.cert, newCa))

  const raw2 = rawOf(s2)
  t.same(plan(raw2, { now: at(21 * DAY + 2 * OVERLAP - 1), confirmedBundle: bundle }).reasons, [])
  const s3 = plan(raw2, { now: at(21 * DAY + 2 * OVERLAP), confirmedBundle: bundle }).content
  t.equal(s3.phase, 'stable')
  t.same(s3.bundle, [newCa])
  t.equal(s3.since, undefined)
  t.equal(s3.serving.cert, s2.serving.cert)
  t.same(plan(rawOf(s3), { now: at(21 * DAY + 3 * OVERLAP), confirmedBundle: newCa }).reasons, [], 'done')
})

t.test('restartOverlap: the webhooks were behind, so the overlap starts again instead of a step', async (t) => {
  const s1 = plan(rawOf(fresh), { now: at(21 * DAY) }).content
  const later = at(22 * DAY)
  const restarted = plan(rawOf(s1), { now: later, confirmedBundle: s1.bundle.join(''), restartOverlap: true })
  t.equal(restarted.content.phase, 'trust-new')
  t.same(restarted.content.since, later)
  t.match(restarted.reasons, [/overlap starts again/])
})

t.test('in phase serve-new, expired older CAs are dropped from the bundle', async (t) => {
  const s1 = plan(rawOf(fresh), { now: at(21 * DAY) }).content
  const s2 = plan(rawOf(s1), { now: at(21 * DAY + OVERLAP), confirmedBundle: s1.bundle.join('') }).content
  const after = plan(rawOf(s2), { now: at(31 * DAY) }) // the old CA has expired
  t.same(certificatesIn(after.content.bundle.join('')).map((c) => c.fingerprint256), [x509(s2.signing.cert).fingerprint256])
  t.match(after.reasons, [/ca.crt does not hold exactly/])
})

t.test('inconsistent rotation state is repaired safely', async (t) => {
  const unknown = plan(withAnnotations(fresh, { 'pullguard.dev/ca-rotation-phase': 'dancing' }), { now: at(DAY) })
  t.equal(unknown.content.phase, 'stable')
  t.match(unknown.reasons, [/unknown/])
  t.equal(unknown.content.serving.cert, fresh.serving.cert, 'nothing else changes')

  const missing = plan(withAnnotations(fresh, { 'pullguard.dev/ca-rotation-phase': undefined }), { now: at(DAY) })
  t.match(missing.reasons, [/not recorded/])

  const s1 = plan(rawOf(fresh), { now: at(21 * DAY) }).content
  const raw = rawOf(s1)
  const broken = plan({ data: { ...raw.data, 'ca-next.key': 'nope' }, annotations: raw.annotations }, { now: at(21 * DAY + 1) })
  t.match(broken.reasons, [/next CA is unusable \(not a usable PEM private key\): back to stable/, /ca.crt does not hold/, /due for rotation/], 'an unusable next CA: back to stable, and the rotation starts again at once, being due')
  t.equal(broken.content.phase, 'trust-new')
  t.ok(broken.content.next)
  t.not(broken.content.next?.cert, s1.next?.cert, 'with a new next CA')
  t.same(broken.content.bundle, [broken.content.next?.cert, fresh.signing.cert])

  const noSince = plan(withAnnotations(s1, { 'pullguard.dev/ca-rotation-since': 'yesterday' }), { now: at(21 * DAY + 5) })
  t.same(noSince.content.since, at(21 * DAY + 5), 'an unreadable start time: the overlap starts now')
})

t.test('a serving certificate for another Service, or from another CA, is re-issued by the signing CA', async (t) => {
  const raw = rawOf(fresh)
  const renamed = generateServingCertificate(fresh.signing, { service: 'other', namespace: 'pullguard', dev: false, now: T0 })
  const foreignName = plan({ data: { ...raw.data, 'tls.crt': renamed.cert, 'tls.key': renamed.key }, annotations: raw.annotations }, { now: at(1) })
  t.match(foreignName.reasons, [/unusable \(not for the Service's DNS names\)/])
  t.ok(signedBy(foreignName.content.serving.cert, fresh.signing.cert))

  const other = planSecret(undefined, settings, { now: T0 }).content
  const foreignCa = plan({ data: { ...raw.data, 'tls.crt': other.serving.cert, 'tls.key': other.serving.key }, annotations: raw.annotations }, { now: at(1) })
  t.match(foreignCa.reasons, [/unusable \(not signed by the signing CA\)/])
  t.ok(signedBy(foreignCa.content.serving.cert, fresh.signing.cert))

  const ca = generateCertificateAuthority({ service: 'pullguard', namespace: 'pullguard', caValidityDays: 30, now: T0 }, 'test-ca')
  const wrongCa = plan({ data: { ...raw.data, 'ca-signing.crt': ca.cert }, annotations: raw.annotations }, { now: at(1) })
  t.match(wrongCa.reasons, [/signing CA is unusable \(the key does not belong/])
  t.not(wrongCa.content.signing.cert, fresh.signing.cert, 'a whole new CA')
})

t.test('a CA from before 0.2 (PrintableString name with @, refused by Go) is replaced at once, in any phase', async (t) => {
  const names = serviceDnsNames('pullguard', 'pullguard')
  const legacyCa = legacyBootstrapCa(T0, 30)
  const legacyLeaf = legacyServing(legacyCa, names, T0, 10)
  const legacy = { 'ca-signing.crt': legacyCa.cert, 'ca-signing.key': legacyCa.key, 'ca.crt': legacyCa.cert, 'tls.crt': legacyLeaf.cert, 'tls.key': legacyLeaf.key }
  const stable = plan({ data: legacy, annotations: { 'pullguard.dev/ca-rotation-phase': 'stable' } }, { now: at(DAY) })
  t.match(stable.reasons, [/signing CA is unusable \(rejected by strict X.509 parsers such as the API server's: issuer CN: a PrintableString .*\): a new CA replaces it/])
  t.equal(stable.content.phase, 'stable', 'no trust-new overlap: nothing could trust the old CA')
  t.same(stable.content.bundle, [stable.content.signing.cert], 'the old CA leaves ca.crt at once')
  for (const pem of [stable.content.signing.cert, stable.content.serving.cert]) t.same(strictCertificateProblems(pem), [])
  t.ok(signedBy(stable.content.serving.cert, stable.content.signing.cert))
  t.same(plan(rawOf(stable.content), { now: at(2 * DAY) }).reasons, [], 'and then it is kept')

  // Mid-rotation with a legacy next CA and a legacy CA only in ca.crt.
  const good = plan(undefined, { now: T0 }).content
  const legacyNext = legacyBootstrapCa(at(1), 30)
  const trustNew = plan({
    data: { ...rawOf(good).data, 'ca-next.crt': legacyNext.cert, 'ca-next.key': legacyNext.key, 'ca.crt': legacyNext.cert + good.signing.cert },
    annotations: { 'pullguard.dev/ca-rotation-phase': 'trust-new', 'pullguard.dev/ca-rotation-since': at(1).toISOString() },
  }, { now: at(DAY) })
  t.match(trustNew.reasons[0], /next CA is unusable \(rejected by strict X.509 parsers/)
  t.equal(trustNew.content.phase, 'stable')
  t.same(trustNew.content.bundle, [good.signing.cert])
  const serveNew = plan({
    data: { ...rawOf(good).data, 'ca.crt': good.signing.cert + legacyCa.cert },
    annotations: { 'pullguard.dev/ca-rotation-phase': 'serve-new', 'pullguard.dev/ca-rotation-since': at(1).toISOString() },
  }, { now: at(DAY) })
  t.same(serveNew.content.bundle, [good.signing.cert], 'an older CA that Go cannot parse is not kept in ca.crt')
})

t.test('a serving certificate Go cannot parse is re-issued by the signing CA', async (t) => {
  // A leaf whose issuer name is the legacy PrintableString, under a good CA: only the leaf goes.
  const legacyCa = legacyBootstrapCa(T0, 30)
  const leaf = legacyServing(legacyCa, serviceDnsNames('pullguard', 'pullguard'), T0, 10)
  const raw = rawOf(fresh)
  const replaced = plan({ data: { ...raw.data, 'tls.crt': leaf.cert, 'tls.key': leaf.key }, annotations: raw.annotations }, { now: at(1) })
  t.match(replaced.reasons, [/serving certificate is unusable/])
  t.equal(replaced.content.signing.cert, fresh.signing.cert)
  t.same(strictCertificateProblems(replaced.content.serving.cert), [])
})
