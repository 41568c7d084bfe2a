/**
 * JSON Schema of the config file. It checks structure only (types, enums,
 * required and unknown keys); what a value means (a credential key, a Secret
 * name, a namespace glob) is checked by compile.ts, which can say why a value is
 * wrong in Kubernetes terms.
 */
import type { RawLabelSelector } from './label-selector.js'

export const ALWAYS_PULL_MODES = ['off', 'all', 'private'] as const
export type AlwaysPullMode = typeof ALWAYS_PULL_MODES[number]

/**
 * A Secret of an entry: its name, or `{name, from}` for a Secret pullguard
 * keeps a copy of in every namespace the entry applies to (secret
 * distribution, src/kube/secret-distributor.ts); `from` is the source's
 * `namespace/name`.
 */
export type RawSecret = string | { name: string, from?: string }

export interface RawRegistryEntry {
  match: string
  secrets: RawSecret[]
  namespaces?: string[]
  namespaceSelector?: RawLabelSelector
}

export const MISSING_SECRETS_MODES = ['inject', 'skip'] as const
export type MissingSecretsMode = typeof MISSING_SECRETS_MODES[number]

/** What happens to the copies of a distributed Secret whose source is deleted. */
export const ON_SOURCE_DELETED_MODES = ['keep', 'delete'] as const
export type OnSourceDeletedMode = typeof ON_SOURCE_DELETED_MODES[number]

export interface RawConfig {
  registries?: RawRegistryEntry[]
  alwaysPull?: AlwaysPullMode
  excludeNamespaces?: string[]
  discoverSecrets?: boolean
  publicImages?: string[]
  missingSecrets?: MissingSecretsMode
  annotatePods?: boolean
  onSourceDeleted?: OnSourceDeletedMode
}

const labelSelector = {
  type: 'object',
  additionalProperties: false,
  properties: {
    matchLabels: { type: 'object', additionalProperties: { type: 'string' } },
    matchExpressions: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['key', 'operator'],
        properties: {
          key: { type: 'string', minLength: 1 },
          operator: { type: 'string' },
          values: { type: 'array', items: { type: 'string' } },
        },
      },
    },
  },
} as const

const stringList = {
  type: 'array',
  items: { type: 'string' },
} as const

export const configSchema = {
  $id: 'https://pullguard.dev/schemas/config.json',
  type: 'object',
  additionalProperties: false,
  properties: {
    registries: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['match', 'secrets'],
        properties: {
          match: { type: 'string', minLength: 1 },
          secrets: {
            type: 'array',
            minItems: 1,
            // A name, or {name, from}: object keywords apply to objects only.
            items: {
              type: ['string', 'object'],
              additionalProperties: false,
              required: ['name'],
              properties: { name: { type: 'string' }, from: { type: 'string' } },
            },
          },
          namespaces: { ...stringList, minItems: 1 },
          namespaceSelector: labelSelector,
        },
      },
    },
    alwaysPull: { enum: [...ALWAYS_PULL_MODES] },
    excludeNamespaces: stringList,
    discoverSecrets: { type: 'boolean' },
    publicImages: stringList,
    missingSecrets: { enum: [...MISSING_SECRETS_MODES] },
    annotatePods: { type: 'boolean' },
    onSourceDeleted: { enum: [...ON_SOURCE_DELETED_MODES] },
  },
} as const
