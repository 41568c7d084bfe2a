/**
 * The decision: (request, config) → patch, denial, warnings. Pure, so the
 * webhook routes, /preview and the tests call the very same function.
 *
 * Enforcement follows the in-tree AlwaysPullImages admission plugin
 * (plugin/pkg/admission/alwayspullimages/admission.go): its point is that on a
 * multi-tenant node a cached private image must not start for a pod that has
 * no credential for it, so the kubelet has to ask the registry every time.
 * Where that plugin has holes we close them: it ignores the
 * pods/ephemeralcontainers subresource and image volumes.
 */
import type { Config } from '../config/compile.js'
import { describeSite, imageSites, policyFieldPath, type ImageSite } from './image-sites.js'
import { add, pointer, setMember, type PatchOperation } from './json-patch.js'
import { gate } from './gate.js'
import { skipped, type Denial, type ImageDecision, type Outcome, type SecretDecision } from './outcome.js'
import { listOf, pullSecretNames, type JsonObject } from './pod.js'
import type { AdmissionInput } from './request.js'
import { isCovered, neededSecrets, resolveSites, type Resolution } from './resolve.js'
import { Warnings } from './warnings.js'

const ALWAYS = 'Always'
const MAX_LISTED_VIOLATIONS = 5

/** The mutating webhook: add pull secrets and force Always on CREATE and on new ephemeral containers. */
export function mutate (input: AdmissionInput, config: Config): Outcome {
  const g = gate(input, config)
  if (g.skip !== undefined) return skipped(g.skip)
  const warnings = new Warnings()
  const spec = g.pod.spec
  if (g.kind === 'update') return checkUpdate(spec, g.oldPod?.spec ?? {}, config, g.namespace, warnings, 'mutate')

  // On CREATE every site is ours; on pods/ephemeralcontainers only the new ephemeral containers.
  const sites = g.kind === 'create' ? imageSites(spec) : newEphemeralSites(spec, g.oldPod?.spec ?? {})
  const resolutions = resolveSites(sites, config, g.namespace)
  const existing = pullSecretNames(spec)
  // PodSpec.imagePullSecrets is immutable once the pod exists: for a new
  // ephemeral container all we can do is say what is missing.
  const canAdd = g.kind === 'create'
  const adding: string[] = []
  const policyOps: PatchOperation[] = []
  const images = resolutions.map((r) => {
    warnInvalid(r, warnings)
    const secrets = neededSecrets(r).map(({ name, entry }): SecretDecision => {
      const present = existing.has(name)
      if (!present && !adding.includes(name)) {
        if (canAdd) adding.push(name)
        else warnings.add(`pullguard: ${describeSite(r.site)} needs pull secret "${name}", which this running pod lacks`)
      }
      return { name, entry: entry.index, match: entry.match, added: !present && canAdd }
    })
    const covered = isCovered(config.alwaysPull, r)
    const forced = covered && r.site.policy !== ALWAYS
    if (forced) policyOps.push(setMember(r.site.holder, r.site.holderPointer, r.site.policyField, ALWAYS))
    return decision(r, secrets, covered, forced ? ALWAYS : r.site.policy)
  })

  const patch = [...pullSecretOps(spec, adding), ...policyOps]
  return { allowed: true, denial: undefined, patch, warnings: warnings.list(), images, skipped: undefined, secretsAdded: adding, policiesForced: policyOps.length }
}

/**
 * The validating webhook: deny what the mutation should have prevented, in
 * case a later mutating webhook changed it back, or pullguard's mutating
 * webhook was skipped (failurePolicy: Ignore).
 */
export function validate (input: AdmissionInput, config: Config): Outcome {
  const g = gate(input, config)
  if (g.skip !== undefined) return skipped(g.skip)
  const spec = g.pod.spec
  const warnings = new Warnings()
  if (g.kind === 'update') return checkUpdate(spec, g.oldPod?.spec ?? {}, config, g.namespace, warnings, 'validate')
  const sites = g.kind === 'create' ? imageSites(spec) : newEphemeralSites(spec, g.oldPod?.spec ?? {})
  return enforce(resolveSites(sites, config, g.namespace), config, warnings, g.kind === 'create'
    ? 'every pulled image must be checked against its registry'
    : 'a new ephemeral container must pull its image with Always')
}

/**
 * UPDATE without subresource: imagePullPolicy and imagePullSecrets are immutable
 * on a pod, so nothing can be patched. As in the in-tree plugin, an update that
 * brings no image absent from oldObject passes; unlike it, only containers whose
 * image is new must be Always (an unchanged image pulls nothing).
 */
function checkUpdate (spec: JsonObject, oldSpec: JsonObject, config: Config, namespace: string, warnings: Warnings, mode: 'mutate' | 'validate'): Outcome {
  const oldImages = new Set(imageSites(oldSpec).map((s) => s.image))
  const sites = imageSites(spec).filter((s) => !oldImages.has(s.image))
  if (sites.length === 0) return skipped('no-new-images')
  const resolutions = resolveSites(sites, config, namespace)
  if (mode === 'mutate') {
    const present = pullSecretNames(spec)
    for (const r of resolutions) {
      for (const { name } of neededSecrets(r)) {
        if (!present.has(name)) warnings.add(`pullguard: ${describeSite(r.site)}: new image needs pull secret "${name}", which the pod lacks`)
      }
    }
  }
  return enforce(resolutions, config, warnings, 'a new image on a running pod must be pulled with Always; recreate the pod instead')
}

function enforce (resolutions: readonly Resolution[], config: Config, warnings: Warnings, why: string): Outcome {
  const violations: string[] = []
  const images = resolutions.map((r) => {
    warnInvalid(r, warnings)
    const covered = isCovered(config.alwaysPull, r)
    if (covered && r.site.policy !== ALWAYS) violations.push(unsupportedPolicy(r.site))
    return decision(r, [], covered, r.site.policy)
  })
  const denial = violations.length === 0 ? undefined : deny(violations, config, why)
  return { allowed: denial === undefined, denial, patch: [], warnings: warnings.list(), images, skipped: undefined, secretsAdded: [], policiesForced: 0 }
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

function warnInvalid (r: Resolution, warnings: Warnings): void {
  if (r.invalid !== undefined) warnings.add(`pullguard: ${describeSite(r.site)}: ${r.invalid}; no pull secret added`)
}

// The in-tree plugin's message: field.NotSupported(path, value, ["Always"]).
function unsupportedPolicy (site: ImageSite): string {
  return `${policyFieldPath(site)}: Unsupported value: ${JSON.stringify(site.policy ?? '')}: supported values: "Always"`
}

function deny (violations: readonly string[], config: Config, why: string): Denial {
  const listed = violations.slice(0, MAX_LISTED_VIOLATIONS)
  const more = violations.length - listed.length
  const tail = more > 0 ? `; and ${more} more` : ''
  return {
    code: 403,
    reason: 'Forbidden',
    message: `pullguard (alwaysPull: ${config.alwaysPull}): ${listed.join('; ')}${tail}. ${why}`,
  }
}

function decision (r: Resolution, secrets: readonly SecretDecision[], covered: boolean, after: unknown): ImageDecision {
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
    pullPolicy: { before: r.site.policy, after },
  }
}
