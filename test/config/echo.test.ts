/**
 * What a config error may quote of a value (src/config/echo.ts): only what
 * cannot be a credential. Table of values that must be quoted and values
 * that must be described, plus a property: nothing token-shaped is ever
 * quoted.
 */
import t from 'tap'
import fc from 'fast-check'
import { echo, whyNotShown, type ValueKind } from '../../src/config/echo.js'

const quoted: Array<[string, ValueKind]> = [
  ['ghcr-acme', 'secretName'],
  ['pullguard/ghcr-acme', 'secretRef'],
  ['team-b*', 'namespace'],
  ['[ab]-ci', 'namespace'],
  ['ghcr.io/acme', 'imagePrefix'],
  ['localhost:5000/x_y', 'imagePrefix'],
  ['https://*.azurecr.io', 'credentialKey'],
  ['registry.example:5000/path', 'credentialKey'],
  ['always', 'word'],
  ['app.kubernetes.io/name', 'label'],
  ['matchLabels', 'key'],
]

t.test('values that cannot be a credential are quoted as JSON', async (t) => {
  for (const [value, kind] of quoted) {
    t.equal(whyNotShown(value, kind), undefined, `${kind} ${value}`)
    t.equal(echo(value, kind), JSON.stringify(value))
  }
})

const described: Array<[string, ValueKind, string]> = [
  ['ghp_' + 'A1b2C3d4E5f6G7h8I9j0'.repeat(2), 'secretName', "longer than 32 characters; '_', uppercase letters; a run of 40 letters and digits"],
  ['robot:TOKEN@ghcr.io', 'credentialKey', "uppercase letters, '@'"],
  ['abcdefghijklmnopq', 'secretName', 'a run of 17 letters and digits'],
  ['has space', 'secretName', 'whitespace'],
  ['tab\there', 'word', 'whitespace'],
  ['ctl\u0001', 'word', 'control characters'],
  ['naïve', 'secretName', 'non-ASCII characters'],
  ['Always', 'key', undefined as unknown as string],
  ['a:x/b', 'imagePrefix', 'not of the form host[:port]/path'],
  ['1abc', 'key', 'not of the form a key'],
  ['ns/a/b', 'secretRef', undefined as unknown as string],
  ['http://x:*', 'credentialKey', undefined as unknown as string],
]

t.test('anything else is described: length and the character classes that ruled it out', async (t) => {
  for (const [value, kind, why] of described) {
    t.equal(whyNotShown(value, kind), why, `${kind} ${JSON.stringify(value)}`)
    const out = echo(value, kind)
    if (why === undefined) t.equal(out, JSON.stringify(value))
    else {
      t.equal(out, `(a value of ${value.length} characters, not shown: ${why})`)
      t.notMatch(out, value)
    }
  }
})

t.test('at most eight character classes are listed', async (t) => {
  t.equal(whyNotShown('!"#$%&\'()+,', 'word'), "'!', '\"', '#', '$', '%', '&', ''', '('")
})

t.test('non-strings: a short description, small integers and booleans as they are', async (t) => {
  const rows: Array<[unknown, string]> = [
    [true, 'true'], [false, 'false'], [null, 'null'], [42, '42'], [-7, '-7'], [999_999, '999999'],
    [1_000_000, '(a number, not shown)'], [1.5, '(a number, not shown)'], [Number.NaN, '(a number, not shown)'],
    [[1, 2, 3], '(a list of 3 items)'], [{ password: 'x' }, '(an object)'], [undefined, '(nothing)'],
  ]
  for (const [value, out] of rows) t.equal(echo(value), out, String(value))
  t.equal(echo('ghcr-acme'), '"ghcr-acme"', 'the default kind is a Secret name')
})

t.test('no quoted value holds a run of more than 16 letters and digits, or more than 32 characters', async () => {
  const kinds: ValueKind[] = ['secretName', 'secretRef', 'namespace', 'imagePrefix', 'credentialKey', 'word', 'label', 'key']
  fc.assert(fc.property(fc.string({ maxLength: 60 }), fc.constantFrom(...kinds), (value, kind) => {
    const out = echo(value, kind)
    if (out !== JSON.stringify(value)) return out.startsWith('(a value of ') && !out.includes(JSON.stringify(value))
    return value.length <= 32 && !/[A-Za-z0-9]{17}/.test(value)
  }), { numRuns: 2000 })
})
