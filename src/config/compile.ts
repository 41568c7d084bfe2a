/**
 * RawConfig → Config: everything the admission hot path needs, prepared once.
 * Credential keys are parsed and their globs compiled into a Keyring, namespace
 * globs into matchers; the result is frozen. Every problem is collected so an
 * operator fixes the file in one go, each naming the field and its value.
 */
import { createReferenceParser, type ReferenceParser } from '../image/reference-cache.js'
import { parseCredentialKey, type CredentialKey } from '../registry/credential-key.js'
import { Keyring } from '../registry/keyring.js'
import { compileDistribution, parseSecretRef, type Distribution, type RawDistributed } from './distribution.js'
import { compileLabelSelector, type LabelMatcher, type Labels } from './label-selector.js'
import { compileNamespacePattern, secretNameProblem, type NamespaceMatcher } from './names.js'
import { configError, echo, readConfigText } from './parse.js'
import type { AlwaysPullMode, MissingSecretsMode, RawConfig, RawSecret } from './schema.js'

export interface RegistryEntry {
  /** Position in `registries`, for messages and bounded metric labels. */
  readonly index: number
  /** The `match` key as written. */
  readonly match: string
  readonly key: CredentialKey
  /** The Secret names, distributed ones included. */
  readonly secrets: readonly string[]
  /** Undefined: every namespace (unless a namespaceSelector is set). */
  readonly namespaces: readonly string[] | undefined
  readonly hasNamespaceSelector: boolean
  /**
   * Whether the entry applies in a namespace with these labels: with neither
   * `namespaces` nor `namespaceSelector` everywhere; otherwise where either
   * selects the namespace. Labels are known in cluster mode only.
   */
  readonly allows: (namespace: string, labels: Labels) => boolean
}

export interface Config {
  readonly registries: readonly RegistryEntry[]
  readonly keyring: Keyring<RegistryEntry>
  readonly alwaysPull: AlwaysPullMode
  /** As configured, plus the namespace pullguard runs in. */
  readonly excludeNamespaces: readonly string[]
  readonly isExcluded: NamespaceMatcher
  /** Also inject matching pull Secrets found in the pod's namespace (cluster mode). */
  readonly discoverSecrets: boolean
  /** parseImageReference, memoised for the life of this config. */
  readonly parseImage: ReferenceParser
  /**
   * Image-name prefixes never forced to Always in `private` mode (set only
   * here, by the platform team): the escape hatch for a host-wide key such
   * as index.docker.io that would make every image of a registry private.
   */
  readonly publicImages: readonly string[]
  /** `inject`: reference a configured Secret even before it exists in the namespace. */
  readonly missingSecrets: MissingSecretsMode
  /** Also record what was done in the pod annotation pullguard.dev/mutation. */
  readonly annotatePods: boolean
  /** The Secrets given with `from`, whose copies pullguard keeps (config/distribution.ts). */
  readonly distribution: Distribution
}

export interface ConfigOptions {
  /** Where the text came from, for messages. */
  readonly origin: string
  /** POD_NAMESPACE: pullguard never mutates its own namespace, so it cannot lock itself out. */
  readonly selfNamespace?: string | undefined
  /**
   * Whether this pullguard distributes Secrets (PULLGUARD_DISTRIBUTE_SECRETS):
   * false makes every `from` an error, since nothing would keep the copies;
   * undefined (the preview CLI, tests) does not check.
   */
  readonly distribution?: boolean | undefined
}

export function loadConfig (text: string, options: ConfigOptions): Config {
  const { raw, problems } = readConfigText(text, options.origin)
  return compileConfig(raw, options, problems)
}

/**
 * `schemaProblems`: what the schema found; those parts were removed from
 * `raw` (parse.ts), and everything left is still checked, so one run reports
 * every problem. Values are quoted only where they cannot be a credential.
 */
export function compileConfig (raw: RawConfig, options: ConfigOptions, schemaProblems: readonly string[] = []): Config {
  const problems: string[] = [...schemaProblems]
  const distributed: RawDistributed[] = []
  const registries = (raw.registries ?? []).map((entry, index): RegistryEntry | undefined => {
    const at = `registries[${index}]`
    // Absent only when the schema has already reported it.
    const parsed = typeof entry.match === 'string' ? parseCredentialKey(entry.match) : undefined
    if (parsed?.ok === false) problems.push(`${at}.match: credential key ${echo(entry.match, 'credentialKey')} ${parsed.reason}`)
    const names = secretNames(entry.secrets ?? [], index, options, problems, distributed)
    const byName = compilePatterns(entry.namespaces, `${at}.namespaces`, problems)
    const bySelector = entry.namespaceSelector === undefined
      ? undefined
      : compileLabelSelector(entry.namespaceSelector, `${at}.namespaceSelector`, problems)
    if (parsed?.ok !== true) return undefined
    return Object.freeze({
      index,
      match: entry.match,
      key: parsed.key,
      secrets: Object.freeze([...new Set(names)]),
      namespaces: entry.namespaces === undefined ? undefined : Object.freeze([...entry.namespaces]),
      hasNamespaceSelector: bySelector !== undefined,
      allows: combine(byName, bySelector),
    })
  })
  const publicImages = (raw.publicImages ?? []).filter((prefix, i) => {
    const problem = publicImageProblem(prefix)
    if (problem !== undefined) problems.push(`publicImages[${i}]: ${echo(prefix, 'imagePrefix')} ${problem}`)
    return problem === undefined
  })
  const isConfiguredExcluded = compilePatterns(raw.excludeNamespaces ?? [], 'excludeNamespaces', problems) ?? noNamespace
  const self = options.selfNamespace
  const isExcluded = (namespace: string): boolean => namespace === self || isConfiguredExcluded(namespace)
  const distribution = compileDistribution(distributed, registries, isExcluded, raw.onSourceDeleted ?? 'keep', problems)
  if (problems.length > 0) throw configError(options.origin, problems)

  const excluded = excludedNamespaces(raw.excludeNamespaces, self)
  const entries = registries.filter((e): e is RegistryEntry => e !== undefined)
  return Object.freeze({
    registries: Object.freeze(entries),
    keyring: new Keyring(entries.map((value) => ({ key: value.key, value }))),
    alwaysPull: raw.alwaysPull ?? 'off',
    excludeNamespaces: Object.freeze(excluded),
    isExcluded,
    discoverSecrets: raw.discoverSecrets ?? false,
    parseImage: createReferenceParser(),
    publicImages: Object.freeze(publicImages),
    missingSecrets: raw.missingSecrets ?? 'inject',
    annotatePods: raw.annotatePods ?? false,
    distribution,
  })
}

/** The configured exclusions, and pullguard's own namespace, which is always excluded. */
function excludedNamespaces (configured: readonly string[] | undefined, self: string | undefined): string[] {
  const excluded = [...(configured ?? [])]
  if (self !== undefined && self !== '' && !excluded.includes(self)) excluded.push(self)
  return excluded
}

/**
 * The names of an entry's Secrets; `{name, from}` items also go to
 * `distributed`. Items the schema rejected are holes or lack a name.
 */
function secretNames (items: readonly RawSecret[], entry: number, options: ConfigOptions, problems: string[], distributed: RawDistributed[]): string[] {
  const names: string[] = []
  items.forEach((item, i) => {
    const at = `registries[${entry}].secrets[${i}]`
    const name = typeof item === 'string' ? item : item?.name
    if (typeof name !== 'string') return
    const problem = secretNameProblem(name)
    if (problem !== undefined) problems.push(`${typeof item === 'string' ? at : `${at}.name`}: ${echo(name, 'secretName')} ${problem}`)
    else names.push(name)
    if (typeof item === 'string' || typeof item.from !== 'string') return
    if (options.distribution === false) {
      problems.push(`${at}.from: secret distribution is off: it needs cluster mode and PULLGUARD_DISTRIBUTE_SECRETS=true ` +
        '(the kustomize component manifests/components/secret-distribution)')
      return
    }
    const from = parseSecretRef(item.from)
    if (typeof from === 'string') problems.push(`${at}.from: ${echo(item.from, 'secretRef')} ${from}`)
    else if (problem === undefined) distributed.push({ name, from, at, entry })
  })
  return names
}

// A prefix of a normalised image name, as the runtime writes it: a registry
// host (lowercase, optional port), '/', then repository path characters.
// Matched against names like docker.io/library/nginx, so a prefix must name
// its registry: 'nginx' alone would never match anything.
const PUBLIC_PREFIX = /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]+)?\/[a-z0-9._/-]*$/

function publicImageProblem (prefix: string): string | undefined {
  if (!PUBLIC_PREFIX.test(prefix)) {
    return 'is not an image-name prefix: write it as the runtime names images, registry host first and lowercase, ' +
      'e.g. docker.io/library/ (not nginx, not index.docker.io/library/)'
  }
  if (prefix.startsWith('index.docker.io/')) return 'names Docker Hub as index.docker.io: image names use docker.io/, e.g. docker.io/library/'
  return undefined
}

function combine (byName: NamespaceMatcher | undefined, bySelector: LabelMatcher | undefined): RegistryEntry['allows'] {
  if (byName === undefined && bySelector === undefined) return () => true
  if (bySelector === undefined) return (namespace) => (byName as NamespaceMatcher)(namespace)
  if (byName === undefined) return (_namespace, labels) => bySelector(labels)
  return (namespace, labels) => byName(namespace) || bySelector(labels)
}

const noNamespace: NamespaceMatcher = () => false

function compilePatterns (patterns: readonly string[] | undefined, at: string, problems: string[]): NamespaceMatcher | undefined {
  if (patterns === undefined) return undefined
  const matchers: NamespaceMatcher[] = []
  patterns.forEach((pattern, i) => {
    const compiled = compileNamespacePattern(pattern)
    if (typeof compiled === 'string') problems.push(`${at}[${i}]: ${echo(pattern, 'namespace')} ${compiled}`)
    else matchers.push(compiled)
  })
  const exact = new Set(patterns)
  return (namespace) => exact.has(namespace) || matchers.some((m) => m(namespace))
}
