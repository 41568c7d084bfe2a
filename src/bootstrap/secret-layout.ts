/**
 * The bootstrap Secret's layout and content, shared by the plan (what it
 * should hold, plan.ts) and the store (how it is read and written,
 * secret-store.ts), so neither imports the other.
 *
 * Layout (type kubernetes.io/tls, so `kubectl` and other tools recognise the
 * serving pair):
 *   tls.crt, tls.key               the serving certificate and key
 *   ca.crt                         every CA the webhooks must trust, newest first
 *   ca-signing.crt, ca-signing.key the CA that signs serving certificates
 *   ca-next.crt, ca-next.key       the next CA, only in rotation phase trust-new
 *   annotations pullguard.dev/ca-rotation-phase, pullguard.dev/ca-rotation-since
 *   label app.kubernetes.io/managed-by: pullguard
 */

export const TLS_CERT = 'tls.crt'
export const TLS_KEY = 'tls.key'
export const CA_BUNDLE = 'ca.crt'
export const SIGNING_CERT = 'ca-signing.crt'
export const SIGNING_KEY = 'ca-signing.key'
export const NEXT_CERT = 'ca-next.crt'
export const NEXT_KEY = 'ca-next.key'
export const SECRET_KEYS = [TLS_CERT, TLS_KEY, CA_BUNDLE, SIGNING_CERT, SIGNING_KEY, NEXT_CERT, NEXT_KEY] as const
export const PHASE_ANNOTATION = 'pullguard.dev/ca-rotation-phase'
export const SINCE_ANNOTATION = 'pullguard.dev/ca-rotation-since'

export const SECRET_TYPE = 'kubernetes.io/tls'

export const PHASES = ['stable', 'trust-new', 'serve-new'] as const
export type RotationPhase = typeof PHASES[number]

export interface KeyPair { readonly cert: string, readonly key: string }

export interface SecretContent {
  readonly serving: KeyPair
  readonly signing: KeyPair
  /** The CA to sign with next; only in phase trust-new. */
  readonly next: KeyPair | undefined
  /** PEM certificates, newest first; joined, what caBundle must hold. */
  readonly bundle: readonly string[]
  readonly phase: RotationPhase
  readonly since: Date | undefined
}

/** The Secret as read: data values decoded to text, and its annotations. */
export interface RawSecret {
  readonly data: Readonly<Record<string, string | undefined>>
  readonly annotations: Readonly<Record<string, string | undefined>>
}

export function bundlePem (content: Pick<SecretContent, 'bundle'>): string {
  return content.bundle.join('')
}

/** The Secret's data (as text) and annotations for `content`. */
export function secretTexts (content: SecretContent): Record<string, string> {
  return {
    [TLS_CERT]: content.serving.cert,
    [TLS_KEY]: content.serving.key,
    [CA_BUNDLE]: content.bundle.join(''),
    [SIGNING_CERT]: content.signing.cert,
    [SIGNING_KEY]: content.signing.key,
    ...(content.next === undefined ? {} : { [NEXT_CERT]: content.next.cert, [NEXT_KEY]: content.next.key }),
  }
}

export function secretAnnotations (content: SecretContent): Record<string, string> {
  return {
    [PHASE_ANNOTATION]: content.phase,
    ...(content.since === undefined ? {} : { [SINCE_ANNOTATION]: content.since.toISOString() }),
  }
}

export function rawOf (content: SecretContent): RawSecret {
  return { data: secretTexts(content), annotations: secretAnnotations(content) }
}
