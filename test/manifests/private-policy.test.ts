/**
 * The ValidatingAdmissionPolicy pullguard-always-pull-private, as rendered by
 * `kubectl kustomize`: its objects validate offline, the binding and the RBAC
 * are what the writer needs, and its CEL (run as the API server runs it, see
 * cel.ts) with the params pullguard writes requires Always exactly for the
 * images pullguard would force: on the kubelet's own table, on Docker Hub
 * short names, ports, globs, case and digests, and for generated keys and
 * images (never looser; exemptions only where pullguard exempts). Per
 * namespace it enforces pullguard's own mode (namespacePolicy: the label,
 * else the config default) and skips pullguard's excluded namespaces; with
 * pullguard-always-pull beside it, for generated labels, defaults,
 * exclusions and names too.
 */
import t, { type Test } from 'tap'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import fc from 'fast-check'
import { LABEL_ALWAYS_PULL, namespacePolicy } from '../../src/admission/namespace-policy.js'
import { Warnings } from '../../src/admission/warnings.js'
import type { ClusterView } from '../../src/cluster/types.js'
import { compileConfig } from '../../src/config/compile.js'
import { compileNamespacePattern } from '../../src/config/names.js'
import type { AlwaysPullMode } from '../../src/config/schema.js'
import { DEFAULT_EXCLUDED_CHARS } from '../../src/kube/excluded-namespaces.js'
import { PRIVATE_IMAGES_NAME, privateImagesInputs, privateImagesParams } from '../../src/kube/private-images-params.js'
import { type CredentialKey } from '../../src/registry/credential-key.js'
import { DEFAULT_PATTERN_LIMITS } from '../../src/registry/private-image-patterns.js'
import { namespaceObject } from '../helpers/cluster.js'
import { imageArb, keyArb, globKeyArb } from '../helpers/image-arbitraries.js'
import { KEY_MATCH_CASES } from '../helpers/keyring-cases.js'
import { mustParse } from '../helpers/keys.js'
import { isForced, isPrivate, isPublic, nameOf, pullguardForces } from '../helpers/private-model.js'
import { evaluatePolicy, matchConditionsHold, type AdmissionInput } from './cel.js'
import { all, describe, findKubectl, KUBECTL_MISSING, kustomize, one, selects, validateObject, type KObject } from './k8s.js'

const MANIFESTS = fileURLToPath(new URL('../../manifests/', import.meta.url))
const NS = 'pullguard'
const POLICY = 'pullguard-always-pull-private'
const DIGEST = `sha256:${'c'.repeat(64)}`

type Labels = Record<string, string>
type Mode = AlwaysPullMode

interface NamespaceDefaults {
  /** The config default; 'off' unless given, so that only the label counts. */
  readonly alwaysPull?: Mode
  readonly excludeNamespaces?: readonly string[]
  /** Where pullguard runs. */
  readonly self?: string
}

/** What pullguard writes for these keys and defaults (privateImagesParams, as the writer), as the API server hands it to the policy. */
function params (keys: readonly CredentialKey[], publicImages: readonly string[] = [], defaults: NamespaceDefaults = {}): KObject {
  const inputs = { keys, publicImages, alwaysPull: defaults.alwaysPull ?? 'off', excludeNamespaces: defaults.excludeNamespaces ?? [] }
  return configMap(privateImagesParams(inputs, defaults.self ?? NS).data)
}

function configMap (data?: Record<string, string>): KObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: PRIVATE_IMAGES_NAME, namespace: NS }, ...(data === undefined ? {} : { data: { ...data } }) }
}

const c = (name: string, image: string, pullPolicy?: string): KObject => ({ name, image, ...(pullPolicy === undefined ? {} : { imagePullPolicy: pullPolicy }) })
const pod = (spec: KObject, annotations?: Labels, namespace = 'team-a'): KObject =>
  ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace, ...(annotations === undefined ? {} : { annotations }) }, spec })
/** The namespace of most tests: labelled private, so the mode does not depend on the default. */
const TEAM_A: KObject = namespaceObject('team-a', { [LABEL_ALWAYS_PULL]: 'private' })
const labelled = (name: string, label: string | undefined): KObject => namespaceObject(name, label === undefined ? {} : { [LABEL_ALWAYS_PULL]: label })

/** The containers (by name) the policy refuses, read from its messages. */
function refused (policy: KObject, input: AdmissionInput): Set<string> {
  const r = evaluatePolicy(policy, input)
  return new Set([...r.messages.join('\n').matchAll(/spec\.(?:containers|initContainers|ephemeralContainers|volumes)\[name=([^\]]+)\]/g)].map((m) => m[1] as string))
}

/** One pod with one IfNotPresent container per image; the images the policy requires Always for. */
function requiresAlways (policy: KObject, cm: KObject, images: readonly string[], ns: KObject = TEAM_A): boolean[] {
  const object = pod({ containers: images.map((image, i) => c(`c${i}`, image, 'IfNotPresent')) }, undefined, ns.metadata.name)
  const names = refused(policy, { operation: 'CREATE', object, oldObject: null, params: cm, namespaceObject: ns })
  return images.map((_, i) => names.has(`c${i}`))
}

t.test('a missing kubectl is reported, not skipped', async (t) => {
  t.match(KUBECTL_MISSING, /kubectl not found/)
})

const kubectl = findKubectl()
if (kubectl === undefined) {
  t.fail(KUBECTL_MISSING)
} else {
  t.test('pullguard-always-pull-private, rendered with kubectl kustomize', (t) => run(t, kubectl))
}

async function run (t: Test, kubectl: string): Promise<void> {
  const renders = new Map<string, KObject[]>()
  for (const overlay of ['cert-manager', 'no-match-conditions', 'validating-webhook']) renders.set(overlay, await kustomize(kubectl, join(MANIFESTS, 'overlays', overlay)))
  const base = await kustomize(kubectl, join(MANIFESTS, 'base'))
  const policy = one(base, 'ValidatingAdmissionPolicy', POLICY)
  const binding = one(base, 'ValidatingAdmissionPolicyBinding', POLICY)
  const allPolicy = one(base, 'ValidatingAdmissionPolicy', 'pullguard-always-pull')
  const allBinding = one(base, 'ValidatingAdmissionPolicyBinding', 'pullguard-always-pull')
  const keys = [mustParse('ghcr.io/acme')]
  const privateImage = 'ghcr.io/acme/app:1'

  /**
   * What the API server enforces in this namespace through both bindings,
   * read from a pod with one private and one public image without Always:
   * `all` when both are refused, `private` when the private one is, `off`
   * when neither. cm null: the ConfigMap does not exist (Allow).
   */
  const enforced = (ns: KObject, cm: KObject | null): { mode: Mode, messages: string[] } => {
    const object = pod({ containers: [c('priv', privateImage, 'IfNotPresent'), c('pub', 'nginx', 'IfNotPresent')] }, undefined, ns.metadata.name)
    const names = new Set<string>()
    const messages: string[] = []
    for (const [p, b, params] of [[policy, binding, cm], [allPolicy, allBinding, null]] as Array<[KObject, KObject, KObject | null]>) {
      if (!selects(b.spec.matchResources.namespaceSelector, ns.metadata.labels ?? {})) continue
      if (b.spec.paramRef !== undefined && params === null) continue // parameterNotFoundAction: Allow
      const r = evaluatePolicy(p, { operation: 'CREATE', object, oldObject: null, params, namespaceObject: ns })
      messages.push(...r.messages)
      for (const m of r.messages.join('\n').matchAll(/spec\.containers\[name=(\w+)\]/g)) names.add(m[1] as string)
    }
    if (names.has('pub') && !names.has('priv')) throw new Error('a public image refused, the private one not')
    return { mode: names.has('pub') ? 'all' : names.has('priv') ? 'private' : 'off', messages }
  }

  t.test('policy and binding: valid, bound to the ConfigMap pullguard writes, Allow when it is missing', async (t) => {
    for (const obj of [policy, binding, one(base, 'Role', PRIVATE_IMAGES_NAME), one(base, 'RoleBinding', PRIVATE_IMAGES_NAME)]) {
      t.same(await validateObject(obj), [], `${describe(obj)} validates`)
    }
    t.equal(policy.apiVersion, 'admissionregistration.k8s.io/v1', 'GA API (1.30)')
    t.equal(policy.spec.failurePolicy, 'Fail', 'failurePolicy Fail: a CEL error denies')
    t.same(policy.spec.paramKind, { apiVersion: 'v1', kind: 'ConfigMap' })
    t.same(policy.spec.matchConstraints, allPolicy.spec.matchConstraints, 'the same requests as pullguard-always-pull (pods CREATE/UPDATE, pods/ephemeralcontainers UPDATE)')
    t.same(policy.spec.matchConditions, allPolicy.spec.matchConditions, 'the same mirror-pod condition')
    t.same(binding.spec.paramRef, { name: PRIVATE_IMAGES_NAME, namespace: NS, parameterNotFoundAction: 'Allow' }, 'paramRef: the writer\'s ConfigMap; Allow while it does not exist')
    t.same(binding.spec.validationActions, ['Deny'])
    t.equal(binding.spec.policyName, POLICY)
    t.same(binding.spec.matchResources.namespaceSelector, {
      matchExpressions: [
        { key: LABEL_ALWAYS_PULL, operator: 'NotIn', values: ['all'] },
        { key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['kube-system', NS] },
      ],
    }, 'every namespace but those labelled all, kube-system and pullguard\'s')
    const bound = (ns: KObject): string[] => [binding, allBinding].filter((b) => selects(b.spec.matchResources.namespaceSelector, ns.metadata.labels)).map((b) => b.metadata.name as string)
    for (const label of [undefined, 'private', 'off', 'bogus', '']) t.same(bound(labelled('team-a', label)), [POLICY], `label ${label ?? '(none)'}: this binding only`)
    t.same(bound(labelled('team-a', 'all')), ['pullguard-always-pull'], 'label all: pullguard-always-pull only (one message per field, not two)')
    for (const name of ['kube-system', NS]) t.same(bound(labelled(name, undefined)), [], `${name}: neither`)
    t.equal(allBinding.spec.matchResources.namespaceSelector.matchLabels[LABEL_ALWAYS_PULL], 'all', 'pullguard-always-pull is unchanged: label all')
    for (const v of policy.spec.validations as KObject[]) t.ok(typeof v.message === 'string' && typeof v.messageExpression === 'string', 'message and messageExpression')
    const text = JSON.stringify(policy.spec)
    for (const field of ['initContainers', 'containers', 'ephemeralContainers', 'volumes', 'imagePullPolicy', 'pullPolicy', 'oldObject', 'params.data', 'namespaceObject.metadata.labels', 'namespaceObject.metadata.name']) {
      t.ok(text.includes(field), `the CEL covers ${field}`)
    }
  })

  t.test('RBAC: the Role the writer needs, in every overlay', async (t) => {
    for (const [name, objects] of [['base', base], ...renders] as Array<[string, KObject[]]>) {
      t.same(one(objects, 'Role', PRIVATE_IMAGES_NAME).rules, [
        { apiGroups: [''], resources: ['configmaps'], verbs: ['create'] },
        { apiGroups: [''], resources: ['configmaps'], resourceNames: [PRIVATE_IMAGES_NAME], verbs: ['get', 'update'] },
        { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
        { apiGroups: ['coordination.k8s.io'], resources: ['leases'], resourceNames: [PRIVATE_IMAGES_NAME], verbs: ['get', 'update'] },
      ], `${name}: create (cannot be limited by name) and get/update of ${PRIVATE_IMAGES_NAME} only`)
      const rb = one(objects, 'RoleBinding', PRIVATE_IMAGES_NAME)
      t.equal(rb.metadata.namespace, NS)
      t.same(rb.subjects, [{ kind: 'ServiceAccount', name: 'pullguard', namespace: NS }])
      t.same(rb.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: PRIVATE_IMAGES_NAME })
    }
  })

  t.test('overlays for API servers before 1.30 drop the policy and its binding', async (t) => {
    for (const overlay of ['validating-webhook', 'no-match-conditions']) {
      const objects = renders.get(overlay) ?? []
      t.equal(all(objects, 'ValidatingAdmissionPolicy').length + all(objects, 'ValidatingAdmissionPolicyBinding').length, 0, `${overlay}: none`)
    }
    t.ok(one(renders.get('cert-manager') ?? [], 'ValidatingAdmissionPolicy', POLICY), 'cert-manager keeps it')
  })

  t.test('CEL: the kubelet table (keyring_test.go and more) as pod images', async (t) => {
    for (const [raw, name, kubelet] of KEY_MATCH_CASES) {
      const image = name.includes('/') ? name : `${name}/x`
      if (nameOf(image) === undefined) continue
      const key = mustParse(raw)
      const expected = isForced([key], [], image)
      t.ok(!kubelet || expected, `${raw} vs ${image}: private where the kubelet sends the credential`)
      t.same(requiresAlways(policy, params([key]), [image]), [expected], `${raw} vs ${image}: ${expected ? 'Always required' : 'allowed'}`)
    }
  })

  t.test('CEL: Docker Hub short names, ports, globs, case, digests, publicImages', async (t) => {
    const keys = ['ghcr.io/acme', 'docker.io/team', '*.azurecr.io', 'registry:5000', 'https://index.docker.io/v1/', 'Quay.io'].map(mustParse)
    const cm = params(keys, ['docker.io/library/'])
    const cases: ReadonlyArray<readonly [string, boolean]> = [
      ['nginx', false], ['nginx:1.25', false], [`nginx@${DIGEST}`, false], ['library/nginx', false], ['docker.io/nginx', false],
      ['team/app', true], ['docker.io/team/app:1', true], ['index.docker.io/team/app', true], [`team/app@${DIGEST}`, true],
      ['other/app', true], // the default-registry key: all of Docker Hub, less publicImages
      ['ghcr.io/acme/web:1', true], ['GHCR.io:443/acme/web:1', true], ['ghcr.io:443/acme/web', true], [`ghcr.io/acme@${DIGEST}`, true],
      ['ghcr.io/other/x', false], ['ghcr.io:5000/acme/x', false],
      ['a.azurecr.io/x', true], ['A.AzureCR.io/x', true], ['a.b.azurecr.io/x', false],
      ['registry:5000/x', true], ['registry/x', true], ['localhost:5000/x', false], ['localhost/x', true],
      ['quay.io/x', true], ['QUAY.IO:443/x', true],
      ['registry-1.docker.io/team/app', true], ['Docker.io/team', true], ['registry-1.docker.io/library/nginx', true],
    ]
    const got = requiresAlways(policy, cm, cases.map(([image]) => image))
    cases.forEach(([image, want], i) => {
      t.equal(isForced(keys, ['docker.io/library/'], image), want, `${image}: the model agrees`)
      t.equal(got[i], want, `${image}: ${want ? 'Always required' : 'allowed'}`)
    })
  })

  t.test('CEL: lists, UPDATE, ephemeral containers, image volumes, params edge cases, messages', async (t) => {
    const cm = params([mustParse('ghcr.io/acme')])
    const verdict = (input: Omit<AdmissionInput, 'params'>, p: KObject | null = cm): ReturnType<typeof evaluatePolicy> => evaluatePolicy(policy, { ...input, params: p, namespaceObject: TEAM_A })
    const create = (object: KObject, username?: string): Omit<AdmissionInput, 'params'> => ({ operation: 'CREATE', object, oldObject: null, ...(username === undefined ? {} : { username }) })
    const priv = 'ghcr.io/acme/app:1'

    let r = verdict(create(pod({ containers: [c('app', priv, 'IfNotPresent')] })))
    t.equal(r.allowed, false, 'a private image with IfNotPresent: denied')
    t.match(r.messages.join('\n'), /spec\.containers\[name=app\]\.imagePullPolicy: Unsupported value: supported values: "Always" \(namespace label pullguard\.dev\/always-pull=private/, 'the message names the field')
    t.same(verdict(create(pod({ containers: [c('app', priv, 'Always')] }))).messages, [], 'Always: allowed (has() guards hold)')
    t.equal(verdict(create(pod({ containers: [c('app', priv)] }))).allowed, false, 'no imagePullPolicy: denied')
    t.same(verdict(create(pod({ containers: [c('app', 'nginx', 'IfNotPresent'), c('b', 'ghcr.io/other/x', 'Never')] }))).messages, [], 'public images keep their policy')
    r = verdict(create(pod({ initContainers: [c('init', priv, 'IfNotPresent')], containers: [c('app', 'nginx')] })))
    t.match(r.messages.join('\n'), /spec\.initContainers\[name=init\]\.imagePullPolicy/, 'init containers')
    r = verdict(create(pod({ containers: [c('app', 'nginx')], volumes: [{ name: 'cfg', configMap: { name: 'x' } }, { name: 'data', image: { reference: priv, pullPolicy: 'IfNotPresent' } }, { name: 'pub', image: { reference: 'nginx' } }] })))
    t.same(r.messages.length, 1, 'image volumes: only the private one')
    t.match(r.messages.join('\n'), /spec\.volumes\[name=data\]\.image\.pullPolicy/)
    t.same(verdict(create(pod({ containers: [c('app', 'nginx')], volumes: [{ name: 'v', image: {} }] }))).messages, [], 'an image volume without reference: no CEL error')

    const running = pod({ containers: [c('app', priv, 'IfNotPresent')] })
    const relabelled = structuredClone(running)
    relabelled.metadata.labels = { x: 'y' }
    t.same(verdict({ operation: 'UPDATE', object: relabelled, oldObject: running }).messages, [], 'UPDATE without a new image: allowed, even IfNotPresent')
    const changed = structuredClone(running)
    changed.spec.containers[0].image = 'ghcr.io/acme/app:2'
    t.equal(verdict({ operation: 'UPDATE', object: changed, oldObject: running }).allowed, false, 'UPDATE to a new private image: denied')
    const toPublic = structuredClone(running)
    toPublic.spec.containers[0].image = 'nginx'
    t.same(verdict({ operation: 'UPDATE', object: toPublic, oldObject: running }).messages, [], 'UPDATE to a public image: allowed')
    const debug = (image: string, pullPolicy: string): KObject => ({ ...structuredClone(running), spec: { ...structuredClone(running.spec), ephemeralContainers: [{ name: 'dbg', image, imagePullPolicy: pullPolicy }] } })
    r = verdict({ operation: 'UPDATE', subResource: 'ephemeralcontainers', object: debug('ghcr.io/acme/debug:1', 'IfNotPresent'), oldObject: running })
    t.match(r.messages.join('\n'), /spec\.ephemeralContainers\[name=dbg\]\.imagePullPolicy/, 'kubectl debug with a new private image: denied')
    t.same(verdict({ operation: 'UPDATE', subResource: 'ephemeralcontainers', object: debug(priv, 'IfNotPresent'), oldObject: running }).messages, [], 'the image the pod already runs: allowed')

    t.equal(evaluatePolicy(policy, { operation: 'CREATE', object: pod({ containers: [c('app', priv, 'IfNotPresent')] }, { 'kubernetes.io/config.mirror': 'x' }), oldObject: null, username: 'system:node:n1', params: cm, namespaceObject: TEAM_A }).skipped, true, 'a mirror pod from a node: skipped')
    t.equal(verdict(create(pod({ containers: [c('app', priv, 'IfNotPresent')] }, { 'kubernetes.io/config.mirror': 'x' }), 'mallory')).allowed, false, 'the mirror annotation from a user: still denied')
    t.ok(matchConditionsHold(policy.spec.matchConditions, { operation: 'CREATE', object: pod({ containers: [] }), oldObject: null }), 'an ordinary pod is evaluated')

    const p = pod({ containers: [c('app', priv, 'IfNotPresent')] })
    t.same(verdict(create(p), { ...cm, data: { private: '', public: '' } }).messages, [], 'empty patterns: nothing private')
    t.same(verdict(create(p), configMap()).messages, [], 'a ConfigMap without data (not written yet): allowed, no CEL error')
    t.same(verdict(create(p), { ...cm, data: { other: 'x' } }).messages, [], 'a ConfigMap without the keys: allowed')
    t.equal(verdict(create(p), { ...cm, data: { private: cm.data.private } }).allowed, false, 'no public key: no exemption, no CEL error')
    t.equal(verdict(create(p), { ...cm, data: { private: '^' } }).allowed, false, 'coarsest patterns (everything private): denied')
  })

  t.test('CEL: each namespace by pullguard\'s mode: a valid label, else the config default', async (t) => {
    for (const fallback of ['private', 'all', 'off'] as const) {
      const cm = params(keys, [], { alwaysPull: fallback })
      for (const label of [undefined, 'private', 'all', 'off', 'bogus', 'Private', '']) {
        const want = label === 'private' || label === 'all' || label === 'off' ? label : fallback
        const got = enforced(labelled('team-a', label), cm)
        t.equal(got.mode, want, `default ${fallback}, label ${JSON.stringify(label) ?? '(none)'}: ${want}`)
        if (want !== 'off') t.equal(got.messages.length, 1, 'one message for the list, from one policy')
      }
      t.equal(enforced({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a' } }, cm).mode, fallback, `default ${fallback}: a namespace without any labels (has() guard, no CEL error)`)
    }
    const why = (ns: KObject, fallback: Mode): string => enforced(ns, params(keys, [], { alwaysPull: fallback })).messages.join('\n')
    t.match(why(labelled('team-a', undefined), 'private'), /spec\.containers\[name=priv\]\.imagePullPolicy: Unsupported value: supported values: "Always" \(pullguard config alwaysPull: private; a new private image must be pulled with Always\)$/)
    t.match(why(labelled('team-a', 'bogus'), 'all'), /spec\.containers\[name=priv\]\.imagePullPolicy, spec\.containers\[name=pub\]\.imagePullPolicy: .*\(pullguard config alwaysPull: all; a new image must be pulled with Always\)$/)
    t.match(why(labelled('team-a', 'private'), 'all'), /\(namespace label pullguard\.dev\/always-pull=private; a new private image must be pulled with Always\)$/)
    t.match(why(labelled('team-a', 'all'), 'off'), /\(namespace label pullguard\.dev\/always-pull=all; a new image must be pulled with Always\)$/, 'label all: pullguard-always-pull\'s message')
    // pullguard.dev/inject=false: the webhook is never called there, so only an
    // explicit always-pull label enforces, never the config default.
    const optedOut = (label?: string): KObject => namespaceObject('team-a', { 'pullguard.dev/inject': 'false', ...(label === undefined ? {} : { [LABEL_ALWAYS_PULL]: label }) })
    t.equal(enforced(optedOut(), params(keys, [], { alwaysPull: 'private' })).mode, 'off', 'inject=false, default private: not enforced')
    t.equal(enforced(optedOut('private'), params(keys, [], { alwaysPull: 'off' })).mode, 'private', 'inject=false with an explicit label: enforced')
    t.equal(enforced(namespaceObject('team-a', { 'pullguard.dev/inject': 'true' }), params(keys, [], { alwaysPull: 'private' })).mode, 'private', 'inject=true: the default')
  })

  t.test('CEL: namespaces pullguard excludes are skipped, as pullguard skips them (names, globs, its own namespace)', async (t) => {
    const excludeNamespaces = ['sandbox', 'team-b*', 'ci-?', 'dev-[0-9]', 'x[^a]z']
    const config = compileConfig({ alwaysPull: 'private', excludeNamespaces }, { origin: 'test', selfNamespace: NS })
    const cm = params(keys, [], { alwaysPull: 'private', excludeNamespaces: config.excludeNamespaces })
    const cases: ReadonlyArray<readonly [string, Mode]> = [
      ['sandbox', 'off'], ['sandbox-2', 'private'], ['a-sandbox', 'private'],
      ['team-b', 'off'], ['team-b-x', 'off'], ['team-c', 'private'],
      ['ci-1', 'off'], ['ci-12', 'private'], ['dev-7', 'off'], ['dev-x', 'private'],
      ['xbz', 'off'], ['xaz', 'private'], ['x-z', 'off'],
      [NS, 'off'], ['kube-system', 'off'], ['default', 'private'],
    ]
    for (const [name, want] of cases) {
      t.equal(enforced(labelled(name, undefined), cm).mode, want, `${name}: ${want === 'off' ? 'skipped' : 'enforced'}`)
      if (name !== 'kube-system') t.equal(config.isExcluded(name), want === 'off', `${name}: pullguard ${want === 'off' ? 'excludes' : 'does not exclude'} it too`)
    }
    t.equal(enforced(labelled('team-b1', 'private'), cm).mode, 'off', 'labelled private but excluded: skipped (pullguard checks the exclusion first)')
    t.equal(enforced(labelled('team-b1', 'all'), cm).mode, 'all', 'labelled all but excluded: pullguard-always-pull still enforces (stricter, documented)')

    // pullguard installed elsewhere: the binding's name list does not know it, the ConfigMap does.
    const elsewhere = params(keys, [], { alwaysPull: 'private', self: 'pg-system' })
    t.ok(selects(binding.spec.matchResources.namespaceSelector, labelled('pg-system', undefined).metadata.labels), 'pg-system is bound')
    t.equal(enforced(labelled('pg-system', undefined), elsewhere).mode, 'off', 'pullguard\'s own namespace, wherever it runs: skipped')
    t.equal(enforced(labelled('pg-system', 'private'), elsewhere).mode, 'off', 'even labelled private')
    t.equal(enforced(labelled('pg-systemx', undefined), elsewhere).mode, 'private', 'anchored: not a longer name')
  })

  t.test('CEL: missing or odd keys never deny everything; an older ConfigMap means labels only', async (t) => {
    const full = params(keys, [], { alwaysPull: 'private', excludeNamespaces: ['sandbox'] })
    const data = full.data as Record<string, string>
    const without = (...drop: string[]): KObject => configMap(Object.fromEntries(Object.entries(data).filter(([k]) => !drop.includes(k))))
    const old = without('alwaysPull', 'excludedNamespaces')
    const modes = (cm: KObject | null, name = 'team-a'): Record<string, Mode> =>
      Object.fromEntries([undefined, 'private', 'all', 'off', 'bogus'].map((l) => [l ?? '(none)', enforced(labelled(name, l), cm).mode]))
    t.same(modes(old), { '(none)': 'off', private: 'private', all: 'all', off: 'off', bogus: 'off' }, 'only private and public (an older pullguard): labels only, as before')
    t.same(modes(without('alwaysPull')), { '(none)': 'off', private: 'private', all: 'all', off: 'off', bogus: 'off' }, 'no alwaysPull: labels only')
    t.same(modes(configMap({ ...data, alwaysPull: 'sometimes' })), { '(none)': 'off', private: 'private', all: 'all', off: 'off', bogus: 'off' }, 'an alwaysPull no pullguard writes: labels only')
    t.same(modes(full), { '(none)': 'private', private: 'private', all: 'all', off: 'off', bogus: 'private' }, 'all keys: the default applies')
    t.same(modes(full, 'sandbox'), { '(none)': 'off', private: 'off', all: 'all', off: 'off', bogus: 'off' }, 'all keys: sandbox excluded')
    t.equal(enforced(labelled('sandbox', undefined), without('excludedNamespaces')).mode, 'private', 'no excludedNamespaces: nothing excluded')
    t.equal(enforced(labelled('sandbox', undefined), configMap({ ...data, excludedNamespaces: '' })).mode, 'private', 'excludedNamespaces "": nothing excluded (no CEL error)')
    t.same(modes(configMap()), { '(none)': 'off', private: 'off', all: 'all', off: 'off', bogus: 'off' }, 'a ConfigMap without data: nothing private, nothing by default, no CEL error')
    t.same(modes(null), { '(none)': 'off', private: 'off', all: 'all', off: 'off', bogus: 'off' }, 'no ConfigMap (parameterNotFoundAction Allow): only pullguard-always-pull')
  })

  t.test('CEL: in all mode the rule is pullguard-always-pull\'s, field for field', async (t) => {
    const cm = params(keys, [], { alwaysPull: 'all' })
    const running = pod({
      initContainers: [c('init', 'busybox:1', 'IfNotPresent')],
      containers: [c('app', 'nginx:1', 'IfNotPresent'), c('side', privateImage, 'Always')],
      volumes: [{ name: 'cfg', configMap: { name: 'x' } }, { name: 'data', image: { reference: 'data:1', pullPolicy: 'IfNotPresent' } }],
    })
    const edit = (f: (p: KObject) => void): KObject => { const p = structuredClone(running); f(p); return p }
    const inputs: Array<[string, Omit<AdmissionInput, 'params' | 'namespaceObject'>]> = [
      ['CREATE', { operation: 'CREATE', object: running, oldObject: null }],
      ['CREATE, everything Always', { operation: 'CREATE', object: edit((p) => { for (const x of [...p.spec.initContainers, ...p.spec.containers]) x.imagePullPolicy = 'Always'; p.spec.volumes[1].image.pullPolicy = 'Always' }), oldObject: null }],
      ['CREATE, no pull policies', { operation: 'CREATE', object: edit((p) => { for (const x of [...p.spec.initContainers, ...p.spec.containers]) delete x.imagePullPolicy; delete p.spec.volumes[1].image.pullPolicy }), oldObject: null }],
      ['CREATE, an image volume without reference', { operation: 'CREATE', object: edit((p) => { p.spec.volumes.push({ name: 'empty', image: {} }) }), oldObject: null }],
      ['UPDATE, relabelled', { operation: 'UPDATE', object: edit((p) => { p.metadata.labels = { x: 'y' } }), oldObject: running }],
      ['UPDATE, a new image', { operation: 'UPDATE', object: edit((p) => { p.spec.containers[0].image = 'nginx:2' }), oldObject: running }],
      ['UPDATE, a new volume image', { operation: 'UPDATE', object: edit((p) => { p.spec.volumes[1].image.reference = 'data:2' }), oldObject: running }],
      ['kubectl debug, a new image', { operation: 'UPDATE', subResource: 'ephemeralcontainers', object: edit((p) => { p.spec.ephemeralContainers = [c('dbg', 'busybox:2', 'IfNotPresent')] }), oldObject: running }],
      ['kubectl debug, an image the pod has', { operation: 'UPDATE', subResource: 'ephemeralcontainers', object: edit((p) => { p.spec.ephemeralContainers = [c('dbg', 'busybox:1')] }), oldObject: running }],
    ]
    for (const [what, input] of inputs) {
      const here = refused(policy, { ...input, params: cm, namespaceObject: labelled('team-a', undefined) })
      const there = refused(allPolicy, { ...input, params: null, namespaceObject: labelled('team-a', 'all') })
      t.same([...here].sort(), [...there].sort(), `${what}: refuses ${[...there].sort().join(', ') || 'nothing'}, as pullguard-always-pull`)
    }
  })

  t.test('CEL: a string that is no valid reference is forced, as pullguard forces it', async (t) => {
    const cm = params([mustParse('ghcr.io/acme')], ['docker.io/library/'])
    const hex = 'a'.repeat(64)
    const long = `ghcr.io/other/${'x'.repeat(240)}`
    const cases: ReadonlyArray<readonly [string, boolean, string]> = [
      ['NGINX', true, 'uppercase repository'],
      ['ghcr.io/Acme/x', true, 'uppercase path'],
      [hex, true, 'a bare 64-hex ID'],
      [`nginx@sha256:${'a'.repeat(32)}`, true, 'a digest of the wrong length'],
      [`nginx@md5:${'a'.repeat(32)}`, true, 'an unregistered digest algorithm'],
      ['nginx:1:2', true, 'two tags'],
      ['ghcr.io//x', true, 'an empty path component'],
      [`${'n'.repeat(248)}`, true, 'a Docker Hub name of 248 characters: library/ makes it 256'],
      [long, true, 'over 247 characters: counted as possibly invalid (valid for pullguard: more enforcement)'],
      [`nginx@sha256:${'a'.repeat(64)}`, false, 'a valid public image with a digest'],
      ['nginx:1.25-alpine', false, 'a valid public image with a tag'],
      ['ghcr.io/other/x:Latest_1', false, 'a valid image nobody holds a key for'],
    ]
    const got = requiresAlways(policy, cm, cases.map(([image]) => image))
    cases.forEach(([image, want, why], i) => {
      if (image !== long) t.equal(nameOf(image) === undefined, want, `${why}: pullguard's parser agrees`)
      t.equal(got[i], want, `${why}: ${want ? 'Always required' : 'allowed'}`)
    })
  })

  t.test('CEL cost: the worst pod list stays under the per-expression limit', async (t) => {
    // cel-go interpreter/runtimecost.go: matches() costs ceil(0.1 × (1 + |string|)) × ceil(0.25 × |pattern|);
    // apiserver/pkg/apis/cel PerCallLimit = 1,000,000 per expression. Each list is one expression.
    const expression = (policy.spec.variables as KObject[]).find((v) => v.name === 'badContainers')?.expression as string
    const constants = [...expression.matchAll(/(?<![\w])r'([^']*)'/g)].map((m) => m[1] as string)
    t.equal(constants.length, 2, 'two constant patterns: the reference grammar and the 64-hex ID')
    const { privateChars, publicChars } = DEFAULT_PATTERN_LIMITS
    const perImage = (length: number): number => Math.ceil(0.1 * (1 + length)) *
      [...constants.map((c) => c.length), privateChars, publicChars].reduce((sum, n) => sum + Math.ceil(0.25 * n), 0)
    const worst = 32 * (perImage(255) + 50) // + the has(), in, == and size() steps per image, generously
    t.ok(worst <= 1_000_000, `32 new images of 255 characters without Always cost at most ${worst}`)
    // The namespace: its labels and the default are compared, its name matched once per request
    // (a variable, evaluated once), against excludedNamespaces of at most DEFAULT_EXCLUDED_CHARS.
    const variable = (name: string): string => (policy.spec.variables as KObject[]).find((v) => v.name === name)?.expression as string
    t.equal([...variable('enforced').matchAll(/\.matches\(/g)].length, 1, 'one match on the namespace name')
    t.equal([...variable('labelMode').matchAll(/\.matches\(/g)].length + [...variable('mode').matchAll(/\.matches\(/g)].length, 0, 'the modes: comparisons only')
    const exclusion = Math.ceil(0.1 * (1 + 63)) * Math.ceil(0.25 * DEFAULT_EXCLUDED_CHARS) + 50
    t.ok(exclusion <= 1_000_000, `the excluded-namespace match on a 63-character name costs at most ${exclusion}`)
    t.ok(worst + exclusion <= 1_000_000, 'even counted with the worst list, it fits')
  })

  t.test('CEL property: never looser than pullguard; exemptions only where pullguard exempts; exact outside IPv6', async () => {
    fc.assert(fc.property(
      fc.array(fc.oneof(keyArb, globKeyArb), { maxLength: 3 }),
      fc.array(fc.oneof(keyArb, globKeyArb), { maxLength: 2 }),
      fc.subarray(['docker.io/library/', 'docker.io/acme/', 'docker.io/', 'ghcr.io/public/', 'localhost:5000/']),
      fc.array(imageArb, { minLength: 1, maxLength: 6 }),
      (configKeys: CredentialKey[], secretKeys: CredentialKey[], publicImages: string[], images: string[]) => {
        const keys = [...configKeys, ...secretKeys]
        const got = requiresAlways(policy, params(keys, publicImages), images)
        const forces = pullguardForces(configKeys, secretKeys, publicImages)
        images.forEach((image, i) => {
          // pullguard forces an image a key covers, and in private mode any string that is no valid reference.
          const valid = nameOf(image) !== undefined
          if ((!valid || forces(image)) && got[i] !== true) throw new Error(`${image}: pullguard forces Always, the policy does not require it`)
          const forced = !valid || isForced(keys, publicImages, image)
          if (forced && got[i] !== true) throw new Error(`${image}: the model of pullguard's rule forces Always, the policy does not require it`)
          if (valid && got[i] !== true && isPrivate(keys, image) && !isPublic(publicImages, image)) throw new Error(`${image}: exempted without a publicImages prefix`)
          if (valid && !image.includes('[') && image.length <= 247 && got[i] !== forced) throw new Error(`${image}: policy ${String(got[i])}, pullguard ${String(forced)}`)
        })
      }
    ), { numRuns: 150 })
  })

  t.test('CEL property: the mode enforced per namespace is pullguard\'s (namespacePolicy, exclusions), stricter only for label all where pullguard skips', async () => {
    const nameArb = fc.oneof(
      fc.string({ unit: fc.constantFrom('a', 'b', '0', '-'), minLength: 1, maxLength: 5 }).filter((n) => /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(n)),
      fc.constantFrom(NS, 'kube-system', 'default')
    )
    const globArb = fc.array(fc.constantFrom('a', 'b', '0', '-', '*', '?', '[a-b]', '[^a]', '[0-9]', '[^-]'), { minLength: 1, maxLength: 4 })
      .map((items) => items.join(''))
      .filter((glob) => typeof compileNamespacePattern(glob) !== 'string')
    const labelArb = fc.option(fc.constantFrom('off', 'all', 'private', 'bogus', 'ALL', ''), { nil: undefined })
    const rank: Record<Mode, number> = { off: 0, private: 1, all: 2 }
    fc.assert(fc.property(
      labelArb, fc.constantFrom<Mode>('off', 'all', 'private'), fc.array(fc.oneof(globArb, nameArb), { maxLength: 3 }), nameArb,
      (label, fallback, excludeNamespaces, name) => {
        const config = compileConfig({ alwaysPull: fallback, excludeNamespaces }, { origin: 'property', selfNamespace: NS })
        const ns = labelled(name, label)
        const cluster = { namespace: (n: string) => (n === name ? { name, labels: ns.metadata.labels } : undefined) } as unknown as ClusterView
        // pullguard: not called in kube-system nor its own namespace (the webhook's namespaceSelector), skips excluded ones (gate.ts).
        const skipped = name === 'kube-system' || name === NS || config.isExcluded(name)
        const pullguard: Mode = skipped ? 'off' : namespacePolicy(config, cluster, name, new Warnings()).alwaysPull
        // What the writer would write for this config (no pull Secrets; the keys as if configured).
        const cm = configMap(privateImagesParams(privateImagesInputs(config, { pullSecretKeys: () => keys }), NS).data)
        const got = enforced(ns, cm).mode
        if (rank[got] < rank[pullguard]) throw new Error(`${name} (label ${String(label)}, default ${fallback}, excluded ${JSON.stringify(excludeNamespaces)}): policy ${got}, looser than pullguard's ${pullguard}`)
        const documented = label === 'all' && skipped && got === 'all'
        if (got !== pullguard && !documented) throw new Error(`${name} (label ${String(label)}, default ${fallback}, excluded ${JSON.stringify(excludeNamespaces)}): policy ${got}, pullguard ${pullguard}`)
      }
    ), { numRuns: 300 })
  })
}
