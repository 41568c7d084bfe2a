/**
 * Which pull Secrets an image gets and why not (src/admission/secrets.ts):
 * configured entries first, then discovered Secrets, no repeats; missing,
 * malformed and not-mountable Secrets (plugin/pkg/admission/serviceaccount)
 * are named, and a missing configured one is injected anyway under
 * missingSecrets: inject.
 */
import t from 'tap'
import { imageSites } from '../../src/admission/image-sites.js'
import { namespacePolicy } from '../../src/admission/namespace-policy.js'
import { resolveSites, type RequestContext, type Resolution } from '../../src/admission/resolve.js'
import {
  mountableSecrets, secretChoices, warnLacking, warnPending, warnProblem, warnUnmanaged, type SecretChoice,
} from '../../src/admission/secrets.js'
import { Warnings } from '../../src/admission/warnings.js'
import { ENFORCE_MOUNTABLE_ANNOTATION } from '../../src/cluster/types.js'
import { summarizePullSecret } from '../../src/cluster/pull-secret.js'
import { ClusterStore } from '../../src/cluster/store.js'
import { summarizeNamespace, summarizeServiceAccount } from '../../src/cluster/summaries.js'
import type { Config } from '../../src/config/compile.js'
import { namespaceObject, pullSecret, serviceAccount } from '../helpers/cluster.js'
import { configFrom, type Json } from '../helpers/fixtures.js'

const CONFIG = `
registries:
  - match: ghcr.io/acme/app
    secrets: [acme-app, shared]
  - match: ghcr.io
    secrets: [shared, ghcr-any]
  - match: quay.io
    secrets: [quay-pull]
`

function cluster (): ClusterStore {
  const store = new ClusterStore()
  store.setNamespace(summarizeNamespace(namespaceObject('team-a', { 'pullguard.dev/discover-secrets': 'true' })))
  store.setNamespace(summarizeNamespace(namespaceObject('no-inject', { 'pullguard.dev/inject': 'false' })))
  for (const name of ['acme-app', 'shared', 'found-ghcr']) store.setSecret(summarizePullSecret(pullSecret('team-a', name, ['ghcr.io']))!)
  store.setSecret(summarizePullSecret({ metadata: { namespace: 'team-a', name: 'ghcr-any' }, type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': 'bm9wZQ==' } })!)
  store.setServiceAccount(summarizeServiceAccount(serviceAccount('team-a', 'strict', ['acme-app'], true)))
  store.setServiceAccount(summarizeServiceAccount(serviceAccount('team-a', 'default', ['nothing'], false)))
  return store
}

function context (namespace: string, config: Config, store: ClusterStore | undefined): RequestContext {
  const warnings = new Warnings()
  return { config, cluster: store, namespace, warnings, policy: namespacePolicy(config, store, namespace, warnings) }
}

function resolution (image: string, ctx: RequestContext): Resolution {
  const [r] = resolveSites(imageSites({ containers: [{ name: 'app', image }] }), ctx)
  if (r === undefined) throw new Error('no site')
  return r
}

const brief = (c: SecretChoice): string => `${c.name}:${c.source}${c.problem === undefined ? '' : `:${c.problem}`}${c.pending ? ':pending' : ''}`

t.test('choices: entries most specific first, then discovered, each name once', async (t) => {
  const ctx = context('team-a', configFrom(CONFIG), cluster())
  const choices = secretChoices(resolution('ghcr.io/acme/app:1', ctx), ctx, undefined)
  t.same(choices.map(brief), ['acme-app:config', 'shared:config', 'ghcr-any:config:malformed', 'found-ghcr:discovery'])
  t.same(choices.map((c) => c.entry?.index), [0, 0, 1, undefined], 'each names the entry that asked for it')
})

t.test('a configured Secret that does not exist: pending under missingSecrets: inject, a problem under skip', async (t) => {
  const rows: Array<[string, string[]]> = [['inject', ['quay-pull:config:pending']], ['skip', ['quay-pull:config:missing']]]
  for (const [missingSecrets, expected] of rows) {
    const ctx = context('team-a', configFrom(`${CONFIG}\nmissingSecrets: ${missingSecrets}\n`), cluster())
    t.same(secretChoices(resolution('quay.io/x', ctx), ctx, undefined).map(brief), expected, missingSecrets)
  }
})

t.test('without a cluster nothing is known to be missing', async (t) => {
  const ctx = context('team-a', configFrom(CONFIG), undefined)
  t.same(secretChoices(resolution('quay.io/x', ctx), ctx, undefined).map(brief), ['quay-pull:config'])
})

t.test('inject: false in the namespace: no choices at all', async (t) => {
  const ctx = context('no-inject', configFrom(CONFIG), cluster())
  t.same(secretChoices(resolution('ghcr.io/acme/app', ctx), ctx, undefined), [])
})

t.test('mountableSecrets: only for a ServiceAccount that enforces them', async (t) => {
  const config = configFrom(CONFIG)
  const ctx = context('team-a', config, cluster())
  const rows: Array<[string, Json, string[] | undefined]> = [
    ['serviceAccountName enforcing', { serviceAccountName: 'strict' }, ['acme-app']],
    ['the deprecated serviceAccount alias', { serviceAccount: 'strict' }, ['acme-app']],
    ['serviceAccountName wins over the alias', { serviceAccountName: 'default', serviceAccount: 'strict' }, undefined],
    ['default, not enforcing', {}, undefined],
    ['an unknown ServiceAccount', { serviceAccountName: 'ghost' }, undefined],
  ]
  for (const [name, spec, expected] of rows) {
    const m = mountableSecrets(spec, ctx)
    t.same(m === undefined ? undefined : [...m.names], expected, name)
  }
  t.equal(mountableSecrets({ serviceAccountName: 'strict' }, context('team-a', config, undefined)), undefined, 'no cluster')
  t.equal(ENFORCE_MOUNTABLE_ANNOTATION, 'kubernetes.io/enforce-mountable-secrets')
})

t.test('a Secret the ServiceAccount does not list is not-mountable, even when missing', async (t) => {
  const ctx = context('team-a', configFrom(CONFIG), cluster())
  const mountable = mountableSecrets({ serviceAccountName: 'strict' }, ctx)
  t.same(secretChoices(resolution('ghcr.io/acme/app', ctx), ctx, mountable).map(brief),
    ['acme-app:config', 'shared:config:not-mountable', 'ghcr-any:config:not-mountable', 'found-ghcr:discovery:not-mountable'])
  t.same(secretChoices(resolution('quay.io/x', ctx), ctx, mountable).map(brief), ['quay-pull:config:not-mountable'])
})

t.test('a distributed Secret carries its copy state (unknown without watches)', async (t) => {
  const config = configFrom(`
registries:
  - match: ghcr.io
    secrets: [{ name: ghcr-copy, from: pullguard/ghcr-source }, plain]
`)
  const ctx = context('team-a', config, undefined)
  const choices = secretChoices(resolution('ghcr.io/x', ctx), ctx, undefined)
  t.match(choices[0]?.copy, { from: 'pullguard/ghcr-source', entry: 0, state: 'unknown', exists: false })
  t.equal(choices[1]?.copy, undefined)
})

t.test('warnings name the Secret and the namespace, once each', async (t) => {
  const ctx = context('team-a', configFrom(CONFIG), cluster())
  const choice = (name: string, problem: SecretChoice['problem'], state?: string): SecretChoice =>
    ({ name, source: 'config', entry: undefined, problem, pending: false, copy: state === undefined ? undefined : { from: 'a/b', entry: 0, state: state as never, exists: false } })
  const mountable = { account: 'strict', names: new Set<string>() }
  warnPending('quay-pull', ctx)
  warnProblem(choice('gone', 'missing'), ctx, mountable)
  warnProblem(choice('gone', 'missing'), ctx, mountable)
  warnProblem(choice('bad', 'malformed'), ctx, mountable)
  warnProblem(choice('hidden', 'not-mountable'), ctx, mountable)
  warnProblem(choice('fine', undefined), ctx, mountable)
  warnUnmanaged(choice('taken', undefined, 'unmanaged'), ctx)
  warnUnmanaged(choice('ours', undefined, 'current'), ctx)
  warnLacking(resolution('ghcr.io/acme/app', ctx), 'acme-app', ctx)
  t.same(ctx.warnings.list(), [
    'pullguard: pull secret "quay-pull" does not exist in "team-a" yet; added: the kubelet uses it once it exists',
    'pullguard: pull secret "gone" not found in namespace "team-a"; not added',
    'pullguard: pull secret "bad" in "team-a" is not a valid docker config; not added',
    'pullguard: pull secret "hidden" not added: service account "strict" does not list it',
    'pullguard: Secret "taken" in "team-a" is not pullguard\'s copy; it is left as it is',
    'pullguard: spec.containers[0] (app) needs pull secret "acme-app", which the running pod lacks',
  ])
  t.same(ctx.warnings.reasons(), ['secret-pending', 'secret-missing', 'secret-malformed', 'secret-not-mountable', 'secret-unmanaged', 'secret-lacking-on-running-pod'])
})
