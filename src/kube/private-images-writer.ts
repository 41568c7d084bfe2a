/**
 * Keeps the ConfigMap pullguard-private-images current: the RE2 patterns of
 * every image pullguard treats as private (src/registry/
 * private-image-patterns.ts), the config's `alwaysPull` default and the
 * namespaces pullguard excludes (excluded-namespaces.ts), which the
 * ValidatingAdmissionPolicy pullguard-always-pull-private reads as its
 * params, so the API server keeps enforcing each namespace's `alwaysPull`
 * mode (its label, else that default) while pullguard is down. What it
 * says is computed in private-images-params.ts; this file decides when and
 * how it is written.
 *
 * One writer, elected through a Lease (leader-lease.ts), rather than every
 * replica writing with optimistic concurrency as the certificate bootstrap
 * does. Compare-and-write is enough when replicas compute the same content
 * (a certificate they only ever adopt); here they need not: during a config
 * rollout (the kubelet refreshes mounted ConfigMaps at different moments)
 * or while one replica's informers lag, two replicas would each find the
 * other's content wrong and overwrite it every round, flapping between a
 * looser and a stricter set. With a leader the content follows one view,
 * and a follower only takes over after the leader stops renewing.
 *
 * Each round (every retry period, 2 s as client-go): renew or try to take
 * the Lease; when leading, recompute the patterns if the config changed or
 * the resync interval (10 s, which also picks up pull Secret changes) has
 * passed, and read the ConfigMap when the content changed or at the resync
 * interval (a deleted or hand-edited ConfigMap is repaired). It is written
 * only when its content differs, with the resourceVersion it was read at
 * (create: 409 AlreadyExists, update: 409 Conflict; both re-read). Nothing
 * is written before the inputs are complete (the informers have listed every
 * pull Secret): a partial view would make fewer images private.
 *
 * Errors never stop pullguard or the loop: they are logged once each (a
 * missing RBAC rule names the Role to fix) and kept in status().
 */
import { randomUUID } from 'node:crypto'
import { hostname } from 'node:os'
import { CoordinationV1Api, CoreV1Api, type KubeConfig, type V1ConfigMap } from '@kubernetes/client-node'
import type { Logger } from 'pino'
import { PullguardError } from '../errors.js'
import type { PatternLimits, PatternPrecision } from '../registry/private-image-patterns.js'
import { apiErrorOf, type ApiErrorInfo } from './api-error.js'
import { LeaderLease } from './leader-lease.js'
import {
  configMapHolds, PRIVATE_IMAGES_NAME, privateImagesConfigMap, privateImagesParams, type Content, type PrivateImagesInputs,
} from './private-images-params.js'

const DEFAULT_RETRY_PERIOD_MS = 2_000
const DEFAULT_RESYNC_MS = 10_000
const JITTER = 0.2
const WRITE_ATTEMPTS = 3

export interface PrivateImagesWriterOptions {
  readonly kubeConfig: KubeConfig
  readonly namespace: string
  readonly name?: string
  /** Unique per replica; default hostname (the pod name) + '_' + a UUID, as client-go. */
  readonly identity?: string
  /** The inputs now; undefined while incomplete (informers not synced): nothing is written then. */
  readonly inputs: () => PrivateImagesInputs | undefined
  /** A value that changes when the inputs may have (the config object): recompute at once, not at the next resync. */
  readonly version?: () => unknown
  readonly log: Logger
  readonly limits?: PatternLimits
  readonly timings?: { retryPeriodMs?: number, resyncMs?: number, leaseDurationSeconds?: number, renewDeadlineMs?: number }
  readonly now?: () => Date
}

export interface PrivateImagesStatus {
  readonly leading: boolean
  /** The Lease holder as last seen (another replica when not leading). */
  readonly holder: string | undefined
  /** Why the last round failed; undefined when it did not. */
  readonly lastError: string | undefined
  readonly precision: PatternPrecision | undefined
  /** ConfigMap creates and updates by this replica. */
  readonly writes: number
}

export interface PrivateImagesWriter {
  /** One round now, after any running one (what the timer does); never rejects. */
  sync (): Promise<void>
  status (): PrivateImagesStatus
  /** Stops the timer and hands the Lease back. */
  stop (): Promise<void>
}

/** A failed write of the ConfigMap, worded for the operator from safe parts only (apiErrorOf). */
class WriterError extends PullguardError {
  constructor (message: string) {
    super('PG_PRIVATE_IMAGES_WRITE_FAILED', message)
    this.name = 'WriterError'
  }
}

export function startPrivateImagesWriter (options: PrivateImagesWriterOptions): PrivateImagesWriter {
  const name = options.name ?? PRIVATE_IMAGES_NAME
  const { namespace } = options
  const now = options.now ?? (() => new Date())
  const retryPeriodMs = options.timings?.retryPeriodMs ?? DEFAULT_RETRY_PERIOD_MS
  const resyncMs = options.timings?.resyncMs ?? DEFAULT_RESYNC_MS
  const log = options.log.child({ component: 'private-images', configMap: `${namespace}/${name}` })
  const core = options.kubeConfig.makeApiClient(CoreV1Api)
  const lease = new LeaderLease({
    api: options.kubeConfig.makeApiClient(CoordinationV1Api),
    namespace,
    name,
    identity: options.identity ?? `${hostname()}_${randomUUID()}`,
    leaseDurationSeconds: options.timings?.leaseDurationSeconds,
    renewDeadlineMs: options.timings?.renewDeadlineMs,
    now,
  })

  let content: Content | undefined
  let computedAt = 0
  let computedFor: unknown
  let verified: Content | undefined
  let verifiedAt = 0
  let leading = false
  let writes = 0
  let lastError: string | undefined
  let waiting = false
  let lastNotice = ''

  const fail = (message: string): void => {
    if (lastError !== message) log.error({ error: message }, 'cannot keep the private-image patterns current; the policy keeps the last ones written')
    lastError = message
  }

  const recompute = (at: number): Content | undefined => {
    const version = options.version?.()
    if (content !== undefined && version === computedFor && at - computedAt < resyncMs) return content
    const inputs = options.inputs()
    if (inputs === undefined) {
      if (!waiting) log.info('waiting for the informers to list every pull Secret before writing the private-image patterns')
      waiting = true
      return undefined
    }
    waiting = false
    const params = privateImagesParams(inputs, namespace, options.limits)
    const notice = `${params.precision}/${params.publicDropped}/${params.excludedDropped}`
    if (notice !== lastNotice && (params.precision !== 'keys' || params.publicDropped > 0)) {
      log.warn({ precision: params.precision, publicDropped: params.publicDropped, keys: inputs.keys.length },
        'private-image patterns coarsened to fit the CEL cost limit: the policy enforces Always on more images than pullguard does')
    }
    if (notice !== lastNotice && params.excludedDropped > 0) {
      log.warn({ excludedDropped: params.excludedDropped, excludeNamespaces: inputs.excludeNamespaces.length },
        'excludeNamespaces too long for the policy: it enforces alwaysPull in some namespaces pullguard excludes')
    }
    lastNotice = notice
    content = { data: params.data, precision: params.precision }
    computedAt = at
    computedFor = version
    return content
  }

  const round = async (): Promise<void> => {
    const step = await lease.step()
    // A failed renewal is reported even while the term lasts (until the renew deadline).
    const leaseError = !step.leading && step.error !== undefined ? failure('lease', 'get or update', namespace, name, step.error) : undefined
    const settle = (): void => { if (leaseError !== undefined) fail(leaseError); else lastError = undefined }
    const wasLeading = leading
    leading = lease.isLeader()
    if (leading !== wasLeading) log.info({ holder: lease.holder() }, leading ? 'leading: this replica writes the private-image patterns' : 'no longer leading')
    if (!leading) {
      verified = undefined
      return settle()
    }
    const at = now().getTime()
    const desired = recompute(at)
    if (desired !== undefined && (desired !== verified || at - verifiedAt >= resyncMs)) {
      await reconcile(desired)
      verified = desired
      verifiedAt = at
    }
    settle()
  }

  const reconcile = async (desired: Content): Promise<void> => {
    for (let attempt = 1; attempt <= WRITE_ATTEMPTS; attempt++) {
      let current: V1ConfigMap | undefined
      try {
        current = await core.readNamespacedConfigMap({ name, namespace })
      } catch (err) {
        const info = apiErrorOf(err)
        if (info.code !== 404) throw new WriterError(failure('configmap', 'get', namespace, name, info))
      }
      if (current !== undefined && configMapHolds(current, desired)) return
      try {
        if (current === undefined) await core.createNamespacedConfigMap({ namespace, body: privateImagesConfigMap(namespace, name, desired) })
        else await core.replaceNamespacedConfigMap({ name, namespace, body: privateImagesConfigMap(namespace, name, desired, current) })
        writes++
        const { private: privatePattern, public: publicPattern, alwaysPull, excludedNamespaces } = desired.data
        log.info({
          precision: desired.precision, privateChars: privatePattern?.length, publicChars: publicPattern?.length, alwaysPull, excludedChars: excludedNamespaces?.length,
        }, current === undefined ? 'private-image patterns created' : 'private-image patterns updated')
        return
      } catch (err) {
        const info = apiErrorOf(err)
        if (info.code !== 409) throw new WriterError(failure('configmap', current === undefined ? 'create' : 'update', namespace, name, info))
        log.debug({ attempt, reason: info.reason }, 'the ConfigMap changed while writing; re-reading')
      }
    }
    throw new WriterError(`ConfigMap ${namespace}/${name} kept changing while writing (${WRITE_ATTEMPTS} attempts)`)
  }

  let chain: Promise<void> = Promise.resolve()
  const sync = async (): Promise<void> => {
    const run = chain.then(async () => {
      try {
        await round()
      } catch (err) {
        fail(err instanceof WriterError ? err.message : apiErrorOf(err).message)
      }
    })
    chain = run
    await run
  }

  let stopped = false
  let timer: NodeJS.Timeout | undefined
  const schedule = (): void => {
    if (stopped) return
    timer = setTimeout(() => { void sync().then(schedule) }, Math.round(retryPeriodMs * (1 + Math.random() * JITTER)))
    timer.unref()
  }
  schedule()

  return {
    sync,
    status: () => ({ leading: lease.isLeader(), holder: lease.holder(), lastError, precision: content?.precision, writes }),
    stop: async () => {
      stopped = true
      clearTimeout(timer)
      await chain
      try {
        await lease.release()
      } catch {
        // The Lease then expires on its own.
      }
    },
  }
}

function failure (what: 'configmap' | 'lease', verb: string, namespace: string, name: string, info: ApiErrorInfo): string {
  const resource = what === 'configmap' ? 'configmaps' : 'leases.coordination.k8s.io'
  if (info.code === 403) {
    return `forbidden to ${verb} ${resource}/${name} in namespace ${namespace}: give pullguard's ServiceAccount get, update and create on it ` +
      `(Role pullguard-private-images, manifests/base/rbac.yaml): ${info.message}`
  }
  return `cannot ${verb} ${resource}/${name} in namespace ${namespace}: ${info.code === undefined ? '' : `${info.code} `}${info.message}`
}
