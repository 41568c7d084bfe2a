/**
 * `--bootstrap-certs`: every replica gets or creates the CA and serving
 * certificate in one Secret, serves that pair, keeps pullguard's webhook
 * configurations trusting its CA bundle, renews the serving certificate and
 * rotates the CA with an overlap (plan.ts has the state machine).
 *
 * Replicas never talk to each other: they agree through the Secret. Every
 * write carries the resourceVersion it was decided on (secret-store.ts),
 * so when two replicas decide at once exactly one write lands and the other
 * re-reads and follows it. At start-up that means exactly one replica's
 * generated certificate is ever used: the loser of the create race serves
 * what the winner wrote.
 *
 * Each sync: settle the Secret (create, repair, renew, start a rotation),
 * make the webhook configurations hold its bundle, and only then consider
 * the rotation steps that need the bundle in place (settle again with it
 * confirmed). The served pair changes through setSecureContext(), which only
 * affects new handshakes; open keep-alive connections keep theirs.
 *
 * Key material is never logged, returned in errors or used as a metric label:
 * logs carry fingerprints, dates and phases only.
 */
import { X509Certificate } from 'node:crypto'
import { AdmissionregistrationV1Api, CoreV1Api, type KubeConfig } from '@kubernetes/client-node'
import type { Logger } from 'pino'
import type { Metrics } from '../metrics.js'
import { CertificateOptionsError, validateNamespace, validateServiceName } from '../tls/certs.js'
import type { TlsPair } from '../tls/server-options.js'
import { applyServingPair, RELOAD_REJECTED, type SecureContextTarget } from '../tls/serving-pair.js'
import { apiErrorOf } from '../kube/api-error.js'
import { BootstrapError, safeMessage } from './bootstrap-error.js'
import { ensureCaBundle } from './ca-bundle-patcher.js'
import { planSecret, type PlanSettings } from './plan.js'
import { bundlePem, rawOf, type SecretContent } from './secret-layout.js'
import { BootstrapSecretStore } from './secret-store.js'
import { repeatWithJitter, serialized } from './sync-schedule.js'

export interface BootstrapTimings {
  /** How often each replica re-reads the Secret (plus up to 20% jitter). Default 60 s. */
  syncIntervalMs?: number
  /** Default 90 (cert-manager's default duration): renewal is automatic, so short is cheap. */
  servingValidityDays?: number
  /** Default 1825 (5 years). */
  caValidityDays?: number
  /** Renew (or rotate, for the CA) when less than this share of the lifetime is left. Default 1/3. */
  renewBeforeFraction?: number
  /** How long each rotation phase lasts at least. Default 10 minutes. */
  caOverlapMs?: number
}

export interface BootstrapOptions {
  kubeConfig: KubeConfig
  namespace: string
  secretName: string
  service: string
  webhookConfigName: string
  log: Logger
  metrics?: Pick<Metrics, 'certificateReloads'>
  now?: () => Date
  timings?: BootstrapTimings
}

export interface BootstrapStatus {
  /** The served certificate has not expired (a failed sync or caBundle patch does not stop serving). */
  ready: boolean
  /** Why the last sync, caBundle patch or reload failed (fixed text and API Status messages only); undefined when all is well. */
  lastError: string | undefined
  /** CAs in the bundle the webhooks trust: 2 during a rotation. */
  caCount: number
  /** notAfter of the certificate the server presents. */
  servingNotAfter: Date
  /** notAfter of the CA that signs it; undefined before the first sync. */
  caNotAfter: Date | undefined
}

export interface CertificateBootstrap {
  /** What to pass to buildApp's tls. */
  readonly initial: TlsPair
  /** From then on, new pairs go to server.setSecureContext(serverTlsOptions(pair)). */
  attach (server: SecureContextTarget): void
  status (): BootstrapStatus
  /** One sync now, after any running one (what the timer does); never rejects. */
  sync (): Promise<void>
  stop (): Promise<void>
}

const DEFAULT_SYNC_INTERVAL_MS = 60_000
const DEFAULT_SERVING_VALIDITY_DAYS = 90
const DEFAULT_CA_VALIDITY_DAYS = 1825
const DEFAULT_RENEW_BEFORE_FRACTION = 1 / 3
const DEFAULT_CA_OVERLAP_MS = 10 * 60_000
const SETTLE_ATTEMPTS = 5
const BUNDLE_ROUNDS = 3

interface Settled { readonly content: SecretContent, readonly wrote: boolean }

/** What every step of a sync works with; fixed for the bootstrap's life. */
interface Context {
  readonly store: BootstrapSecretStore
  readonly admission: AdmissionregistrationV1Api
  readonly settings: PlanSettings
  readonly webhookConfigName: string
  /** namespace/name of the Secret, for messages. */
  readonly secret: string
  readonly log: Logger
  readonly metrics: Pick<Metrics, 'certificateReloads'> | undefined
  readonly now: () => Date
}

/** What a sync changes. */
interface State {
  /** The Secret's content as last settled. */
  latest: SecretContent | undefined
  /** The pair the server presents. */
  served: TlsPair | undefined
  target: SecureContextTarget | undefined
  readonly errors: { secret?: string | undefined, bundle?: string | undefined, reload?: string | undefined }
}

export async function startCertificateBootstrap (options: BootstrapOptions): Promise<CertificateBootstrap> {
  const settings = planSettings(options)
  const syncIntervalMs = positive(options.timings?.syncIntervalMs ?? DEFAULT_SYNC_INTERVAL_MS, 'syncIntervalMs')
  const log = options.log.child({ secret: `${options.namespace}/${options.secretName}` })
  if (settings.caOverlapMs < 2 * syncIntervalMs) {
    log.warn({ caOverlapMs: settings.caOverlapMs, syncIntervalMs }, 'caOverlapMs is under two sync intervals: a replica may still serve the old CA\'s certificate when it is dropped')
  }
  const ctx: Context = {
    store: new BootstrapSecretStore(options.kubeConfig.makeApiClient(CoreV1Api), options.namespace, options.secretName),
    admission: options.kubeConfig.makeApiClient(AdmissionregistrationV1Api),
    settings,
    webhookConfigName: options.webhookConfigName,
    secret: `${options.namespace}/${options.secretName}`,
    log,
    metrics: options.metrics,
    now: options.now ?? (() => new Date()),
  }
  const state: State = { latest: undefined, served: undefined, target: undefined, errors: {} }

  // Start-up: without a Secret there is nothing to serve, so failures throw.
  try {
    await syncOnce(ctx, state)
  } catch (err) {
    throw new BootstrapError(`certificate bootstrap failed: ${safeMessage(err)}`)
  }
  const first = state.latest
  if (first === undefined) throw new BootstrapError('certificate bootstrap failed: no certificate')
  const initial: TlsPair = first.serving
  state.served = initial
  log.info(describe(first), 'certificate bootstrap ready')

  const sync = serialized(async () => { await syncLogged(ctx, state) })
  const timer = repeatWithJitter(syncIntervalMs, sync)
  return {
    initial,
    attach: (server) => {
      if (typeof server.setSecureContext !== 'function') throw new TypeError('attach needs a TLS server (buildApp was called without tls)')
      state.target = server
      push(ctx, state)
    },
    status: () => statusOf(state, initial, ctx.now()),
    sync,
    stop: async () => {
      timer.stop()
      await sync.idle()
    },
  }
}

/**
 * One sync: settle the Secret, make the webhook configurations hold its
 * bundle, settle again with the bundle confirmed (the rotation steps that
 * need it), then serve what the Secret holds.
 */
async function syncOnce (ctx: Context, state: State): Promise<void> {
  let settled = await settle(ctx, state, undefined, false)
  state.latest = settled.content
  state.errors.secret = undefined
  for (let round = 0; round < BUNDLE_ROUNDS; round++) {
    const bundle = bundlePem(settled.content)
    const outcome = await ensureCaBundle(ctx.admission, ctx.webhookConfigName, bundle, ctx.log)
    if (!outcome.ok) {
      if (state.errors.bundle !== outcome.error) ctx.log.error({ error: outcome.error }, 'cannot update caBundle; serving continues')
      state.errors.bundle = outcome.error
      break
    }
    state.errors.bundle = undefined
    const behind = outcome.wrote && !settled.wrote && settled.content.phase !== 'stable'
    const next = await settle(ctx, state, bundle, behind)
    state.latest = next.content
    if (!next.wrote) break
    settled = next
  }
  push(ctx, state)
}

/** A sync after start-up: a failure is recorded and logged once, and the current certificate keeps serving. */
async function syncLogged (ctx: Context, state: State): Promise<void> {
  try {
    await syncOnce(ctx, state)
  } catch (err) {
    const message = safeMessage(err)
    if (state.errors.secret !== message) ctx.log.error({ error: message }, 'certificate sync failed; the current certificate keeps serving')
    state.errors.secret = message
  }
}

/**
 * Reads the Secret, asks the plan what it should hold, and writes that with
 * the resourceVersion it read; when another replica wrote first (409),
 * follows it by reading and deciding again.
 */
async function settle (ctx: Context, state: State, confirmedBundle: string | undefined, restartOverlap: boolean): Promise<Settled> {
  for (let attempt = 1; attempt <= SETTLE_ATTEMPTS; attempt++) {
    const read = await ctx.store.read().catch((err: unknown) => {
      throw new BootstrapError(`cannot read Secret ${ctx.secret}: ${apiErrorOf(err).message}`)
    })
    // Deleted under us: re-create it from what we hold (same CA), not a new CA.
    const raw = read?.raw ?? (state.latest === undefined ? undefined : rawOf(state.latest))
    const plan = planSecret(raw, ctx.settings, { now: ctx.now(), confirmedBundle, restartOverlap })
    if (read !== undefined && plan.reasons.length === 0) return { content: plan.content, wrote: false }
    try {
      const resourceVersion = read === undefined ? await ctx.store.create(plan.content) : await ctx.store.replace(read, plan.content)
      ctx.log.info({ reasons: plan.reasons, resourceVersion, ...describe(plan.content) }, read === undefined ? 'bootstrap Secret created' : 'bootstrap Secret updated')
      return { content: plan.content, wrote: true }
    } catch (err) {
      const info = apiErrorOf(err)
      if (info.code !== 409) throw new BootstrapError(`cannot ${read === undefined ? 'create' : 'update'} Secret ${ctx.secret}: ${info.message}`)
      // AlreadyExists or Conflict: another replica wrote first. Follow it.
      ctx.log.debug({ attempt, reason: info.reason }, 'another replica wrote the Secret first; re-reading')
    }
  }
  throw new BootstrapError(`Secret ${ctx.secret} kept changing under us (${SETTLE_ATTEMPTS} attempts)`)
}

/** Serves the Secret's pair when it differs from the one served (tls/serving-pair.ts checks it first). */
function push (ctx: Context, state: State): void {
  const { latest, served, target } = state
  if (latest === undefined || target === undefined) return
  const pair = latest.serving
  if (served !== undefined && served.cert === pair.cert && served.key === pair.key) return
  const error = applyServingPair(pair, { target, log: ctx.log, metrics: ctx.metrics, now: ctx.now(), fields: describeRotation(latest) })
  state.errors.reload = error === undefined ? undefined : `${RELOAD_REJECTED}: ${error}`
  if (error === undefined) state.served = pair
}

function statusOf (state: State, initial: TlsPair, now: Date): BootstrapStatus {
  const notAfter = notAfterOf((state.served ?? initial).cert)
  const { secret, bundle, reload } = state.errors
  const lastError = [secret, bundle, reload].filter((e) => e !== undefined).join('; ')
  return {
    ready: notAfter.getTime() > now.getTime(),
    lastError: lastError === '' ? undefined : lastError,
    caCount: state.latest?.bundle.length ?? 0,
    servingNotAfter: notAfter,
    caNotAfter: state.latest === undefined ? undefined : notAfterOf(state.latest.signing.cert),
  }
}

function planSettings (options: BootstrapOptions): PlanSettings {
  validateServiceName(options.service, 'service')
  validateNamespace(options.namespace, 'namespace')
  const t = options.timings ?? {}
  const servingValidityDays = t.servingValidityDays ?? DEFAULT_SERVING_VALIDITY_DAYS
  const caValidityDays = t.caValidityDays ?? DEFAULT_CA_VALIDITY_DAYS
  const renewBeforeFraction = t.renewBeforeFraction ?? DEFAULT_RENEW_BEFORE_FRACTION
  if (servingValidityDays > caValidityDays) throw new CertificateOptionsError(`servingValidityDays ${servingValidityDays} is longer than caValidityDays ${caValidityDays}`)
  if (!(renewBeforeFraction > 0 && renewBeforeFraction < 1)) throw new CertificateOptionsError(`renewBeforeFraction ${renewBeforeFraction} is not between 0 and 1`)
  return {
    service: options.service,
    namespace: options.namespace,
    servingValidityDays,
    caValidityDays,
    renewBeforeFraction,
    caOverlapMs: positive(t.caOverlapMs ?? DEFAULT_CA_OVERLAP_MS, 'caOverlapMs'),
  }
}

function positive (value: number, name: string): number {
  if (!Number.isFinite(value) || value <= 0) throw new CertificateOptionsError(`${name} ${value} is not a positive number`)
  return value
}

/** What may be logged about the Secret's content: public facts only. */
function describe (content: SecretContent): Record<string, unknown> {
  const serving = new X509Certificate(content.serving.cert)
  return { ...describeRotation(content), fingerprint256: serving.fingerprint256, validTo: serving.validTo }
}

function describeRotation (content: SecretContent): Record<string, unknown> {
  return {
    phase: content.phase,
    caCount: content.bundle.length,
    signingCa: new X509Certificate(content.signing.cert).subject.replace(/\n/g, ','),
  }
}

function notAfterOf (pem: string | Buffer): Date {
  return new Date(Date.parse(new X509Certificate(pem).validTo))
}
