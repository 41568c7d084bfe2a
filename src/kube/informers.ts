/**
 * The informers that keep the ClusterView current: one reflector
 * (reflector.ts: paged list, watch with bookmarks, 410 → relist, backoff)
 * each over namespaces, pull Secrets (one field-selected watch per type:
 * field selectors cannot OR two values) and ServiceAccounts.
 *
 * Every object is reduced to its summary (cluster/summaries.ts,
 * cluster/pull-secret.ts) the moment it is parsed, and only the summary is
 * stored: no Secret data, no annotation (kubectl's last-applied-configuration
 * repeats the whole Secret, data included), no managedFields, ever reach the
 * store or stay reachable (test/kube/informers-memory.test.ts searches a heap
 * snapshot for them).
 */
import type { KubeConfig } from '@kubernetes/client-node'
import type { Logger } from 'pino'
import { summarizePullSecret } from '../cluster/pull-secret.js'
import type { ClusterStore } from '../cluster/store.js'
import { summarizeNamespace, summarizeServiceAccount } from '../cluster/summaries.js'
import { DOCKER_CFG, DOCKER_CONFIG_JSON, type PullSecretType } from '../cluster/types.js'
import { Reflector, type ReflectorSink, type Summary } from './reflector.js'
import { TimeSlicer } from './time-slicer.js'

/** What each informer lists and watches; also the `resource` label of the informer metrics. */
export const INFORMED_RESOURCES = ['namespaces', 'secrets/dockerconfigjson', 'secrets/dockercfg', 'serviceaccounts'] as const
export type InformedResource = typeof INFORMED_RESOURCES[number]

export interface InformerStatus {
  readonly resource: InformedResource
  readonly synced: boolean
  readonly connected: boolean
  /** Seconds the view of this resource may have missed changes (0 while watching). */
  readonly stalenessSeconds: number
  /** When the view was last known current (now while watching); undefined before the first list. */
  readonly lastUpdated: number | undefined
  /** Complete lists after the first: each one a 410 Gone (the watch could not resume). */
  readonly relists: number
  /** Watches started again from a resourceVersion (after timeoutSeconds, or a failure). */
  readonly watchRestarts: number
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
  /** Items per list page (default 500). */
  readonly pageSize?: number
  /** The watches' timeoutSeconds (default 300–600, jittered). */
  readonly watchTimeoutSeconds?: () => number
}

export function startClusterInformers (options: InformerOptions): ClusterInformers {
  const { kubeConfig, store, log } = options
  const now = options.now ?? Date.now
  const backoff = options.backoff ?? { initialMs: 500, maxMs: 30_000 }
  const slicer = new TimeSlicer()
  const reflect = <S extends Summary>(resource: InformedResource, path: string, sink: ReflectorSink<S>, fieldSelector?: string) => {
    const reflector = new Reflector<S>({
      kubeConfig,
      path,
      fieldSelector,
      sink,
      log: log.child({ informer: resource }),
      backoff,
      now,
      slicer,
      ...(options.pageSize === undefined ? {} : { pageSize: options.pageSize }),
      ...(options.watchTimeoutSeconds === undefined ? {} : { watchTimeoutSeconds: options.watchTimeoutSeconds }),
    })
    reflector.start()
    return { resource, reflector: reflector as Reflector<Summary> }
  }
  const secrets = (type: PullSecretType, resource: InformedResource) => reflect(resource, '/api/v1/secrets', {
    summarize: (obj) => summarizePullSecret(obj as never),
    set: (info) => store.setSecret(info),
    // A Secret deleted and made again with the other type may reach the other informer first.
    remove: (namespace, name) => { if (store.secret(namespace, name)?.type === type) store.deleteSecret(namespace, name) },
    held: function * () { for (const info of store.secretInfos()) if (info.type === type) yield info },
  }, `type=${type}`)
  const running = [
    reflect('namespaces', '/api/v1/namespaces', {
      summarize: (obj) => summarizeNamespace(obj as never),
      set: (info) => store.setNamespace(info),
      remove: (_, name) => store.deleteNamespace(name),
      held: () => store.namespaceInfos(),
    }),
    secrets(DOCKER_CONFIG_JSON, 'secrets/dockerconfigjson'),
    secrets(DOCKER_CFG, 'secrets/dockercfg'),
    reflect('serviceaccounts', '/api/v1/serviceaccounts', {
      summarize: (obj) => summarizeServiceAccount(obj as never),
      set: (info) => store.setServiceAccount(info),
      remove: (namespace, name) => store.deleteServiceAccount(namespace, name),
      held: () => store.serviceAccountInfos(),
    }),
  ]
  const status = (): InformerStatus[] => running.map(({ resource, reflector }) => {
    const s = reflector.status()
    const at = now()
    return {
      resource,
      synced: s.synced,
      connected: s.connected,
      stalenessSeconds: s.connected ? 0 : Math.max(0, (at - s.disconnectedAt) / 1000),
      lastUpdated: !s.synced ? undefined : (s.connected ? at : s.disconnectedAt),
      relists: s.relists,
      watchRestarts: s.watchRestarts,
    }
  })
  return {
    synced: () => running.every(({ reflector }) => reflector.status().synced),
    status,
    stop: async () => { await Promise.all(running.map(async ({ reflector }) => await reflector.stop())) },
  }
}
