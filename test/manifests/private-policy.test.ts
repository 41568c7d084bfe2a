/**
 * The ValidatingAdmissionPolicy pullguard-always-pull-private, as rendered by
 * `kubectl kustomize`: its objects validate offline, the binding and the RBAC
 * are what the writer needs, and its CEL (run as the API server runs it, see
 * cel.ts) with the params pullguard writes requires Always exactly for the
 * images pullguard would force: on the kubelet's own table, on Docker Hub
 * short names, ports, globs, case and digests, and for generated keys and
 * images (never looser; exemptions only where pullguard exempts).
 */
import t, { type Test } from 'tap'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import fc from 'fast-check'
import { PRIVATE_IMAGES_NAME, privateImagesData } from '../../src/kube/private-images-writer.js'
import { type CredentialKey } from '../../src/registry/credential-key.js'
import { DEFAULT_PATTERN_LIMITS, privateImagePatterns } from '../../src/registry/private-image-patterns.js'
import { imageArb, keyArb, globKeyArb } from '../helpers/image-arbitraries.js'
import { KEY_MATCH_CASES } from '../helpers/keyring-cases.js'
import { mustParse } from '../helpers/keys.js'
import { isForced, isPrivate, isPublic, nameOf, pullguardForces } from '../helpers/private-model.js'
import { evaluatePolicy, matchConditionsHold, type AdmissionInput } from './cel.js'
import { all, describe, findKubectl, KUBECTL_MISSING, kustomize, one, validateObject, type KObject } from './k8s.js'

const MANIFESTS = fileURLToPath(new URL('../../manifests/', import.meta.url))
const NS = 'pullguard'
const POLICY = 'pullguard-always-pull-private'
const DIGEST = `sha256:${'c'.repeat(64)}`

type Labels = Record<string, string>

/** What pullguard writes for these keys, as the API server hands it to the policy. */
function params (keys: readonly CredentialKey[], publicImages: readonly string[] = []): KObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: PRIVATE_IMAGES_NAME, namespace: NS },
    data: privateImagesData(privateImagePatterns(keys, publicImages)),
  }
}

const c = (name: string, image: string, pullPolicy?: string): KObject => ({ name, image, ...(pullPolicy === undefined ? {} : { imagePullPolicy: pullPolicy }) })
const pod = (spec: KObject, annotations?: Labels): KObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'team-a', ...(annotations === undefined ? {} : { annotations }) }, spec })

/** The containers (by name) the policy refuses, read from its messages. */
function refused (policy: KObject, input: AdmissionInput): Set<string> {
  const r = evaluatePolicy(policy, input)
  return new Set([...r.messages.join('\n').matchAll(/spec\.(?:containers|initContainers|ephemeralContainers|volumes)\[name=([^\]]+)\]/g)].map((m) => m[1] as string))
}

/** One pod with one IfNotPresent container per image; the images the policy requires Always for. */
function requiresAlways (policy: KObject, cm: KObject, images: readonly string[]): boolean[] {
  const names = refused(policy, { operation: 'CREATE', object: pod({ containers: images.map((image, i) => c(`c${i}`, image, 'IfNotPresent')) }), oldObject: null, params: cm })
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

  t.test('policy and binding: valid, bound to the ConfigMap pullguard writes, Allow when it is missing', async (t) => {
    for (const obj of [policy, binding, one(base, 'Role', PRIVATE_IMAGES_NAME), one(base, 'RoleBinding', PRIVATE_IMAGES_NAME)]) {
      t.same(await validateObject(obj), [], `${describe(obj)} validates`)
    }
    t.equal(policy.apiVersion, 'admissionregistration.k8s.io/v1', 'GA API (1.30)')
    t.equal(policy.spec.failurePolicy, 'Fail', 'failurePolicy Fail: a CEL error denies')
    t.same(policy.spec.paramKind, { apiVersion: 'v1', kind: 'ConfigMap' })
    const allPolicy = one(base, 'ValidatingAdmissionPolicy', 'pullguard-always-pull')
    t.same(policy.spec.matchConstraints, allPolicy.spec.matchConstraints, 'the same requests as pullguard-always-pull (pods CREATE/UPDATE, pods/ephemeralcontainers UPDATE)')
    t.same(policy.spec.matchConditions, allPolicy.spec.matchConditions, 'the same mirror-pod condition')
    t.same(binding.spec.paramRef, { name: PRIVATE_IMAGES_NAME, namespace: NS, parameterNotFoundAction: 'Allow' }, 'paramRef: the writer\'s ConfigMap; Allow while it does not exist')
    t.same(binding.spec.validationActions, ['Deny'])
    t.equal(binding.spec.policyName, POLICY)
    t.same(binding.spec.matchResources.namespaceSelector, { matchLabels: { 'pullguard.dev/always-pull': 'private' } }, 'only namespaces labelled always-pull=private')
    for (const v of policy.spec.validations as KObject[]) t.ok(typeof v.message === 'string' && typeof v.messageExpression === 'string', 'message and messageExpression')
    const text = JSON.stringify(policy.spec)
    for (const field of ['initContainers', 'containers', 'ephemeralContainers', 'volumes', 'imagePullPolicy', 'pullPolicy', 'oldObject', 'params.data']) t.ok(text.includes(field), `the CEL covers ${field}`)
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
    const verdict = (input: Omit<AdmissionInput, 'params'>, p: KObject | null = cm): ReturnType<typeof evaluatePolicy> => evaluatePolicy(policy, { ...input, params: p })
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

    t.equal(evaluatePolicy(policy, { operation: 'CREATE', object: pod({ containers: [c('app', priv, 'IfNotPresent')] }, { 'kubernetes.io/config.mirror': 'x' }), oldObject: null, username: 'system:node:n1', params: cm }).skipped, true, 'a mirror pod from a node: skipped')
    t.equal(verdict(create(pod({ containers: [c('app', priv, 'IfNotPresent')] }, { 'kubernetes.io/config.mirror': 'x' }), 'mallory')).allowed, false, 'the mirror annotation from a user: still denied')
    t.ok(matchConditionsHold(policy.spec.matchConditions, { operation: 'CREATE', object: pod({ containers: [] }), oldObject: null }), 'an ordinary pod is evaluated')

    const p = pod({ containers: [c('app', priv, 'IfNotPresent')] })
    t.same(verdict(create(p), { ...cm, data: { private: '', public: '' } }).messages, [], 'empty patterns: nothing private')
    t.same(verdict(create(p), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: PRIVATE_IMAGES_NAME } }).messages, [], 'a ConfigMap without data (not written yet): allowed, no CEL error')
    t.same(verdict(create(p), { ...cm, data: { other: 'x' } }).messages, [], 'a ConfigMap without the keys: allowed')
    t.equal(verdict(create(p), { ...cm, data: { private: cm.data.private } }).allowed, false, 'no public key: no exemption, no CEL error')
    t.equal(verdict(create(p), { ...cm, data: { private: '^' } }).allowed, false, 'coarsest patterns (everything private): denied')
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
      },
    ), { numRuns: 150 })
  })
}
