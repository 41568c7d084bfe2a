import t from 'tap'
import { loadConfig } from '../../src/config/compile.js'
import { echo, whyNotShown } from '../../src/config/echo.js'
import { CREDENTIAL_VALUES, credentialLadenConfig, EXPECTED_PROBLEMS, SECRET_PARTS } from '../helpers/credential-config.js'

const problemsOf = (text: string): string => {
  try {
    loadConfig(text, { origin: 'config.yaml' })
  } catch (err) {
    t.equal((err as { code?: string }).code, 'PG_CONFIG_INVALID')
    return (err as Error).message
  }
  return ''
}

t.test('every problem at once: the schema\'s and the semantic checks\' together', async (t) => {
  const message = problemsOf([
    'registries:',
    '  - match: "reg.example.com:*"', // wildcard port (semantic)
    '    secrets: [ok, bad-]', // invalid Secret name (semantic)
    '  - match: ghcr.io',
    '    secrets: ghcr-pull', // not a list (schema)
    'alwaysPull: sometimes', // not a mode (schema)
    'excludeNamespace: [kube-system]', // unknown key (schema)
    '',
  ].join('\n'))
  const lines = message.split('\n').slice(1)
  t.same(lines, [
    '  - excludeNamespace: unknown key (allowed here: registries, alwaysPull, excludeNamespaces, discoverSecrets, publicImages, missingSecrets, annotatePods, onSourceDeleted)',
    '  - registries[1].secrets: must be array, got "ghcr-pull"',
    '  - alwaysPull: "sometimes" is not one of off, all, private',
    '  - registries[0].match: credential key "reg.example.com:*" has a wildcard in the port "*": wildcards are only supported in host labels',
    '  - registries[0].secrets[1]: "bad-" is not a valid Secret name (RFC 1123 subdomain: lowercase letters, digits, \'-\' and \'.\')',
  ])
})

t.test('a credential in every field: each is reported, none is echoed', async (t) => {
  const message = problemsOf(credentialLadenConfig())
  for (const expected of EXPECTED_PROBLEMS) t.match(message, expected)
  t.equal(message.split('\n').length - 1, EXPECTED_PROBLEMS.length, 'one line per problem, nothing else')
  t.notMatch(message, SECRET_PARTS, 'no part of any secret')
})

// Each credential-shaped value alone in each field (and as a key).
const fields: Array<[string, (v: string) => unknown]> = [
  ['registries[].match', (v) => ({ registries: [{ match: v, secrets: ['s'] }] })],
  ['registries[].secrets[]', (v) => ({ registries: [{ match: 'ghcr.io', secrets: [v] }] })],
  ['registries[].secrets (not a list)', (v) => ({ registries: [{ match: 'ghcr.io', secrets: v }] })],
  ['registries[].namespaces[]', (v) => ({ registries: [{ match: 'ghcr.io', secrets: ['s'], namespaces: [v] }] })],
  ['matchLabels key', (v) => ({ registries: [{ match: 'ghcr.io', secrets: ['s'], namespaceSelector: { matchLabels: { [v]: 1 } } }] })],
  ['matchExpressions operator', (v) => ({ registries: [{ match: 'ghcr.io', secrets: ['s'], namespaceSelector: { matchExpressions: [{ key: 'k', operator: v }] } }] })],
  ['alwaysPull', (v) => ({ alwaysPull: v })],
  ['missingSecrets', (v) => ({ missingSecrets: v })],
  ['discoverSecrets', (v) => ({ discoverSecrets: v })],
  ['excludeNamespaces[]', (v) => ({ excludeNamespaces: [v] })],
  ['publicImages[]', (v) => ({ publicImages: [v] })],
  ['an unknown top-level key', (v) => ({ [v]: true })],
  ['an unknown entry key', (v) => ({ registries: [{ match: 'ghcr.io', secrets: ['s'], [v]: true }] })],
  ['registries (not a list)', (v) => ({ registries: v })],
]
for (const [field, build] of fields) {
  t.test(`credential-shaped values in ${field} are never echoed`, async (t) => {
    for (const value of CREDENTIAL_VALUES) {
      const message = problemsOf(JSON.stringify(build(value)))
      // A 40-character hex string is a valid Secret and namespace name: then there is no message at all.
      if (message === '') continue
      t.notMatch(message, SECRET_PARTS, `${JSON.stringify(value).slice(0, 12)}…: not echoed`)
    }
  })
}

t.test('inside YAML that does not parse, the secret is not echoed either', async (t) => {
  for (const text of [`registries: [{match: ghcr.io, secrets: [${CREDENTIAL_VALUES[0] ?? ''}]\n`, `alwaysPull: "${CREDENTIAL_VALUES[0] ?? ''}\n`]) {
    t.notMatch(problemsOf(text), SECRET_PARTS)
  }
})

t.test('echo: what may be quoted, and how the rest is described', async (t) => {
  const table: Array<[unknown, Parameters<typeof echo>[1], string]> = [
    ['-bad', 'secretName', '"-bad"'],
    ['team-b*', 'namespace', '"team-b*"'],
    ['reg.example.com:*', 'credentialKey', '"reg.example.com:*"'],
    ['https://ghcr.io/acme', 'credentialKey', '"https://ghcr.io/acme"'],
    ['sometimes', 'word', '"sometimes"'],
    [false, 'word', 'false'],
    [42, 'word', '42'],
    [[1, 2], 'word', '(a list of 2 items)'],
    [{ a: 1 }, 'word', '(an object)'],
    ['Bad_Name', 'secretName', "(a value of 8 characters, not shown: uppercase letters, '_')"],
    ['user:pass', 'secretName', "(a value of 9 characters, not shown: ':')"],
    ['user:pass', 'credentialKey', '(a value of 9 characters, not shown: not of the form [https://]host[:port][/path])'],
    ['abcdefghijklmnopq', 'secretName', '(a value of 17 characters, not shown: a run of 17 letters and digits)'],
    ['a'.repeat(33), 'secretName', '(a value of 33 characters, not shown: longer than 32 characters; a run of 33 letters and digits)'],
    ['tab\there', 'word', '(a value of 8 characters, not shown: whitespace)'],
    ['naïve', 'word', '(a value of 5 characters, not shown: non-ASCII characters)'],
  ]
  for (const [value, kind, shown] of table) t.equal(echo(value, kind), shown, `${String(value)} as ${String(kind)}`)
  t.equal(whyNotShown('ghcr-acme', 'secretName'), undefined)
})
