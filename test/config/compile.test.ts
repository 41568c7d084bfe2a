import t from 'tap'
import { readFileSync } from 'node:fs'
import { loadConfig } from '../../src/config/compile.js'
import { fixtureText } from '../helpers/fixtures.js'

const load = (text: string, selfNamespace?: string) => loadConfig(text, { origin: 'config.yaml', selfNamespace })

t.test('the shipped example config and the test config load', async (t) => {
  const example = load(readFileSync(new URL('../../manifests/example-config.yaml', import.meta.url), 'utf8'))
  t.equal(example.alwaysPull, 'private')
  t.ok(example.registries.length >= 4)
  t.ok(Object.isFrozen(example) && Object.isFrozen(example.registries) && Object.isFrozen(example.registries[0]))
  t.equal(load(fixtureText('config.yaml')).keyring.size, 4)
})

t.test('alwaysPull: off stays the string "off" (YAML 1.2 core schema)', async (t) => {
  for (const mode of ['off', 'all', 'private']) t.equal(load(`alwaysPull: ${mode}\n`).alwaysPull, mode)
  t.equal(load('{}').alwaysPull, 'off', 'default')
  t.equal(load('{"alwaysPull": "all"}').alwaysPull, 'all', 'JSON works too')
})

t.test('namespaces: names and globs; excluded namespaces include POD_NAMESPACE', async (t) => {
  const config = load('registries: [{match: ghcr.io, secrets: [s], namespaces: [team-a, "team-b*", "dev-?"]}]\nexcludeNamespaces: [kube-system, "sandbox-*"]\n', 'pullguard')
  const allows = (ns: string) => config.registries[0]!.allows(ns, {})
  t.same(['team-a', 'team-b', 'team-b-prod', 'dev-1', 'dev-12', 'team-c', 'team-ab'].map(allows), [true, true, true, true, false, false, false])
  t.same(['kube-system', 'sandbox-x', 'pullguard', 'default'].map(config.isExcluded), [true, true, true, false])
  t.same(config.excludeNamespaces, ['kube-system', 'sandbox-*', 'pullguard'])
})

const bad: Array<[string, string, RegExp[]]> = [
  ['unknown top-level key', 'registries: []\nalwaysPul: all\n', [/alwaysPul: unknown key/]],
  ['unknown entry key', 'registries: [{match: ghcr.io, secrets: [s], secret: x}]\n', [/registries\[0\]\.secret: unknown key \(allowed here: match, secrets, namespaces, namespaceSelector\)/]],
  ['unknown mode', 'alwaysPull: sometimes\n', [/alwaysPull: "sometimes" is not one of off, all, private/]],
  ['YAML 1.1 boolean for the mode', 'alwaysPull: false\n', [/alwaysPull: false is not one of off, all, private/]],
  ['empty match', 'registries: [{match: "", secrets: [s]}]\n', [/registries\[0\]\.match: must not be empty/]],
  ['missing secrets', 'registries: [{match: ghcr.io}]\n', [/registries\[0\]\.secrets: is required/]],
  ['empty secrets', 'registries: [{match: ghcr.io, secrets: []}]\n', [/registries\[0\]\.secrets: must list at least one item/]],
  ['invalid secret name', 'registries: [{match: ghcr.io, secrets: [ok, Bad_Name, -bad]}]\n', [
    /registries\[0\]\.secrets\[1\]: \(a value of 8 characters, not shown: uppercase letters, '_'\) is not a valid Secret name/,
    /registries\[0\]\.secrets\[2\]: "-bad" is not a valid Secret name/,
  ]],
  ['wildcard in a port', 'registries: [{match: "reg.example.com:*", secrets: [s]}]\n', [/registries\[0\]\.match: .*reg\.example\.com:\*/]],
  ['wildcard in a path', 'registries: [{match: "ghcr.io/acme/*", secrets: [s]}]\n', [/registries\[0\]\.match: .*ghcr\.io\/acme\/\*/]],
  ['malformed host glob', 'registries: [{match: "[a.example.com", secrets: [s]}]\n', [/registries\[0\]\.match:/]],
  ['bad namespace', 'registries: [{match: ghcr.io, secrets: [s], namespaces: [Team_A, team.a]}]\n', [
    /registries\[0\]\.namespaces\[0\]: \(a value of 6 characters, not shown: uppercase letters, '_'\) is not a valid namespace name/,
    /registries\[0\]\.namespaces\[1\]: \(a value of 6 characters, not shown: '\.'\) is not a valid namespace name/,
  ]],
  ['bad excluded namespace glob', 'excludeNamespaces: ["kube-[system"]\n', [/excludeNamespaces\[0\]: "kube-\[system" is a malformed glob/]],
  ['wrong type', 'registries: {match: ghcr.io}\n', [/registries: must be array/]],
  ['several problems at once', 'registries: [{match: "", secrets: [X]}, {match: "a:b", secrets: [s]}]\nalwaysPull: maybe\n', [/registries\[0\]\.match/, /alwaysPull/]],
  ['empty file', '', [/the file is empty/]],
  ['two documents', 'alwaysPull: all\n---\nalwaysPull: off\n', [/2 YAML documents/]],
  ['not YAML', 'registries: [\n', [/not valid YAML or JSON/]],
  ['duplicate keys', 'alwaysPull: all\nalwaysPull: off\n', [/not valid YAML or JSON/]],
  ['a list at the top', '- a\n', [/must be object/]],
]

for (const [name, text, patterns] of bad) {
  t.test(`rejects: ${name}`, async (t) => {
    const err = t.throws(() => load(text), { code: 'PG_CONFIG_INVALID' }) as Error
    t.match(err.message, /^invalid config config\.yaml:/)
    for (const re of patterns) t.match(err.message, re)
  })
}

t.test('the second-pass semantic checks run even when the schema passes', async (t) => {
  const err = t.throws(() => load('registries: [{match: "https://robot:s3cr3t@ghcr.io", secrets: [s]}]\n'), { code: 'PG_CONFIG_INVALID' }) as Error
  t.notMatch(err.message, /s3cr3t/, 'userinfo in a key is never echoed')
})
