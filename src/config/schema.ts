/**
 * JSON Schema of the config file. It checks structure only (types, enums,
 * required and unknown keys); what a value means (a credential key, a Secret
 * name, a namespace glob) is checked by compile.ts, which can say why a value is
 * wrong in Kubernetes terms.
 */
import type { RawLabelSelector } from './label-selector.js'

export const ALWAYS_PULL_MODES = ['off', 'all', 'private'] as const
export type AlwaysPullMode = typeof ALWAYS_PULL_MODES[number]

export interface RawRegistryEntry {
  match: string
  secrets: string[]
  namespaces?: string[]
  namespaceSelector?: RawLabelSelector
}

export const MISSING_SECRETS_MODES = ['inject', 'skip'] as const
export type MissingSecretsMode = typeof MISSING_SECRETS_MODES[number]

export interface RawConfig {
  registries?: RawRegistryEntry[]
  alwaysPull?: AlwaysPullMode
  excludeNamespaces?: string[]
  discoverSecrets?: boolean
  publicImages?: string[]
  missingSecrets?: MissingSecretsMode
  annotatePods?: boolean
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
          secrets: { ...stringList, minItems: 1 },
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
  },
} as const
