/**
 * RFC 6901 JSON Pointer, the one owner of its escaping in pullguard: the
 * patches pullguard emits (admission/json-patch.ts), the preview that
 * applies them, and the config errors that turn Ajv's instancePath into a
 * YAML path all read and write pointers through these two functions.
 */

/** RFC 6901 §3: `~` is written `~0` and `/` is written `~1` inside a reference token. */
export function pointer (...tokens: ReadonlyArray<string | number>): string {
  let out = ''
  for (const token of tokens) out += '/' + (typeof token === 'number' ? String(token) : escapeToken(token))
  return out
}

function escapeToken (token: string): string {
  return token.includes('~') || token.includes('/') ? token.replace(/~/g, '~0').replace(/\//g, '~1') : token
}

/** RFC 6901 §4: split a pointer into unescaped tokens (`~1` before `~0`). */
export function parsePointer (path: string): string[] {
  if (path === '') return []
  if (!path.startsWith('/')) throw new Error(`JSON pointer ${JSON.stringify(path)} does not start with "/"`)
  return path.slice(1).split('/').map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'))
}
