/**
 * Which pull Secrets an image gets, and which it cannot get and why.
 * Order: configured entries first (most specific first), then discovered
 * Secrets (most specific first), no repeats.
 */
import type { RegistryEntry } from '../config/compile.js'
import type { DistributionView } from '../distribution/observation.js'
import { copyStatus, type CopyStatus } from '../distribution/plan.js'
import { describeSite } from './image-sites.js'
import type { SecretSource } from './outcome.js'
import type { JsonObject } from './pod.js'
import type { RequestContext, Resolution } from './resolve.js'

export type SecretProblem = 'missing' | 'malformed' | 'not-mountable'

export interface SecretChoice {
  readonly name: string
  readonly source: SecretSource
  readonly entry: RegistryEntry | undefined
  /** Set when the Secret must not be injected. */
  readonly problem: SecretProblem | undefined
  /** Injected although it does not exist yet (missingSecrets: inject). */
  readonly pending: boolean
  /** A Secret pullguard distributes into this namespace (config `from`): its copy's state. */
  readonly copy: CopyStatus | undefined
}

/**
 * The Secret names the pod's ServiceAccount allows, when it enforces
 * mountable secrets (ENFORCE_MOUNTABLE_ANNOTATION, cluster/types.ts): the
 * ServiceAccount admission plugin then rejects a pod whose imagePullSecrets
 * the account does not list, so injecting any other would block the pod.
 */
export function mountableSecrets (spec: JsonObject, ctx: RequestContext): { account: string, names: ReadonlySet<string> } | undefined {
  if (ctx.cluster === undefined) return undefined
  const account = serviceAccountName(spec)
  const info = ctx.cluster.serviceAccount(ctx.namespace, account)
  if (info?.enforceMountableSecrets !== true) return undefined
  return { account, names: new Set(info.imagePullSecrets) }
}

// The ServiceAccount admission plugin defaults serviceAccountName before
// webhooks run; `serviceAccount` is its deprecated alias.
function serviceAccountName (spec: JsonObject): string {
  for (const field of ['serviceAccountName', 'serviceAccount']) {
    const value = spec[field]
    if (typeof value === 'string' && value !== '') return value
  }
  return 'default'
}

export function secretChoices (r: Resolution, ctx: RequestContext, mountable: ReturnType<typeof mountableSecrets>): SecretChoice[] {
  if (!ctx.policy.inject) return []
  const out: SecretChoice[] = []
  const seen = new Set<string>()
  const choose = (name: string, source: SecretChoice['source'], entry: RegistryEntry | undefined): void => {
    if (seen.has(name)) return
    seen.add(name)
    const problem = problemOf(name, ctx, mountable)
    // missingSecrets: inject (the default): a configured Secret is referenced
    // before it exists. Pod imagePullSecrets are immutable, so a pod admitted
    // a moment before its Secret (GitOps apply order, namespace bootstrap)
    // would otherwise never get it; the kubelet looks the Secret up at every
    // pull attempt and skips a missing one with an event, so a name that
    // appears later self-heals. Discovery only ever finds Secrets that exist.
    const pending = problem === 'missing' && source === 'config' && ctx.config.missingSecrets === 'inject'
    const copy = source === 'config' ? copyOf(name, ctx) : undefined
    out.push({ name, source, entry, problem: pending ? undefined : problem, pending, copy })
  }
  for (const entry of r.entries) for (const name of entry.secrets) choose(name, 'config', entry)
  for (const info of r.discovered) choose(info.name, 'discovery', undefined)
  return out
}

const NOT_WATCHED: DistributionView = { observe: () => 'unknown' }

/** The copy's state when some entry distributes `name` into this namespace (without a cluster view: unknown). */
function copyOf (name: string, ctx: RequestContext): CopyStatus | undefined {
  const { distribution } = ctx.config
  if (!distribution.byName.has(name)) return undefined
  return copyStatus(distribution, ctx.cluster?.distribution ?? NOT_WATCHED, ctx.namespace, ctx.policy.labels, name)
}

function problemOf (name: string, ctx: RequestContext, mountable: ReturnType<typeof mountableSecrets>): SecretProblem | undefined {
  // First: a Secret the ServiceAccount does not list would make the API
  // server reject the pod, whether or not the Secret exists.
  if (mountable !== undefined && !mountable.names.has(name)) return 'not-mountable'
  if (ctx.cluster !== undefined) {
    const info = ctx.cluster.secret(ctx.namespace, name)
    if (info === undefined) return 'missing'
    if (info.malformed !== undefined) return 'malformed'
  }
  return undefined
}

/** Warning for a Secret referenced before it exists (missingSecrets: inject). */
export function warnPending (name: string, ctx: RequestContext): void {
  ctx.warnings.add('secret-pending', `pullguard: pull secret "${name}" does not exist in "${ctx.namespace}" yet; added: the kubelet uses it once it exists`)
}

/** One warning per Secret that cannot be injected (identical texts collapse in Warnings). */
export function warnProblem (choice: SecretChoice, ctx: RequestContext, mountable: ReturnType<typeof mountableSecrets>): void {
  const secret = `pull secret "${choice.name}"`
  switch (choice.problem) {
    case 'missing':
      ctx.warnings.add('secret-missing', `pullguard: ${secret} not found in namespace "${ctx.namespace}"; not added`)
      break
    case 'malformed':
      ctx.warnings.add('secret-malformed', `pullguard: ${secret} in "${ctx.namespace}" is not a valid docker config; not added`)
      break
    case 'not-mountable':
      ctx.warnings.add('secret-not-mountable', `pullguard: ${secret} not added: service account "${mountable?.account ?? ''}" does not list it`)
      break
  }
}

/**
 * Warning for a distributed Secret whose name is taken in the namespace by a
 * Secret pullguard does not manage: it is never overwritten, so the pod gets
 * whatever that Secret holds (the controller logs and counts it too).
 */
export function warnUnmanaged (choice: SecretChoice, ctx: RequestContext): void {
  if (choice.copy?.state !== 'unmanaged') return
  ctx.warnings.add('secret-unmanaged', `pullguard: Secret "${choice.name}" in "${ctx.namespace}" is not pullguard's copy; it is left as it is`)
}

/** Warning for a Secret a running pod would need but cannot get (imagePullSecrets is immutable). */
export function warnLacking (r: Resolution, name: string, ctx: RequestContext): void {
  ctx.warnings.add('secret-lacking-on-running-pod', `pullguard: ${describeSite(r.site)} needs pull secret "${name}", which the running pod lacks`)
}
