/**
 * `--bootstrap-certs`: every replica gets or creates the CA and serving
 * certificate in one Secret, serves that pair, keeps pullguard's webhook
 * configurations trusting its CA bundle, renews the serving certificate and
 * rotates the CA with an overlap (bootstrap-plan.ts has the state machine).
 *
 * Replicas never talk to each other: they agree through the Secret. Every
 * write carries the resourceVersion it was decided on (bootstrap-secret.ts),
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
import { checkPair, type SecureContextTarget } from '../reload/cert-reloader.js'
import { BootstrapError, apiErrorOf, safeMessage } from './bootstrap-api-error.js'
import { bundlePem, planSecret, type PlanSettings, type SecretContent } from './bootstrap-plan.js'
import { BootstrapSecretStore, rawOf } from './bootstrap-secret.js'
import { ensureCaBundle } from './ca-bundle-patcher.js'
import { CertificateOptionsError, validateNamespace, validateServiceName } from './certs.js'
import { serverTlsOptions, type TlsPair } from './server-options.js'

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

export const DEFAULT_SYNC_INTERVAL_MS = 60_000
export const DEFAULT_SERVING_VALIDITY_DAYS = 90
export const DEFAULT_CA_VALIDITY_DAYS = 1825
export const DEFAULT_RENEW_BEFORE_FRACTION = 1 / 3
export const DEFAULT_CA_OVERLAP_MS = 10 * 60_000
// client-go's wait.JitterUntil adds up to maxFactor × period; replicas
// started together then drift apart instead of syncing in lockstep.
const JITTER = 0.2
const SETTLE_ATTEMPTS = 5
const BUNDLE_ROUNDS = 3

interface Settled { readonly content: SecretContent, readonly wrote: boolean }

export async function startCertificateBootstrap (options: BootstrapOptions): Promise<CertificateBootstrap> {
  const settings = planSettings(options)
  const syncIntervalMs = positive(options.timings?.syncIntervalMs ?? DEFAULT_SYNC_INTERVAL_MS, 'syncIntervalMs')
  const now = options.now ?? (() => new Date())
  const log = options.log.child({ secret: `${options.namespace}/${options.secretName}` })
  if (settings.caOverlapMs < 2 * syncIntervalMs) {
    log.warn({ caOverlapMs: settings.caOverlapMs, syncIntervalMs }, 'caOverlapMs is under two sync intervals: a replica may still serve the old CA\'s certificate when it is dropped')
  }
  const store = new BootstrapSecretStore(options.kubeConfig.makeApiClient(CoreV1Api), options.namespace, options.secretName)
  const admission = options.kubeConfig.makeApiClient(AdmissionregistrationV1Api)

  let latest: SecretContent | undefined
  let served: TlsPair | undefined
  let target: SecureContextTarget | undefined
  const errors: { secret?: string | undefined, bundle?: string | undefined, reload?: string | undefined } = {}

  const settle = async (confirmedBundle: string | undefined, restartOverlap: boolean): Promise<Settled> => {
    for (let attempt = 1; attempt <= SETTLE_ATTEMPTS; attempt++) {
      const read = await store.read().catch((err: unknown) => {
        throw new BootstrapError(`cannot read Secret ${options.namespace}/${options.secretName}: ${apiErrorOf(err).message}`)
      })
      // Deleted under us: re-create it from what we hold (same CA), not a new CA.
      const raw = read?.raw ?? (latest === undefined ? undefined : rawOf(latest))
      const plan = planSecret(raw, settings, { now: now(), confirmedBundle, restartOverlap })
      if (read !== undefined && plan.reasons.length === 0) return { content: plan.content, wrote: false }
      try {
        const resourceVersion = read === undefined ? await store.create(plan.content) : await store.replace(read, plan.content)
        log.info({ reasons: plan.reasons, resourceVersion, ...describe(plan.content) }, read === undefined ? 'bootstrap Secret created' : 'bootstrap Secret updated')
        return { content: plan.content, wrote: true }
      } catch (err) {
        const info = apiErrorOf(err)
        if (info.code !== 409) throw new BootstrapError(`cannot ${read === undefined ? 'create' : 'update'} Secret ${options.namespace}/${options.secretName}: ${info.message}`)
        // AlreadyExists or Conflict: another replica wrote first. Follow it.
        log.debug({ attempt, reason: info.reason }, 'another replica wrote the Secret first; re-reading')
      }
    }
    throw new BootstrapError(`Secret ${options.namespace}/${options.secretName} kept changing under us (${SETTLE_ATTEMPTS} attempts)`)
  }

  const push = (): void => {
    if (latest === undefined || target === undefined) return
    const pair = latest.serving
    if (served !== undefined && served.cert === pair.cert && served.key === pair.key) return
    const checked = checkPair(pair, now())
    let error = typeof checked === 'string' ? checked : undefined
    if (error === undefined) {
      try { target.setSecureContext(serverTlsOptions(pair)) } catch { error = 'the server refused the new certificate and key' }
    }
    if (error !== undefined) {
      errors.reload = `certificate reload rejected, the old certificate keeps serving: ${error}`
      options.metrics?.certificateReloads.inc('failure')
      log.error(errors.reload)
      return
    }
    served = pair
    errors.reload = undefined
    options.metrics?.certificateReloads.inc('success')
    log.info(describe(latest), 'serving certificate reloaded')
  }

  const syncOnce = async (): Promise<void> => {
    let settled = await settle(undefined, false)
    latest = settled.content
    errors.secret = undefined
    for (let round = 0; round < BUNDLE_ROUNDS; round++) {
      const bundle = bundlePem(settled.content)
      const outcome = await ensureCaBundle(admission, options.webhookConfigName, bundle, log)
      if (!outcome.ok) {
        if (errors.bundle !== outcome.error) log.error({ error: outcome.error }, 'cannot update caBundle; serving continues')
        errors.bundle = outcome.error
        break
      }
      errors.bundle = undefined
      const behind = outcome.wrote && !settled.wrote && settled.content.phase !== 'stable'
      const next = await settle(bundle, behind)
      latest = next.content
      if (!next.wrote) break
      settled = next
    }
    push()
  }

  let chain: Promise<void> = Promise.resolve()
  const sync = async (): Promise<void> => {
    const run = chain.then(async () => {
      try {
        await syncOnce()
      } catch (err) {
        const message = safeMessage(err)
        if (errors.secret !== message) log.error({ error: message }, 'certificate sync failed; the current certificate keeps serving')
        errors.secret = message
      }
    })
    chain = run
    await run
  }

  // Start-up: without a Secret there is nothing to serve, so failures throw.
  try {
    await syncOnce()
  } catch (err) {
    throw new BootstrapError(`certificate bootstrap failed: ${safeMessage(err)}`)
  }
  const first = latest as SecretContent | undefined
  if (first === undefined) throw new BootstrapError('certificate bootstrap failed: no certificate')
  const initial: TlsPair = first.serving
  served = initial
  log.info(describe(first), 'certificate bootstrap ready')

  let stopped = false
  let timer: NodeJS.Timeout | undefined
  const schedule = (): void => {
    if (stopped) return
    timer = setTimeout(() => { void sync().then(schedule) }, Math.round(syncIntervalMs * (1 + Math.random() * JITTER)))
    timer.unref()
  }
  schedule()

  return {
    initial,
    attach: (server) => {
      if (typeof server.setSecureContext !== 'function') throw new TypeError('attach needs a TLS server (buildApp was called without tls)')
      target = server
      push()
    },
    status: () => {
      const cert = new X509Certificate((served ?? initial).cert)
      const notAfter = new Date(Date.parse(cert.validTo))
      const lastError = [errors.secret, errors.bundle, errors.reload].filter((e) => e !== undefined).join('; ')
      return {
        ready: notAfter.getTime() > now().getTime(),
        lastError: lastError === '' ? undefined : lastError,
        caCount: latest?.bundle.length ?? 0,
        servingNotAfter: notAfter,
        caNotAfter: latest === undefined ? undefined : new Date(Date.parse(new X509Certificate(latest.signing.cert).validTo)),
      }
    },
    sync,
    stop: async () => {
      stopped = true
      clearTimeout(timer)
      await chain
    },
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
  return {
    phase: content.phase,
    caCount: content.bundle.length,
    signingCa: new X509Certificate(content.signing.cert).subject.replace(/\n/g, ','),
    fingerprint256: serving.fingerprint256,
    validTo: serving.validTo,
  }
}
