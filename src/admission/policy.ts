/**
 * The decision: (request, config, cluster view) → patch, denial, warnings.
 * Pure, so the webhook routes, /preview and the tests call the very same
 * function.
 *
 * Enforcement follows the in-tree AlwaysPullImages admission plugin
 * (plugin/pkg/admission/alwayspullimages/admission.go): its point is that on a
 * multi-tenant node a cached private image must not start for a pod that has
 * no credential for it, so the kubelet has to ask the registry every time.
 * Where that plugin has holes we close them: it ignores the
 * pods/ephemeralcontainers subresource and image volumes.
 */
import type { ClusterView } from '../cluster/types.js'
import type { Config } from '../config/compile.js'
import { imageSites, policyFieldPath, type ImageSite } from './image-sites.js'
import { annotationOp, mutationSummary } from './audit.js'
import { add, setMember, type PatchOperation } from './json-patch.js'
import { gate } from './gate.js'
import { namespacePolicy } from './namespace-policy.js'
import { skipped, type Denial, type ForcedPolicy, type ImageDecision, type Outcome, type SecretDecision } from './outcome.js'
import { describeSite } from './image-sites.js'
import { listOf, pullSecretNames, type JsonObject } from './pod.js'
import type { AdmissionInput } from './request.js'
import { isCovered, resolveSites, type RequestContext, type Resolution } from './resolve.js'
import { mountableSecrets, secretChoices, warnLacking, warnPending, warnProblem, warnUnmanaged, type SecretChoice } from './secrets.js'
import { describeCoverage } from './coverage.js'
import { Warnings } from './warnings.js'
import { pointer } from '../text/json-pointer.js'

const ALWAYS = 'Always'
const MAX_LISTED_VIOLATIONS = 5

/** The mutating webhook: add pull secrets and force Always on CREATE and on new ephemeral containers. */
export function mutate (input: AdmissionInput, config: Config, cluster?: ClusterView): Outcome {
  const g = gate(input, config)
  if (g.skip !== undefined) return skipped(g.skip)
  const ctx = context(config, cluster, g.namespace)
  const spec = g.pod.spec
  if (g.kind === 'update') return checkUpdate(spec, g.oldPod?.spec ?? {}, ctx, true)

  // On CREATE every site is ours; on pods/ephemeralcontainers only the new
  // ephemeral containers, and PodSpec.imagePullSecrets is immutable by then:
  // all we can do about a missing secret is say so.
  const creating = g.kind === 'create'
  const sites = creating ? imageSites(spec) : newEphemeralSites(spec, g.oldPod?.spec ?? {})
  const existing = pullSecretNames(spec)
  const mountable = mountableSecrets(spec, ctx)
  const injected: Array<Pick<SecretDecision, 'name' | 'source' | 'entry'>> = []
  const forced: ForcedPolicy[] = []
  const policyOps: PatchOperation[] = []
  const images = resolveSites(sites, ctx).map((r) => {
    warnInvalid(r, ctx)
    const secrets = secretChoices(r, ctx, mountable).map((choice) => {
      const secret = secretDecision(choice, existing.has(choice.name), creating, r, ctx, mountable)
      if (secret.added && !injected.some((i) => i.name === choice.name)) injected.push({ name: choice.name, source: choice.source, entry: choice.entry?.index })
      return secret
    })
    const covered = isCovered(ctx.policy.alwaysPull, r)
    const force = covered && r.site.policy !== ALWAYS
    if (force) {
      policyOps.push(setMember(r.site.holder, r.site.holderPointer, r.site.policyField, ALWAYS))
      forced.push({ list: r.site.list, field: policyFieldPath(r.site) })
    }
    return decision(r, secrets, covered, force ? ALWAYS : r.site.policy, ctx)
  })
  const patch = [...pullSecretOps(spec, injected.map((i) => i.name)), ...policyOps]
  // Only with a change to record: pullguard's answer on its own output stays "no patch".
  if (config.annotatePods && patch.length > 0) patch.push(annotationOp(g.pod.raw, mutationSummary({ injected, forced })))
  return { allowed: true, denial: undefined, patch, warnings: ctx.warnings.list(), images, skipped: undefined, injected, forced, warningReasons: ctx.warnings.reasons() }
}

/**
 * The validating webhook: deny what the mutation should have prevented, in
 * case a later mutating webhook changed it back, or pullguard's mutating
 * webhook was skipped (failurePolicy: Ignore).
 */
export function validate (input: AdmissionInput, config: Config, cluster?: ClusterView): Outcome {
  const g = gate(input, config)
  if (g.skip !== undefined) return skipped(g.skip)
  const ctx = context(config, cluster, g.namespace)
  const spec = g.pod.spec
  if (g.kind === 'update') return checkUpdate(spec, g.oldPod?.spec ?? {}, ctx, false)
  const sites = g.kind === 'create' ? imageSites(spec) : newEphemeralSites(spec, g.oldPod?.spec ?? {})
  return enforce(resolveSites(sites, ctx), ctx, g.kind === 'create'
    ? 'every pulled image must be checked against its registry'
    : 'a new ephemeral container must pull its image with Always')
}

/**
 * One credential the kubelet would use for an image: already in
 * spec.imagePullSecrets (`present`), added, or not addable and why (on
 * pods/ephemeralcontainers PodSpec.imagePullSecrets is immutable). Warns
 * about it on the way, in the order the warnings are listed.
 */
function secretDecision (choice: SecretChoice, present: boolean, creating: boolean, r: Resolution, ctx: RequestContext, mountable: ReturnType<typeof mountableSecrets>): SecretDecision {
  const problem = present ? undefined : (choice.problem ?? (creating ? undefined : 'immutable'))
  if (!present && choice.problem !== undefined) warnProblem(choice, ctx, mountable)
  else if (problem === 'immutable') warnLacking(r, choice.name, ctx)
  const added = !present && problem === undefined
  if (added && choice.pending) warnPending(choice.name, ctx)
  if (!present) warnUnmanaged(choice, ctx)
  const copy = choice.copy === undefined ? {} : { copy: { from: choice.copy.from, state: choice.copy.state, exists: choice.copy.exists } }
  return { name: choice.name, source: choice.source, entry: choice.entry?.index, match: choice.entry?.match, added, problem, ...copy }
}

function context (config: Config, cluster: ClusterView | undefined, namespace: string): RequestContext {
  const warnings = new Warnings()
  return { config, cluster, namespace, policy: namespacePolicy(config, cluster, namespace, warnings), warnings }
}

/**
 * UPDATE without subresource: imagePullPolicy and imagePullSecrets are immutable
 * on a pod, so nothing can be patched. As in the in-tree plugin, an update that
 * brings no image absent from oldObject passes; unlike it, only containers whose
 * image is new must be Always (an unchanged image pulls nothing).
 */
function checkUpdate (spec: JsonObject, oldSpec: JsonObject, ctx: RequestContext, warnSecrets: boolean): Outcome {
  const oldImages = new Set(imageSites(oldSpec).map((s) => s.image))
  const sites = imageSites(spec).filter((s) => !oldImages.has(s.image))
  if (sites.length === 0) return skipped('no-new-images')
  const resolutions = resolveSites(sites, ctx)
  if (warnSecrets) {
    const present = pullSecretNames(spec)
    for (const r of resolutions) {
      for (const choice of secretChoices(r, ctx, undefined)) {
        if (!present.has(choice.name)) warnLacking(r, choice.name, ctx)
      }
    }
  }
  return enforce(resolutions, ctx, 'a new image on a running pod must be pulled with Always; recreate the pod instead')
}

function enforce (resolutions: readonly Resolution[], ctx: RequestContext, why: string): Outcome {
  const violations: string[] = []
  const images = resolutions.map((r) => {
    warnInvalid(r, ctx)
    const covered = isCovered(ctx.policy.alwaysPull, r)
    if (covered && r.site.policy !== ALWAYS) violations.push(unsupportedPolicy(r.site))
    return decision(r, [], covered, r.site.policy, ctx)
  })
  const denial = violations.length === 0 ? undefined : deny(violations, ctx, why)
  return { allowed: denial === undefined, denial, patch: [], warnings: ctx.warnings.list(), images, skipped: undefined, injected: [], forced: [], warningReasons: ctx.warnings.reasons() }
}

/** Ephemeral containers are identified by name and never removed (pods/ephemeralcontainers only appends). */
function newEphemeralSites (spec: JsonObject, oldSpec: JsonObject): ImageSite[] {
  const old = new Set(listOf(oldSpec, 'ephemeralContainers').map((c) => c.name))
  return imageSites(spec).filter((s) => s.list === 'ephemeralContainers' && !old.has(s.name))
}

/**
 * An absent, null or empty list gets one `add` of the whole list; otherwise each
 * name is appended with `/-` (RFC 6902 §4.1), so nothing already there (for
 * example from the ServiceAccount) is removed or reordered.
 */
function pullSecretOps (spec: JsonObject, names: readonly string[]): PatchOperation[] {
  if (names.length === 0) return []
  const current = spec.imagePullSecrets
  if (!Array.isArray(current) || current.length === 0) {
    return [add(pointer('spec', 'imagePullSecrets'), names.map((name) => ({ name })))]
  }
  return names.map((name) => add(pointer('spec', 'imagePullSecrets', '-'), { name }))
}

function warnInvalid (r: Resolution, ctx: RequestContext): void {
  if (r.invalid !== undefined) ctx.warnings.add('invalid-image', `pullguard: ${describeSite(r.site)}: ${r.invalid}; no pull secret added`)
  if (r.coverage?.private?.respelled === true) {
    ctx.warnings.add('registry-spelling', `pullguard: ${describeSite(r.site)}: registry host spelled with other case or :443; the kubelet will not use its credentials`)
  }
}

// The in-tree plugin's message: field.NotSupported(path, value, ["Always"]).
function unsupportedPolicy (site: ImageSite): string {
  return `${policyFieldPath(site)}: Unsupported value: ${JSON.stringify(site.policy ?? '')}: supported values: "Always"`
}

function deny (violations: readonly string[], ctx: RequestContext, why: string): Denial {
  const listed = violations.slice(0, MAX_LISTED_VIOLATIONS)
  const more = violations.length - listed.length
  const tail = more > 0 ? `; and ${more} more` : ''
  return {
    code: 403,
    reason: 'Forbidden',
    message: `pullguard (alwaysPull: ${ctx.policy.alwaysPull}): ${listed.join('; ')}${tail}. ${why}`,
  }
}

function decision (r: Resolution, secrets: readonly SecretDecision[], covered: boolean, after: unknown, ctx: RequestContext): ImageDecision {
  return {
    field: r.site.field,
    name: r.site.name,
    image: r.site.image,
    registryName: r.ref?.name,
    canonical: r.ref?.canonical,
    invalid: r.invalid,
    matched: r.entries.map((e) => ({ index: e.index, match: e.match })),
    secrets,
    covered,
    coveredBecause: r.coverage === undefined ? undefined : describeCoverage(r.coverage, ctx.namespace),
    pullPolicy: { before: r.site.policy, after },
  }
}
