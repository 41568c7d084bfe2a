/**
 * The config file's JSON Schema (src/config/schema.ts): structure only,
 * compiled here with the options config/parse.ts uses (Ajv strict mode,
 * so a schema typo is an error, not a keyword silently ignored).
 */
import { readFileSync } from 'node:fs'
import t from 'tap'
import { Ajv } from 'ajv'
import { parse } from 'yaml'
import { ALWAYS_PULL_MODES, configSchema, MISSING_SECRETS_MODES, ON_SOURCE_DELETED_MODES } from '../../src/config/schema.js'
import { fixture } from '../helpers/fixtures.js'

const validate = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true }).compile(configSchema)
const valid = (value: unknown): boolean => validate(value)

t.test('the real configs are valid', async (t) => {
  t.ok(valid(fixture('config.yaml')), 'test/fixtures/config.yaml')
  t.ok(valid(parse(readFileSync(new URL('../../manifests/example-config.yaml', import.meta.url), 'utf8'))), 'manifests/example-config.yaml')
  t.ok(valid({}), 'an empty config')
})

t.test('the modes are the documented ones', async (t) => {
  t.same([...ALWAYS_PULL_MODES], ['off', 'all', 'private'])
  t.same([...MISSING_SECRETS_MODES], ['inject', 'skip'])
  t.same([...ON_SOURCE_DELETED_MODES], ['keep', 'delete'])
})

const entry = { match: 'ghcr.io', secrets: ['a'] }
const rows: Array<[string, unknown, boolean]> = [
  ['a name or {name, from}', { registries: [{ match: 'ghcr.io', secrets: ['a', { name: 'b' }, { name: 'c', from: 'ns/c' }] }] }, true],
  ['namespaces and a selector', { registries: [{ ...entry, namespaces: ['a'], namespaceSelector: { matchLabels: { t: 'x' }, matchExpressions: [{ key: 'k', operator: 'In', values: ['v'] }] } }] }, true],
  ['every top-level key', { registries: [], alwaysPull: 'all', excludeNamespaces: ['x'], discoverSecrets: true, publicImages: ['docker.io/'], missingSecrets: 'skip', annotatePods: true, onSourceDeleted: 'delete' }, true],
  ['an unknown top-level key', { alwaysPul: 'all' }, false],
  ['an unknown entry key', { registries: [{ ...entry, namespace: ['a'] }] }, false],
  ['an entry without match', { registries: [{ secrets: ['a'] }] }, false],
  ['an empty match', { registries: [{ match: '', secrets: ['a'] }] }, false],
  ['an entry without secrets', { registries: [{ match: 'ghcr.io' }] }, false],
  ['an empty secrets list', { registries: [{ match: 'ghcr.io', secrets: [] }] }, false],
  ['secrets a string', { registries: [{ match: 'ghcr.io', secrets: 'a' }] }, false],
  ['a secret a number', { registries: [{ match: 'ghcr.io', secrets: [1] }] }, false],
  ['a secret object without name', { registries: [{ match: 'ghcr.io', secrets: [{ from: 'a/b' }] }] }, false],
  ['a secret object with another key', { registries: [{ match: 'ghcr.io', secrets: [{ name: 'a', form: 'a/b' }] }] }, false],
  ['an empty namespaces list', { registries: [{ ...entry, namespaces: [] }] }, false],
  ['a selector expression without operator', { registries: [{ ...entry, namespaceSelector: { matchExpressions: [{ key: 'k' }] } }] }, false],
  ['a selector with an unknown key', { registries: [{ ...entry, namespaceSelector: { matchLabel: {} } }] }, false],
  ['matchLabels values must be strings', { registries: [{ ...entry, namespaceSelector: { matchLabels: { t: true } } }] }, false],
  ['alwaysPull another word', { alwaysPull: 'always' }, false],
  ['missingSecrets another word', { missingSecrets: 'warn' }, false],
  ['onSourceDeleted another word', { onSourceDeleted: 'remove' }, false],
  ['discoverSecrets a string', { discoverSecrets: 'true' }, false],
  ['annotatePods a number', { annotatePods: 1 }, false],
  ['excludeNamespaces a string', { excludeNamespaces: 'kube-system' }, false],
  ['publicImages with a number', { publicImages: [1] }, false],
  ['not an object', [], false],
]

t.test('structure: types, enums, required and unknown keys', async (t) => {
  for (const [name, value, expected] of rows) t.equal(valid(value), expected, name)
})
