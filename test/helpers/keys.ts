import { parseCredentialKey, type CredentialKey } from '../../src/registry/credential-key.js'

/** A credential key the test knows to be valid. */
export function mustParse (raw: string): CredentialKey {
  const parsed = parseCredentialKey(raw)
  if (!parsed.ok) throw new Error(`expected ${raw} to parse: ${parsed.error}`)
  return parsed.key
}
