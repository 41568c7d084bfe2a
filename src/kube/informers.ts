/**
 * The informers that keep the ClusterView current: client-node ListWatch
 * over namespaces, pull Secrets (one field-selected watch per type: field
 * selectors cannot OR two values) and ServiceAccounts.
 *
 * client-node's ListWatch relists on 410 Gone by itself and re-watches from
 * its last resourceVersion when a watch ends, but stops for good on any other
 * error; we restart it with capped exponential backoff and jitter (as
 * client-go's reflector does), so an API server outage never ends the view.
 */
import { CoreV1Api, ListWatch, Watch, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node'
import type { Logger } from 'pino'
import { summarizePullSecret } from '../cluster/pull-secret.js'
import type { ClusterStore } from '../cluster/store.js'
import { summarizeNamespace, summarizeServiceAccount } from '../cluster/summaries.js'
import { DOCKER_CFG, DOCKER_CONFIG_JSON, type PullSecretInfo } from '../cluster/types.js'

export type InformedResource = 'namespaces' | 'secrets/dockerconfigjson' | 'secrets/dockercfg' | 'serviceaccounts'

export interface InformerStatus {
  readonly resource: InformedResource
  readonly synced: boolean
  readonly connected: boolean
  /** Seconds the view of this resource may have missed changes (0 while watching). */
  readonly stalenessSeconds: number
  /** When the view was last known current (now while watching); undefined before the first list. */
  readonly lastUpdated: number | undefined
  readonly restarts: number
}

export interface ClusterInformers {
  /** True once every informer has listed at least once. */
  synced (): boolean
  status (): InformerStatus[]
  stop (): Promise<void>
}

export interface InformerOptions {
  readonly kubeConfig: KubeConfig
  readonly store: ClusterStore
  readonly log: Logger
  readonly backoff?: { readonly initialMs: number, readonly maxMs: number }
  readonly now?: () => number
}

interface Target {
  readonly resource: InformedResource
  readonly path: string
  readonly fieldSelector?: string
  readonly list: () => Promise<{ items: KubernetesObject[], metadata?: { resourceVersion?: string } }>
  readonly upsert: (obj: KubernetesObject) => void
  readonly remove: (obj: KubernetesObject) => void
}

// The summary of a listed Secret, computed before its data is dropped.
const SUMMARY = Symbol('pullguard.summary')
type Summarized = KubernetesObject & { [SUMMARY]?: PullSecretInfo | undefined, data?: unknown, stringData?: unknown }

export function startClusterInformers (options: InformerOptions): ClusterInformers {
  const { kubeConfig, store, log } = options
  const now = options.now ?? Date.now
  const backoff = options.backoff ?? { initialMs: 500, maxMs: 30_000 }
  const core = kubeConfig.makeApiClient(CoreV1Api)

  const secretTarget = (type: string, resource: InformedResource): Target => {
    const fieldSelector = `type=${type}`
    return {
      resource,
      path: '/api/v1/secrets',
      fieldSelector,
      list: async () => {
        const list = await core.listSecretForAllNamespaces({ fieldSelector })
        for (const item of list.items as Summarized[]) forget(item, summarizePullSecret(item as never))
        return list
      },
      upsert: (obj) => {
        const item = obj as Summarized
        const info = item[SUMMARY] ?? summarizePullSecret(item as never)
        forget(item, info)
        if (info !== undefined) store.setSecret(info)
      },
      remove: (obj) => store.deleteSecret(obj.metadata?.namespace ?? '', obj.metadata?.name ?? ''),
    }
  }
  const targets: Target[] = [
    {
      resource: 'namespaces',
      path: '/api/v1/namespaces',
      list: async () => await core.listNamespace(),
      upsert: (obj) => store.setNamespace(summarizeNamespace(obj)),
      remove: (obj) => store.deleteNamespace(obj.metadata?.name ?? ''),
    },
    secretTarget(DOCKER_CONFIG_JSON, 'secrets/dockerconfigjson'),
    secretTarget(DOCKER_CFG, 'secrets/dockercfg'),
    {
      resource: 'serviceaccounts',
      path: '/api/v1/serviceaccounts',
      list: async () => await core.listServiceAccountForAllNamespaces(),
      upsert: (obj) => store.setServiceAccount(summarizeServiceAccount(obj as never)),
      remove: (obj) => store.deleteServiceAccount(obj.metadata?.namespace ?? '', obj.metadata?.name ?? ''),
    },
  ]
  const runners = targets.map((target) => run(target, kubeConfig, log.child({ informer: target.resource }), backoff, now))
  return {
    synced: () => runners.every((r) => r.status().synced),
    status: () => runners.map((r) => r.status()),
    stop: async () => { await Promise.all(runners.map(async (r) => await r.stop())) },
  }
}

/**
 * Drops the credentials from an object that client-node's cache keeps: only
 * the summary (registry keys) survives, on a non-enumerable symbol.
 */
function forget (item: Summarized, info: PullSecretInfo | undefined): void {
  Object.defineProperty(item, SUMMARY, { value: info, enumerable: false, configurable: true, writable: true })
  delete item.data
  delete item.stringData
}

/**
 * client-node's Watch tells nobody when a watch is established; a quiet
 * watch is as current as a busy one, so we need to know. Its watch() calls
 * `done` before returning when the request failed.
 */
class ObservedWatch extends Watch {
  constructor (config: KubeConfig, private readonly established: () => void) {
    super(config)
  }

  override async watch (path: string, query: Record<string, string | number | boolean | undefined>, callback: (phase: string, apiObj: any, watchObj?: any) => void, done: (err: any) => void): Promise<AbortController> {
    let ended = false
    const controller = await super.watch(path, query, callback, (err: unknown) => { ended = true; done(err) })
    if (!ended) this.established()
    return controller
  }
}

function run (target: Target, kubeConfig: KubeConfig, log: Logger, backoff: { initialMs: number, maxMs: number }, now: () => number) {
  let synced = false
  let connected = false
  let disconnectedAt = now()
  let restarts = 0
  let delay = backoff.initialMs
  let timer: NodeJS.Timeout | undefined
  let stopped = false

  const contact = (): void => {
    if (!connected) log.info({ restarts }, 'informer watching')
    connected = true
    delay = backoff.initialMs
  }
  const watch = new ObservedWatch(kubeConfig, () => contact())
  const informer = new ListWatch<KubernetesObject>(target.path, watch, async () => {
    const list = await target.list()
    synced = true
    contact()
    return list as never
  }, false, undefined, target.fieldSelector)
  informer.on('add', (obj) => { contact(); target.upsert(obj) })
  informer.on('update', (obj) => { contact(); target.upsert(obj) })
  informer.on('delete', (obj) => { contact(); target.remove(obj) })
  informer.on('error', (err: unknown) => {
    if (connected) disconnectedAt = now()
    connected = false
    if (stopped) return
    const wait = Math.round(delay * (0.8 + Math.random() * 0.4))
    // Never log the error object itself: client-node errors can carry the request, with its bearer token.
    log.warn({ retryInMs: wait, error: describe(err) }, 'informer lost the API server; retrying')
    delay = Math.min(delay * 2, backoff.maxMs)
    timer = setTimeout(() => { restarts++; void informer.start().catch(() => {}) }, wait)
    timer.unref()
  })
  void informer.start().catch(() => {})
  return {
    status: (): InformerStatus => {
      const at = now()
      return {
        resource: target.resource,
        synced,
        connected,
        stalenessSeconds: connected ? 0 : Math.max(0, (at - disconnectedAt) / 1000),
        lastUpdated: !synced ? undefined : (connected ? at : disconnectedAt),
        restarts,
      }
    },
    stop: async () => {
      stopped = true
      if (timer !== undefined) clearTimeout(timer)
      await informer.stop()
    },
  }
}

function describe (err: unknown): string {
  if (typeof err !== 'object' || err === null) return String(err)
  const e = err as { code?: unknown, statusCode?: unknown, message?: unknown }
  const status = e.statusCode ?? e.code
  const message = typeof e.message === 'string' ? e.message.split('\n')[0]?.slice(0, 200) : ''
  return `${status === undefined ? '' : `${String(status)} `}${message ?? ''}`.trim()
}
