/**
 * One image site → the registries[] entries (and discovered Secrets) the
 * kubelet would use for it, and whether alwaysPull covers it
 * (src/admission/resolve.ts).
 */
import t from 'tap'
import { imageSites } from '../../src/admission/image-sites.js'
import { namespacePolicy } from '../../src/admission/namespace-policy.js'
import { isCovered, resolveSites, type RequestContext, type Resolution } from '../../src/admission/resolve.js'
import { Warnings } from '../../src/admission/warnings.js'
import { summarizePullSecret } from '../../src/cluster/pull-secret.js'
import { ClusterStore } from '../../src/cluster/store.js'
import { summarizeNamespace } from '../../src/cluster/summaries.js'
import type { Config } from '../../src/config/compile.js'
import { namespaceObject, pullSecret } from '../helpers/cluster.js'
import { testConfig } from '../helpers/fixtures.js'

function context (namespace: string, config: Config = testConfig(), cluster?: ClusterStore): RequestContext {
  const warnings = new Warnings()
  return { config, cluster, namespace, warnings, policy: namespacePolicy(config, cluster, namespace, warnings) }
}

const resolve = (images: unknown[], ctx: RequestContext): Resolution[] =>
  resolveSites(imageSites({ containers: images.map((image, i) => ({ name: `c${i}`, image })) }), ctx)

function discoveringCluster (): ClusterStore {
  const store = new ClusterStore()
  store.setNamespace(summarizeNamespace(namespaceObject('team-a', { 'pullguard.dev/discover-secrets': 'true' })))
  store.setNamespace(summarizeNamespace(namespaceObject('quiet', { 'pullguard.dev/discover-secrets': 'true', 'pullguard.dev/inject': 'false' })))
  for (const ns of ['team-a', 'quiet']) store.setSecret(summarizePullSecret(pullSecret(ns, 'quay-found', ['quay.io']))!)
  return store
}

t.test('entries allowed in the namespace, most specific first', async (t) => {
  // test/fixtures/config.yaml: ghcr.io/acme for team-a and team-b*, *.azurecr.io, registry.internal.example:5000, Docker Hub.
  const rows: Array<[string, string, string[]]> = [
    ['team-a', 'ghcr.io/acme/web:1', ['ghcr.io/acme']],
    ['team-b-ci', 'ghcr.io/acme/web:1', ['ghcr.io/acme']],
    ['team-c', 'ghcr.io/acme/web:1', []],
    ['team-c', 'myreg.azurecr.io/app', ['*.azurecr.io']],
    ['team-c', 'registry.internal.example:5000/x', ['registry.internal.example:5000']],
    ['team-c', 'registry.internal.example/x', []],
    ['team-c', 'nginx', ['https://index.docker.io/v1/']],
    ['team-c', 'quay.io/x', []],
  ]
  for (const [namespace, image, matches] of rows) {
    const [r] = resolve([image], context(namespace))
    t.same(r?.entries.map((e) => e.match), matches, `${image} in ${namespace}`)
    t.equal(r?.invalid, undefined)
    t.equal(r?.ref?.name !== undefined, true)
  }
})

t.test('an image that does not parse, or is not a string, has no entries and a fixed reason', async (t) => {
  const [bad, missing, number] = resolve(['GHCR.io/Acme/Web', undefined, 42], context('team-a'))
  t.equal(bad?.ref, undefined)
  t.equal(bad?.invalid, 'invalid reference format: repository name must be lowercase')
  t.equal(missing?.invalid, 'image is missing or not a string')
  t.equal(number?.invalid, 'image is missing or not a string')
  for (const r of [bad, missing, number]) t.same(r?.entries, [])
})

t.test('identical image strings are resolved once and share the result', async (t) => {
  const [a, b, c] = resolve(['ghcr.io/acme/web:1', 'ghcr.io/acme/web:1', 'ghcr.io/acme/web:2'], context('team-a'))
  t.equal(a?.entries, b?.entries)
  t.not(a?.entries, c?.entries)
  t.not(a?.site, b?.site, 'each keeps its own site')
})

t.test('coverage is computed only under alwaysPull: private', async (t) => {
  for (const alwaysPull of ['off', 'all', 'private'] as const) {
    const [r] = resolve(['ghcr.io/acme/web:1'], context('team-a', testConfig({ alwaysPull })))
    t.equal(r?.coverage !== undefined, alwaysPull === 'private', alwaysPull)
  }
})

t.test('discovery needs a cluster, the discover label and inject', async (t) => {
  const config = testConfig()
  t.same(resolve(['quay.io/x'], context('team-a', config, discoveringCluster()))[0]?.discovered.map((s) => s.name), ['quay-found'])
  t.same(resolve(['quay.io/x'], context('quiet', config, discoveringCluster()))[0]?.discovered, [], 'inject: false')
  t.same(resolve(['quay.io/x'], context('team-a', config))[0]?.discovered, [], 'no cluster')
})

t.test('isCovered: all covers everything, off nothing, private what a credential applies to unless public', async (t) => {
  const config = testConfig({ publicImages: ['docker.io/library/'] })
  const [acme, quay, nginx, invalid, missing] = resolve(['ghcr.io/acme/web', 'quay.io/x', 'nginx', 'Bad//Image', undefined], context('team-c', config))
  const rows: Array<[string, Resolution | undefined, Record<string, boolean>]> = [
    ['a private registry (even where its entry does not apply)', acme, { off: false, all: true, private: true }],
    ['a registry without credentials', quay, { off: false, all: true, private: false }],
    ['a publicImages prefix', nginx, { off: false, all: true, private: false }],
    ['an unparsable image string errs towards Always', invalid, { off: false, all: true, private: true }],
    ['no image pulls nothing', missing, { off: false, all: true, private: false }],
  ]
  for (const [name, r, expected] of rows) {
    if (r === undefined) return t.fail(name)
    for (const mode of ['off', 'all', 'private'] as const) t.equal(isCovered(mode, r), expected[mode], `${name}: ${mode}`)
  }
})
