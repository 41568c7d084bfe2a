/**
 * `registries[].secrets[]` as `{name, from}`: parsing, where a copy belongs,
 * the config-time conflicts (both entries named), and `from` refused when
 * distribution is off.
 */
import t from 'tap'
import { loadConfig, type ConfigOptions } from '../../src/config/compile.js'
import { parseSecretRef } from '../../src/config/distribution.js'

const load = (text: string, options: Partial<ConfigOptions> = {}) => loadConfig(text, { origin: 'config.yaml', selfNamespace: 'pullguard', ...options })
const problems = (text: string, options: Partial<ConfigOptions> = {}): string => {
  try {
    load(text, options)
  } catch (err) {
    return (err as Error).message
  }
  return ''
}

t.test('the plain string form and the object form; only `from` is distributed', async (t) => {
  const config = load(`
registries:
  - match: ghcr.io/acme
    secrets: [plain, {name: ghcr-acme, from: pullguard/ghcr-acme}, {name: named-only}]
onSourceDeleted: delete
`)
  t.same(config.registries[0]?.secrets, ['plain', 'ghcr-acme', 'named-only'], 'every name is injected')
  t.same(config.distribution.secrets.map((s) => [s.name, s.from, s.at, s.entry]), [['ghcr-acme', { namespace: 'pullguard', name: 'ghcr-acme' }, 'registries[0].secrets[1]', 0]])
  t.same([...config.distribution.byName.keys()], ['ghcr-acme'])
  t.equal(config.distribution.onSourceDeleted, 'delete')
  t.equal(load('registries: []\n').distribution.onSourceDeleted, 'keep', 'keep by default')
  t.ok(Object.isFrozen(config.distribution) && Object.isFrozen(config.distribution.secrets))
})

t.test('where a copy belongs', async (t) => {
  const config = load(`
registries:
  - match: ghcr.io/acme
    secrets: [{name: ghcr-acme, from: registry-creds/ghcr-acme}, {name: acme-copy, from: team-a/acme}]
    namespaces: [team-a, "team-b*", registry-creds]
    namespaceSelector: {matchLabels: {tenant: acme}}
  - match: quay.io
    secrets: [{name: quay, from: registry-creds/quay}]
excludeNamespaces: [kube-system, "sandbox-*"]
`)
  const [ghcr, acme, quay] = config.distribution.secrets
  const cases: Array<[string, Record<string, string>, boolean, string]> = [
    ['team-a', {}, true, 'listed'],
    ['team-b-prod', {}, true, 'a glob'],
    ['team-c', { tenant: 'acme' }, true, 'selected by labels'],
    ['team-c', {}, false, 'neither'],
    ['sandbox-1', { tenant: 'acme' }, false, 'excluded, whatever selects it'],
    ['kube-system', { tenant: 'acme' }, false, 'excluded'],
    ['pullguard', { tenant: 'acme' }, false, 'pullguard\'s own namespace'],
    ['registry-creds', {}, false, 'the source\'s namespace, listed, but under the source\'s own name: the source is not its own copy'],
  ]
  for (const [ns, labels, expected, why] of cases) t.equal(ghcr?.applies(ns, labels), expected, `ghcr-acme in ${ns}: ${why}`)
  t.equal(acme?.applies('team-a', {}), true, 'acme-copy from team-a/acme: the source\'s namespace, listed by name: a copy under another name')
  t.equal(acme?.applies('team-b-x', {}), true)
  t.equal(quay?.applies('registry-creds', {}), false, 'an unscoped entry does not copy into its source\'s namespace')
  t.equal(quay?.applies('team-z', {}), true, 'an unscoped entry: everywhere else')
})

t.test('a listed source namespace gets a copy under another name, never over the source itself', async (t) => {
  const config = load(`
registries:
  - match: ghcr.io
    secrets: [{name: copy, from: creds/source}, {name: source, from: creds/source}]
    namespaces: [creds, team-a]
`)
  const [copy, same] = config.distribution.secrets
  t.equal(copy?.applies('creds', {}), true, 'listed: a copy named copy next to the source')
  t.equal(same?.applies('creds', {}), false, 'the source is not its own copy')
  t.equal(same?.applies('team-a', {}), true)
})

t.test('parseSecretRef', async (t) => {
  t.same(parseSecretRef('pullguard/ghcr-acme'), { namespace: 'pullguard', name: 'ghcr-acme' })
  t.same(parseSecretRef('ns/a.b-c'), { namespace: 'ns', name: 'a.b-c' })
  for (const bad of ['ghcr-acme', 'a/b/c', '/name', 'ns/', 'Ns/name', 'ns/Name', 'n.s/name', `${'n'.repeat(64)}/x`]) {
    t.type(parseSecretRef(bad), 'string', `${bad}: rejected`)
  }
})

const bad: Array<[string, string, RegExp]> = [
  ['from not namespace/name', 'registries: [{match: ghcr.io, secrets: [{name: x, from: ghcr-acme}]}]\n', /registries\[0\]\.secrets\[0\]\.from: "ghcr-acme" is not of the form namespace\/name/],
  ['bad namespace in from', 'registries: [{match: ghcr.io, secrets: [{name: x, from: "Creds/x"}]}]\n', /registries\[0\]\.secrets\[0\]\.from: \(a value of 7 characters, not shown: uppercase letters\) does not start with a valid namespace name/],
  ['bad name in from', 'registries: [{match: ghcr.io, secrets: [{name: x, from: "creds/-x"}]}]\n', /registries\[0\]\.secrets\[0\]\.from: "creds\/-x" names a Secret that is not a valid Secret name/],
  ['bad name', 'registries: [{match: ghcr.io, secrets: [{name: X_1, from: creds/x}]}]\n', /registries\[0\]\.secrets\[0\]\.name: .* is not a valid Secret name/],
  ['no name', 'registries: [{match: ghcr.io, secrets: [{from: creds/x}]}]\n', /registries\[0\]\.secrets\[0\]\.name: is required/],
  ['unknown key', 'registries: [{match: ghcr.io, secrets: [{name: x, form: creds/x}]}]\n', /registries\[0\]\.secrets\[0\]\.form: unknown key \(allowed here: name, from\)/],
  ['a number', 'registries: [{match: ghcr.io, secrets: [1]}]\n', /registries\[0\]\.secrets\[0\]: must be string or object, got 1/],
  ['onSourceDeleted', 'onSourceDeleted: orphan\n', /onSourceDeleted: "orphan" is not one of keep, delete/],
  ['a credential pasted as from is not echoed', 'registries: [{match: ghcr.io, secrets: [{name: x, from: "ghp_0123456789abcdefghijABCDEFGHIJ"}]}]\n', /from: \(a value of 34 characters, not shown: [^)]*\) is not of the form namespace\/name/],
]
for (const [name, text, pattern] of bad) {
  t.test(`rejects: ${name}`, async (t) => {
    const message = problems(text)
    t.match(message, pattern)
    t.notMatch(message, /ghp_/, 'never the value when it could be a credential')
  })
}

t.test('two entries distributing different sources under one name into a namespace both certainly reach: an error naming both', async (t) => {
  const entry = (from: string, scope: string): string => `  - match: ghcr.io/${from.replace('/', '-')}\n    secrets: [{name: pull, from: ${from}}]\n${scope}`
  const cases: Array<[string, string, string, RegExp | undefined]> = [
    ['the same namespace listed', '    namespaces: [team-a, team-b]\n', '    namespaces: [team-c, team-a]\n', /registries\[1\]\.secrets\[0\]: distributes "creds\/b" as "pull" into namespace "team-a", where registries\[0\]\.secrets\[0\] distributes "creds\/a" under the same name/],
    ['a listed namespace matched by the other\'s glob', '    namespaces: ["team-*"]\n', '    namespaces: [team-x]\n', /into namespace "team-x"/],
    ['an entry without scope', '', '    namespaces: [team-x]\n', /into every namespace registries\[1\] applies to/],
    ['both without scope', '', '', /into every namespace, where/],
    ['an unscoped entry and a selector', '', '    namespaceSelector: {matchLabels: {t: x}}\n', /into every namespace registries\[1\] applies to/],
    ['disjoint names', '    namespaces: [team-a]\n', '    namespaces: [team-b]\n', undefined],
    ['two globs: only the cluster can tell', '    namespaces: ["team-[ab]"]\n', '    namespaces: ["team-[bc]"]\n', undefined],
    ['selectors: only the labels can tell', '    namespaceSelector: {matchLabels: {t: a}}\n', '    namespaceSelector: {matchLabels: {t: b}}\n', undefined],
    ['the shared namespace is excluded', '    namespaces: [team-a, sandbox]\n', '    namespaces: [sandbox]\n', undefined],
  ]
  for (const [why, a, b, expected] of cases) {
    const text = `registries:\n${entry('creds/a', a)}${entry('creds/b', b)}excludeNamespaces: [sandbox]\n`
    if (expected === undefined) t.equal(problems(text), '', `${why}: accepted`)
    else t.match(problems(text), expected, `${why}: refused`)
  }
  t.equal(problems(`registries:\n${entry('creds/a', '')}${entry('creds/a', '')}`), '', 'the same source under one name twice: fine')
  t.equal(problems('registries:\n  - match: ghcr.io\n    secrets: [{name: pull, from: creds/a}, {name: pull, from: creds/b}]\n'), 'invalid config config.yaml:\n  - registries[0].secrets[1]: distributes "creds/b" as "pull" into every namespace, where registries[0].secrets[0] distributes "creds/a" under the same name; use one source, or another name', 'two sources in one entry')
})

t.test('`from` needs distribution on (PULLGUARD_DISTRIBUTE_SECRETS=true); unchecked when the caller does not say', async (t) => {
  const text = 'registries: [{match: ghcr.io, secrets: [{name: x, from: creds/x}]}]\n'
  t.match(problems(text, { distribution: false }), /registries\[0\]\.secrets\[0\]\.from: secret distribution is off: it needs cluster mode and PULLGUARD_DISTRIBUTE_SECRETS=true \(the kustomize component manifests\/components\/secret-distribution\)/)
  t.equal(problems(text, { distribution: true }), '')
  t.equal(problems(text), '', 'the preview CLI and tests load it as it is')
  t.equal(problems('registries: [{match: ghcr.io, secrets: [plain, {name: x}]}]\n', { distribution: false }), '', 'names alone are fine without distribution')
})
