/**
 * A one-off, read-only view of the cluster for `pullguard preview
 * --kubeconfig`: LIST calls only (no watch, nothing written), summarised at
 * once with the informers' own summarisers, so a pull Secret's credentials
 * are dropped as soon as its registry keys are read, exactly as in the
 * server. What is listed is what the decision reads:
 *
 * - namespaces: their labels (pullguard.dev/* labels, namespaceSelector);
 * - pull Secrets of both types, cluster-wide: existence and discovery in the
 *   pod's namespace, and for alwaysPull: private, whether a Secret of ANY
 *   namespace covers the image (src/cluster/store.ts `covering`);
 * - ServiceAccounts of the namespaces previewed (mountable secrets).
 *
 * The RBAC this needs is pullguard's own ClusterRole minus watch.
 */
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node'
import { summarizePullSecret } from '../cluster/pull-secret.js'
import { ClusterStore } from '../cluster/store.js'
import { summarizeNamespace, summarizeServiceAccount } from '../cluster/summaries.js'
import { PULL_SECRET_TYPES } from '../cluster/types.js'
import { PullguardError } from '../errors.js'

export interface Snapshot {
  readonly view: ClusterStore
  /** The API server's URL, for the report. */
  readonly server: string
  readonly counts: { readonly namespaces: number, readonly secrets: number, readonly serviceAccounts: number }
}

export interface SnapshotOptions {
  /** Namespaces whose ServiceAccounts are read. */
  readonly namespaces: readonly string[]
  /** Per request; a CI job must not hang on an unreachable API server. */
  readonly timeoutMs?: number
}

const DEFAULT_TIMEOUT_MS = 30_000

export async function takeSnapshot (kubeConfig: KubeConfig, options: SnapshotOptions): Promise<Snapshot> {
  const core = kubeConfig.makeApiClient(CoreV1Api)
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
  const view = new ClusterStore()
  const namespaces = await list('namespaces', timeoutMs, async () => await core.listNamespace())
  for (const ns of namespaces.items) view.setNamespace(summarizeNamespace(ns))
  for (const type of PULL_SECRET_TYPES) {
    const secrets = await list(`secrets of type ${type}`, timeoutMs, async () => await core.listSecretForAllNamespaces({ fieldSelector: `type=${type}` }))
    for (const secret of secrets.items) {
      const info = summarizePullSecret(secret as never)
      // Drop the credentials now: nothing below may see them.
      delete secret.data
      delete secret.stringData
      if (info !== undefined) view.setSecret(info)
    }
  }
  for (const namespace of [...new Set(options.namespaces)].sort()) {
    const accounts = await list(`serviceaccounts in ${namespace}`, timeoutMs, async () => await core.listNamespacedServiceAccount({ namespace }))
    for (const sa of accounts.items) view.setServiceAccount(summarizeServiceAccount(sa as never))
  }
  return { view, server: kubeConfig.getCurrentCluster()?.server ?? '', counts: view.counts() }
}

async function list<T> (what: string, timeoutMs: number, call: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new PullguardError('PG_CONFIG_UNREADABLE', `cannot list ${what}: no answer from the API server within ${timeoutMs / 1000} s`)), timeoutMs)
    timer.unref()
  })
  try {
    return await Promise.race([call(), timeout])
  } catch (err) {
    if (err instanceof PullguardError) throw err
    throw new PullguardError('PG_CONFIG_UNREADABLE', `cannot list ${what}: ${describe(err)}`)
  } finally {
    clearTimeout(timer)
  }
}

/**
 * client-node's ApiException carries the Status the API server sent (its
 * message names the verb, resource and user: what RBAC refused); never the
 * error object itself, which may carry the request and its bearer token.
 */
function describe (err: unknown): string {
  const e = (typeof err === 'object' && err !== null ? err : {}) as { code?: unknown, body?: unknown, message?: unknown }
  if (typeof e.code === 'number') {
    const status = statusOf(e.body)
    return `${e.code}${status.reason === undefined ? '' : ` ${status.reason}`}${status.message === undefined ? '' : `: ${status.message}`}`
  }
  const message = typeof e.message === 'string' ? e.message.split('\n')[0]?.slice(0, 200) ?? '' : String(err)
  return message
}

function statusOf (body: unknown): { reason?: string, message?: string } {
  let value = body
  if (typeof body === 'string') {
    try { value = JSON.parse(body) } catch { return {} }
  }
  if (typeof value !== 'object' || value === null) return {}
  const { reason, message } = value as { reason?: unknown, message?: unknown }
  return {
    ...(typeof reason === 'string' ? { reason } : {}),
    ...(typeof message === 'string' ? { message: message.slice(0, 300) } : {}),
  }
}
