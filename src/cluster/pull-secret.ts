/**
 * Secret → PullSecretInfo. Reads the registry keys of a docker config the way
 * the kubelet does (pkg/credentialprovider/config.go: `.dockerconfigjson`
 * holds `{"auths": {KEY: ...}}`, the legacy `.dockercfg` holds `{KEY: ...}`)
 * and keeps nothing else: values (auth, username, password, identitytoken)
 * are never copied out of the parsed object, which is dropped on return.
 *
 * In a cluster of many Secrets most name the same few registries, so each
 * distinct key is parsed once and shared: the pool holds keys weakly, and a
 * key no Secret names any more is collected with its last Secret.
 */
import { parseCredentialKey, type CredentialKey } from '../registry/credential-key.js'
import { DOCKER_CFG, DOCKER_CONFIG_JSON, type PullSecretInfo, type PullSecretType } from './types.js'

interface SecretLike {
  metadata?: { namespace?: string, name?: string }
  type?: string
  data?: Record<string, string> | null
}

/** The two Secret types the kubelet reads pull credentials from (kubernetes.io/dockerconfigjson, kubernetes.io/dockercfg). */
export function isPullSecretType (type: unknown): type is PullSecretType {
  return type === DOCKER_CONFIG_JSON || type === DOCKER_CFG
}

export function summarizePullSecret (secret: SecretLike): PullSecretInfo | undefined {
  if (!isPullSecretType(secret.type)) return undefined
  const type = secret.type === DOCKER_CONFIG_JSON ? DOCKER_CONFIG_JSON : DOCKER_CFG // the constant, not a copy per Secret
  const namespace = secret.metadata?.namespace ?? ''
  const name = secret.metadata?.name ?? ''
  const keys = registryKeysIn(secret.data, type)
  if (typeof keys === 'string') return Object.freeze({ namespace, name, type, malformed: keys, keys: [] })
  return Object.freeze({ namespace, name, type, malformed: undefined, keys: Object.freeze(keys) })
}

/** The usable registry keys of the docker config, or why the Secret is malformed. */
function registryKeysIn (data: SecretLike['data'], type: PullSecretType): CredentialKey[] | string {
  const auths = authsIn(data, type)
  if (typeof auths === 'string') return auths
  const keys: CredentialKey[] = []
  for (const raw of Object.keys(auths)) {
    const key = pooledKey(raw)
    if (key !== undefined) keys.push(key)
  }
  return keys.length === 0 ? 'no usable registry key in its docker config' : keys
}

/** The object whose keys are the registries (config.go: `auths` of .dockerconfigjson, the whole .dockercfg), or why there is none. */
function authsIn (data: SecretLike['data'], type: PullSecretType): object | string {
  const field = type === DOCKER_CONFIG_JSON ? '.dockerconfigjson' : '.dockercfg'
  const encoded = data?.[field]
  if (typeof encoded !== 'string' || encoded === '') return `data["${field}"] is missing`
  let parsed: unknown
  try {
    parsed = JSON.parse(Buffer.from(encoded, 'base64').toString('utf8'))
  } catch {
    return `data["${field}"] is not base64-encoded JSON`
  }
  const auths = type === DOCKER_CONFIG_JSON ? (parsed as { auths?: unknown } | null)?.auths : parsed
  if (typeof auths !== 'object' || auths === null || Array.isArray(auths)) {
    return type === DOCKER_CONFIG_JSON ? `data["${field}"] has no "auths" object` : `data["${field}"] is not a JSON object`
  }
  return auths
}

const pool = new Map<string, WeakRef<CredentialKey>>()
const reaper = new FinalizationRegistry<string>((raw) => {
  if (pool.get(raw)?.deref() === undefined) pool.delete(raw)
})

/** The parsed key (unparsable keys are left out, as the kubelet does), shared by every Secret that names it. */
function pooledKey (raw: string): CredentialKey | undefined {
  const pooled = pool.get(raw)?.deref()
  if (pooled !== undefined) return pooled
  const parsed = parseCredentialKey(raw)
  if (!parsed.ok) return undefined
  pool.set(raw, new WeakRef(parsed.key))
  reaper.register(parsed.key, raw)
  return parsed.key
}
