/**
 * The deployment manifests: every kustomization under manifests/ is rendered
 * with `kubectl kustomize`, every object is validated offline against the
 * Kubernetes schemas, and what matters for a webhook in the pod-creation path
 * (security context, availability, RBAC, the exact webhook registration, the
 * CEL of the enforcement policy) is checked on the rendered output.
 */
import t, { type Test } from 'tap'
import { X509Certificate } from 'node:crypto'
import { execFile } from 'node:child_process'
import { cp, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, posix } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import fc from 'fast-check'
import { validate } from '../../src/admission/policy.js'
import { loadConfig } from '../../src/config/compile.js'
import { caBundle, generateCertificates } from '../../src/tls/certs.js'
import { testConfig } from '../helpers/fixtures.js'
import { inputOf } from '../helpers/review.js'
import { evaluatePolicy, matchConditionsHold, type AdmissionInput } from './cel.js'
import {
  all, describe, findKubectl, KUBECTL_MISSING, kustomize, one, parseObjects, selects, strictFieldsCovered, validateObject, type KObject,
} from './k8s.js'

const execFileAsync = promisify(execFile)
const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const MANIFESTS = join(ROOT, 'manifests')
const NS = 'pullguard'
const NAME_LABEL = 'app.kubernetes.io/name'

// --- small helpers ------------------------------------------------------------

type Labels = Record<string, string>

/** Labels the API server puts on a namespace, plus extra ones. */
function namespaceLabels (name: string, extra: Labels = {}): Labels {
  return { 'kubernetes.io/metadata.name': name, ...extra }
}

function container (deployment: KObject): KObject {
  const c = (deployment.spec.template.spec.containers as KObject[]).find((x) => x.name === 'pullguard')
  if (c === undefined) throw new Error('no container named pullguard')
  return c
}

/** A probe/Service port (name or number) as a container port number. */
function containerPort (c: KObject, port: string | number): number | undefined {
  if (typeof port === 'number') return (c.ports as KObject[]).some((p) => p.containerPort === port) ? port : undefined
  return (c.ports as KObject[]).find((p) => p.name === port)?.containerPort
}

function env (c: KObject, name: string): KObject | undefined {
  return (c.env as KObject[] | undefined)?.find((e) => e.name === name)
}

function isUnder (file: string, dir: string): boolean {
  const rel = posix.relative(dir, file)
  return rel !== '' && !rel.startsWith('..') && !posix.isAbsolute(rel)
}

const WRITE_VERBS = ['create', 'update', 'patch', 'delete', 'deletecollection', 'escalate', 'bind', 'impersonate', 'approve', 'sign']

// --- rendering ----------------------------------------------------------------

t.test('a missing kubectl is reported, not skipped', async (t) => {
  t.equal(findKubectl({ PATH: '/nonexistent' }, []), undefined, 'nothing found')
  t.equal(findKubectl({ KUBECTL: '/nonexistent/kubectl', PATH: '' }, []), undefined, 'a KUBECTL that does not exist is not used')
  t.match(KUBECTL_MISSING, /kubectl not found[\s\S]*kubectl kustomize[\s\S]*KUBECTL=/, 'the message says what is missing and how to point at it')
})

const kubectl = findKubectl()
if (kubectl === undefined) {
  t.fail(KUBECTL_MISSING)
} else {
  // One parent test: the renders below are awaited inside it, so tap cannot
  // consider the file finished (and run the temp-dir teardown) meanwhile.
  t.test('manifests rendered with kubectl kustomize', (t) => run(t, kubectl))
}

async function run (t: Test, kubectl: string): Promise<void> {
  // Throwaway certificates for the static-certs overlay, in a temp copy of
  // manifests/ (the real certs/ directory is git-ignored and may not exist).
  const tmp = await mkdtemp(join(tmpdir(), 'pullguard-manifests-'))
  t.teardown(() => rm(tmp, { recursive: true, force: true }))
  const copy = join(tmp, 'manifests')
  await cp(MANIFESTS, copy, { recursive: true, filter: (src) => !src.includes(join('static-certs', 'certs')) })
  const certDir = join(copy, 'overlays', 'static-certs', 'certs')
  const certs = generateCertificates({ service: 'pullguard', namespace: NS })
  await mkdir(certDir, { recursive: true })
  await writeFile(join(certDir, 'ca.crt'), certs.caCert)
  await writeFile(join(certDir, 'tls.crt'), certs.cert)
  await writeFile(join(certDir, 'tls.key'), certs.key, { mode: 0o600 })
  // Composition: the components combine (validating webhook + cert-manager).
  const combo = join(copy, 'overlays', 'test-combo')
  await mkdir(combo)
  await writeFile(join(combo, 'kustomization.yaml'), [
    'apiVersion: kustomize.config.k8s.io/v1beta1',
    'kind: Kustomization',
    'resources: [../../base]',
    'components:',
    '  - ../../components/validating-webhook',
    '  - ../../components/tls-from-secret',
    '  - ../../components/cert-manager',
    '',
  ].join('\n'))

  const renderScript = join(copy, 'overlays', 'static-certs', 'render.sh')
  t.test('render.sh is executable (keep git mode 100755)', async (t) => {
    t.ok(((await stat(join(MANIFESTS, 'overlays', 'static-certs', 'render.sh'))).mode & 0o111) !== 0, 'render.sh has the executable bit')
  })
  const staticOut = await execFileAsync('sh', [renderScript], { env: { ...process.env, KUBECTL: kubectl }, timeout: 60_000, maxBuffer: 32 * 1024 * 1024 })

  const renders = new Map<string, KObject[]>([
    ['base', await kustomize(kubectl, join(MANIFESTS, 'base'))],
    ['validating-webhook', await kustomize(kubectl, join(MANIFESTS, 'overlays', 'validating-webhook'))],
    ['no-match-conditions', await kustomize(kubectl, join(MANIFESTS, 'overlays', 'no-match-conditions'))],
    ['cert-manager', await kustomize(kubectl, join(MANIFESTS, 'overlays', 'cert-manager'))],
    ['static-certs', parseObjects(staticOut.stdout, 'render.sh')],
    ['static-certs (kubectl kustomize, without render.sh)', await kustomize(kubectl, join(copy, 'overlays', 'static-certs'))],
    ['combo: validating-webhook + cert-manager', await kustomize(kubectl, combo)],
  ])
  const get = (name: string): KObject[] => {
    const objects = renders.get(name)
    if (objects === undefined) throw new Error(`not rendered: ${name}`)
    return objects
  }
  const base = get('base')

  t.test('every overlay under manifests/overlays is rendered and checked here', async (t) => {
    const dirs = (await readdir(join(MANIFESTS, 'overlays'), { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name).sort()
    t.same(dirs, ['cert-manager', 'no-match-conditions', 'static-certs', 'validating-webhook'])
    for (const dir of dirs) t.ok(renders.has(dir), `${dir} rendered`)
  })

  t.test('the offline validator itself', async (t) => {
    const deployment = structuredClone(one(base, 'Deployment', 'pullguard'))
    t.same(await validateObject(deployment), [], 'the rendered Deployment passes')
    t.match((await validateObject({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } }))[0], /unknown kind/, 'an unknown kind fails')
    t.match((await validateObject({ apiVersion: 'v1', kind: 'Pod2', metadata: { name: 'w' } }))[0], /unknown kind/, 'an unknown core kind fails')
    t.match((await validateObject({ apiVersion: 'apps/v2', kind: 'Deployment', metadata: { name: 'w' } }))[0], /unknown kind/, 'an unknown version fails')
    const typo = structuredClone(deployment)
    typo.spec.template.spec.containers[0].imagePullPolicee = 'Always'
    t.match((await validateObject(typo)).join('\n'), /containers\[0\]\.imagePullPolicee: unknown field/, 'an unknown nested field fails')
    const wrongType = structuredClone(deployment)
    wrongType.spec.replicas = '2'
    t.match((await validateObject(wrongType)).join('\n'), /replicas must be integer/, 'a wrong type fails')
    const missing = structuredClone(one(base, 'MutatingWebhookConfiguration'))
    delete missing.webhooks[0].sideEffects
    t.match((await validateObject(missing)).join('\n'), /sideEffects/, 'a missing required field fails')
    const badCert = structuredClone(one(get('cert-manager'), 'Certificate', 'pullguard-serving'))
    badCert.spec.dnsNames = 'pullguard'
    t.match((await validateObject(badCert)).join('\n'), /dnsNames must be array/, 'cert-manager objects are schema-checked')
  })

  for (const [name, objects] of renders) {
    t.test(`${name}: every object is valid`, async (t) => {
      t.ok(objects.length > 0, 'renders objects')
      for (const obj of objects) {
        t.same(await validateObject(obj), [], `${describe(obj)} validates${strictFieldsCovered(obj) ? ' (schema + no unknown fields)' : ' (schema)'}`)
      }
      const keys = objects.map((o) => `${o.apiVersion}/${o.kind}/${o.metadata?.namespace ?? ''}/${o.metadata?.name}`)
      t.equal(new Set(keys).size, keys.length, 'no object twice')
      for (const obj of objects) {
        t.equal(obj.metadata?.labels?.[NAME_LABEL], 'pullguard', `${describe(obj)} has ${NAME_LABEL}=pullguard`)
      }
      const clusterScoped = ['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration', 'ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding']
      for (const obj of objects) {
        if (clusterScoped.includes(obj.kind)) t.equal(obj.metadata.namespace, undefined, `${describe(obj)} is cluster-scoped`)
        else t.equal(obj.metadata.namespace, NS, `${describe(obj)} is in namespace ${NS}`)
      }
    })

    t.test(`${name}: Deployment`, async (t) => {
      checkDeployment(t, objects, { bootstrap: name === 'base' || name === 'validating-webhook' || name === 'no-match-conditions' })
    })

    t.test(`${name}: Service, PodDisruptionBudget, webhook endpoints`, async (t) => {
      checkServiceAndWebhookWiring(t, objects)
    })

    t.test(`${name}: RBAC`, async (t) => {
      checkRbac(t, objects, { bootstrap: name === 'base' || name === 'validating-webhook' || name === 'no-match-conditions' })
    })
  }

  t.test('base: Namespace', async (t) => {
    const ns = one(base, 'Namespace', NS)
    t.equal(ns.metadata.labels['pullguard.dev/inject'], 'false', 'pullguard.dev/inject: "false"')
    t.equal(ns.metadata.labels['pod-security.kubernetes.io/enforce'], 'restricted', 'Pod Security restricted')
  })

  t.test('base: the config in the ConfigMap is a valid pullguard config', async (t) => {
    const cm = one(base, 'ConfigMap', 'pullguard-config')
    t.same(Object.keys(cm.data), ['config.yaml'], 'one key, config.yaml')
    t.equal(cm.data['config.yaml'], await readFile(join(MANIFESTS, 'base', 'config.yaml'), 'utf8'), 'generated from base/config.yaml')
    const config = loadConfig(cm.data['config.yaml'], { origin: 'base/config.yaml', selfNamespace: NS })
    t.equal(config.alwaysPull, 'off', 'alwaysPull off cluster-wide (namespaces opt in by label)')
  })

  t.test('base: MutatingWebhookConfiguration, exactly', async (t) => {
    const mwc = one(base, 'MutatingWebhookConfiguration', 'pullguard')
    t.equal(mwc.webhooks.length, 1, 'one webhook')
    const w = mwc.webhooks[0] as KObject
    t.equal(w.name, 'pods.pullguard.dev')
    t.same(w.rules, [
      { operations: ['CREATE', 'UPDATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'], scope: 'Namespaced' },
      { operations: ['UPDATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods/ephemeralcontainers'], scope: 'Namespaced' },
    ], 'rules: pods CREATE and UPDATE (kubectl set image), pods/ephemeralcontainers UPDATE')
    t.same(w.admissionReviewVersions, ['v1', 'v1beta1'], 'admissionReviewVersions [v1, v1beta1]')
    t.equal(w.sideEffects, 'None', 'sideEffects None')
    t.equal(w.timeoutSeconds, 5, 'timeoutSeconds 5')
    t.ok(w.timeoutSeconds <= 10, 'timeoutSeconds <= 10')
    t.equal(w.failurePolicy, 'Ignore', 'failurePolicy Ignore')
    t.equal(w.reinvocationPolicy, 'IfNeeded', 'reinvocationPolicy IfNeeded')
    t.equal(w.matchPolicy, 'Equivalent', 'matchPolicy Equivalent')
    t.same(w.clientConfig, { service: { namespace: NS, name: 'pullguard', path: '/mutate', port: 443 } }, 'service clientConfig, no url, no caBundle (bootstrap fills it)')
    t.same(w.namespaceSelector, {
      matchExpressions: [
        { key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['kube-system', NS] },
        { key: 'pullguard.dev/inject', operator: 'NotIn', values: ['false'] },
      ],
    }, 'namespaceSelector')
    t.notOk(selects(w.namespaceSelector, namespaceLabels('kube-system')), 'kube-system excluded')
    t.notOk(selects(w.namespaceSelector, namespaceLabels(NS)), `${NS} excluded`)
    t.notOk(selects(w.namespaceSelector, namespaceLabels('team-a', { 'pullguard.dev/inject': 'false' })), 'inject=false excluded')
    t.ok(selects(w.namespaceSelector, namespaceLabels('team-a')), 'an ordinary namespace included')
    t.ok(selects(w.namespaceSelector, namespaceLabels('team-a', { 'pullguard.dev/inject': 'true', 'pullguard.dev/always-pull': 'all' })), 'inject=true included')
    t.equal(w.objectSelector, undefined, 'no objectSelector (pod labels never opt out)')
    checkMirrorPodCondition(t, w.matchConditions)
    t.same((w.matchConditions as KObject[]).map((c) => c.name), ['skip-mirror-pods', IMAGE_CHANGE_CONDITION], 'matchConditions: mirror pods, then image changes')
    checkImageChangeCondition(t, w.matchConditions)
  })

  for (const [name, objects] of renders) {
    t.test(`${name}: the webhooks are called for pod UPDATE`, async (t) => {
      const mutating = one(objects, 'MutatingWebhookConfiguration', 'pullguard').webhooks as KObject[]
      const validating = all(objects, 'ValidatingWebhookConfiguration').flatMap((c) => c.webhooks as KObject[])
      for (const w of [...mutating, ...validating]) {
        t.ok(routes(w, 'pods', 'CREATE'), `${w.name}: pods CREATE`)
        t.ok(routes(w, 'pods', 'UPDATE'), `${w.name}: pods UPDATE (no subresource)`)
        t.ok(routes(w, 'pods/ephemeralcontainers', 'UPDATE'), `${w.name}: pods/ephemeralcontainers UPDATE`)
        t.notOk(routes(w, 'pods/status', 'UPDATE'), `${w.name}: not pods/status (the kubelet's frequent updates)`)
        const condition = (w.matchConditions as KObject[] | undefined)?.find((c) => c.name === IMAGE_CHANGE_CONDITION)
        if (name === 'no-match-conditions') t.equal(condition, undefined, `${w.name}: no matchConditions, pullguard sees every update`)
        else t.same(condition, (one(base, 'MutatingWebhookConfiguration').webhooks[0].matchConditions as KObject[])[1], `${w.name}: the base's ${IMAGE_CHANGE_CONDITION}`)
      }
      t.equal(mutating[0]?.failurePolicy, 'Ignore', 'the mutating webhook keeps failurePolicy Ignore')
    })
  }

  t.test('base: ValidatingAdmissionPolicy pullguard-always-pull', async (t) => {
    const policy = one(base, 'ValidatingAdmissionPolicy', 'pullguard-always-pull')
    const binding = one(base, 'ValidatingAdmissionPolicyBinding', 'pullguard-always-pull')
    t.equal(policy.apiVersion, 'admissionregistration.k8s.io/v1', 'GA API (1.30)')
    t.equal(policy.spec.failurePolicy, 'Fail', 'failurePolicy Fail')
    t.same(policy.spec.matchConstraints.resourceRules, [
      { operations: ['CREATE', 'UPDATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'], scope: 'Namespaced' },
      { operations: ['UPDATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods/ephemeralcontainers'], scope: 'Namespaced' },
    ], 'pods CREATE/UPDATE and pods/ephemeralcontainers UPDATE')
    t.equal(binding.spec.policyName, policy.metadata.name, 'binding names the policy')
    t.same(binding.spec.validationActions, ['Deny'], 'validationActions [Deny]')
    t.same(binding.spec.matchResources.namespaceSelector, { matchLabels: { 'pullguard.dev/always-pull': 'all' } }, 'only namespaces labelled always-pull=all')
    t.ok(selects(binding.spec.matchResources.namespaceSelector, namespaceLabels('t', { 'pullguard.dev/always-pull': 'all' })), 'always-pull=all bound')
    t.notOk(selects(binding.spec.matchResources.namespaceSelector, namespaceLabels('t', { 'pullguard.dev/always-pull': 'private' })), 'always-pull=private not bound')
    const text = JSON.stringify(policy.spec)
    for (const field of ['initContainers', 'containers', 'ephemeralContainers', 'volumes', 'imagePullPolicy', 'pullPolicy', 'oldObject']) {
      t.ok(text.includes(field), `the CEL covers ${field}`)
    }
    for (const v of policy.spec.validations as KObject[]) {
      t.ok(typeof v.message === 'string' && typeof v.messageExpression === 'string', 'message and messageExpression')
    }
    checkMirrorPodCondition(t, policy.spec.matchConditions)
    checkPolicyCel(t, policy)
  })

  t.test('validating-webhook overlay: the webhook replaces the policy', async (t) => {
    const objects = get('validating-webhook')
    t.equal(all(objects, 'ValidatingAdmissionPolicy').length, 0, 'no ValidatingAdmissionPolicy')
    t.equal(all(objects, 'ValidatingAdmissionPolicyBinding').length, 0, 'no binding')
    checkValidatingWebhook(t, objects, one(base, 'ValidatingAdmissionPolicy', 'pullguard-always-pull'), { matchConditions: true })
    t.same(one(objects, 'MutatingWebhookConfiguration'), one(base, 'MutatingWebhookConfiguration'), 'the mutating webhook is unchanged')
  })

  t.test('no-match-conditions overlay', async (t) => {
    const objects = get('no-match-conditions')
    t.equal(all(objects, 'ValidatingAdmissionPolicy').length, 0, 'no ValidatingAdmissionPolicy (needs 1.30)')
    for (const kind of ['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration']) {
      for (const w of one(objects, kind).webhooks as KObject[]) t.equal(w.matchConditions, undefined, `${kind} ${w.name}: no matchConditions`)
    }
    checkValidatingWebhook(t, objects, one(base, 'ValidatingAdmissionPolicy', 'pullguard-always-pull'), { matchConditions: false })
    const mwc = structuredClone(one(objects, 'MutatingWebhookConfiguration'))
    const baseMwc = structuredClone(one(base, 'MutatingWebhookConfiguration'))
    delete baseMwc.webhooks[0].matchConditions
    t.same(mwc, baseMwc, 'otherwise the same mutating webhook')
  })

  t.test('cert-manager overlay', async (t) => {
    const objects = get('cert-manager')
    checkExternalCertificates(t, objects)
    t.equal(one(objects, 'MutatingWebhookConfiguration').metadata.annotations?.['cert-manager.io/inject-ca-from'], `${NS}/pullguard-serving`, 'inject-ca-from on the mutating webhook')
    const selfSigned = one(objects, 'Issuer', 'pullguard-selfsigned')
    t.same(selfSigned.spec, { selfSigned: {} }, 'self-signed Issuer')
    const ca = one(objects, 'Certificate', 'pullguard-ca')
    t.equal(ca.spec.isCA, true, 'CA Certificate isCA')
    t.equal(ca.spec.issuerRef.name, 'pullguard-selfsigned', 'CA signed by the self-signed Issuer')
    const caIssuer = one(objects, 'Issuer', 'pullguard-ca')
    t.equal(caIssuer.spec.ca.secretName, ca.spec.secretName, 'CA Issuer uses the CA Secret')
    const serving = one(objects, 'Certificate', 'pullguard-serving')
    t.same(serving.spec.dnsNames, ['pullguard', 'pullguard.pullguard', 'pullguard.pullguard.svc', 'pullguard.pullguard.svc.cluster.local'], 'serving DNS names')
    t.equal(serving.spec.issuerRef.name, 'pullguard-ca', 'serving certificate signed by the CA Issuer')
    t.equal(serving.spec.secretName, 'pullguard-serving-tls', 'secretName pullguard-serving-tls')
    t.ok(serving.spec.usages.includes('server auth'), 'server auth usage')
    t.notOk(serving.spec.isCA, 'serving certificate is not a CA')
    const volume = (one(objects, 'Deployment').spec.template.spec.volumes as KObject[]).find((v) => v.secret !== undefined)
    t.equal(volume?.secret.secretName, serving.spec.secretName, 'the Deployment mounts the Secret cert-manager writes')
  })

  t.test('static-certs overlay (render.sh, throwaway certificates)', async (t) => {
    const objects = get('static-certs')
    checkExternalCertificates(t, objects)
    const expected = caBundle(certs.caCert)
    const mwc = one(objects, 'MutatingWebhookConfiguration')
    const bundle = mwc.webhooks[0].clientConfig.caBundle as string | undefined
    t.ok(typeof bundle === 'string' && bundle.length > 0, 'caBundle is filled in')
    t.equal(bundle, expected, 'caBundle is base64 of certs/ca.crt')
    const secret = one(objects, 'Secret', 'pullguard-serving-tls')
    t.equal(secret.type, 'kubernetes.io/tls', 'Secret type kubernetes.io/tls')
    t.same(Object.keys(secret.data).sort(), ['ca.crt', 'tls.crt', 'tls.key'], 'tls.crt, tls.key and ca.crt')
    const servingPem = Buffer.from(secret.data['tls.crt'], 'base64').toString('utf8')
    const serving = new X509Certificate(servingPem)
    const caCert = new X509Certificate(Buffer.from(bundle ?? '', 'base64'))
    t.ok(serving.verify(caCert.publicKey), 'the serving certificate is signed by the caBundle CA')
    t.match(serving.subjectAltName ?? '', /DNS:pullguard\.pullguard\.svc(,|$)/, 'SAN pullguard.pullguard.svc (what the API server calls)')
    t.equal(Buffer.from(secret.data['tls.key'], 'base64').toString('utf8'), certs.key, 'the key from certs/tls.key')
  })

  t.test('static-certs without render.sh: kustomize alone fills the caBundle', async (t) => {
    const objects = get('static-certs (kubectl kustomize, without render.sh)')
    checkExternalCertificates(t, objects)
    const bundle = one(objects, 'MutatingWebhookConfiguration').webhooks[0].clientConfig.caBundle as string
    // Wrapped like the Secret's data; the API server's base64 decoder skips newlines.
    t.equal(bundle.replace(/\s/g, ''), caBundle(certs.caCert), 'caBundle (whitespace aside) is base64 of certs/ca.crt')
  })

  t.test('static-certs render.sh: caBundle post-processing', async (t) => {
    // A stand-in kubectl whose output render.sh must check and rewrite.
    const fakeDir = join(tmp, 'fake-kubectl')
    await mkdir(fakeDir)
    const fake = join(fakeDir, 'kubectl')
    const expected = caBundle(certs.caCert)
    const wrapped = expected.match(/.{1,70}/g)?.join('\n      ') ?? ''
    const fakeOutput = (value: string): string => [
      'apiVersion: admissionregistration.k8s.io/v1', 'kind: MutatingWebhookConfiguration', 'metadata:', '  name: pullguard', 'webhooks:',
      '- name: pods.pullguard.dev', '  clientConfig:', `    caBundle: ${value}`, '    service:', '      name: pullguard', '']
      .join('\n')
    const runWith = async (output: string): Promise<{ stdout: string }> => {
      await writeFile(join(fakeDir, 'out.yaml'), output)
      await writeFile(fake, `#!/bin/sh\ncat '${join(fakeDir, 'out.yaml')}'\n`, { mode: 0o755 })
      return execFileAsync('sh', [renderScript], { env: { ...process.env, KUBECTL: fake }, timeout: 60_000 })
    }
    const joined = await runWith(fakeOutput(`|\n      ${wrapped}`))
    const mwc = one(parseObjects(joined.stdout, 'render.sh'), 'MutatingWebhookConfiguration')
    t.equal(mwc.webhooks[0].clientConfig.caBundle, expected, 'a wrapped caBundle is joined onto one line')
    t.match(joined.stdout, new RegExp(`\\n    caBundle: ${expected.replace(/[+/]/g, '\\$&')}\\n    service:`), 'in place, same indentation')
    t.equal(mwc.webhooks[0].clientConfig.service.name, 'pullguard', 'the lines after it are kept')
    const plain = await runWith(fakeOutput(expected))
    t.equal(one(parseObjects(plain.stdout, 'render.sh'), 'MutatingWebhookConfiguration').webhooks[0].clientConfig.caBundle, expected, 'a one-line caBundle passes as is')
    await t.rejects(runWith(fakeOutput(`|\n      ${wrapped.slice(0, -4)}AAAA`)), { code: 1, stderr: /differs from base64 of certs\/ca\.crt/ }, 'a wrapped caBundle that differs: exit 1')
    await t.rejects(runWith(fakeOutput('QUJD')), { code: 1, stderr: /differs/ }, 'a one-line caBundle that differs: exit 1')
  })

  t.test('static-certs render.sh refuses to render without certificates or caBundle', async (t) => {
    const broken = join(tmp, 'broken')
    await cp(copy, broken, { recursive: true })
    const script = join(broken, 'overlays', 'static-certs', 'render.sh')
    await rm(join(broken, 'overlays', 'static-certs', 'certs'), { recursive: true })
    await t.rejects(execFileAsync('sh', [script], { env: { ...process.env, KUBECTL: kubectl }, timeout: 60_000 }),
      { code: 1, stderr: /certs\/ca\.crt is missing[\s\S]*npm run certs -- --service pullguard --namespace pullguard/ }, 'no certs: exit 1, says how to make them')
    await cp(certDir, join(broken, 'overlays', 'static-certs', 'certs'), { recursive: true })
    const kfile = join(broken, 'overlays', 'static-certs', 'kustomization.yaml')
    const text = await readFile(kfile, 'utf8')
    await writeFile(kfile, text.slice(0, text.indexOf('replacements:')))
    await t.rejects(execFileAsync('sh', [script], { env: { ...process.env, KUBECTL: kubectl }, timeout: 60_000 }),
      { code: 1, stderr: /no caBundle/ }, 'no caBundle in the output: exit 1')
  })

  t.test('components compose: validating webhook + cert-manager', async (t) => {
    const objects = get('combo: validating-webhook + cert-manager')
    checkExternalCertificates(t, objects)
    for (const kind of ['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration']) {
      t.equal(one(objects, kind).metadata.annotations?.['cert-manager.io/inject-ca-from'], `${NS}/pullguard-serving`, `inject-ca-from on the ${kind}`)
    }
    t.equal(all(objects, 'ValidatingAdmissionPolicy').length, 0, 'no policy')
  })
}

// --- checks -------------------------------------------------------------------

const IMAGE_CHANGE_CONDITION = 'skip-updates-without-image-changes'

/** Whether a webhook's rules send `resource` `operation` (no wildcards are used). */
function routes (w: KObject, resource: string, operation: string): boolean {
  return (w.rules as KObject[]).some((r) => (r.apiGroups as string[]).includes('') && (r.apiVersions as string[]).includes('v1') &&
    (r.resources as string[]).includes(resource) && (r.operations as string[]).includes(operation))
}

/**
 * The matchCondition that keeps image-less pod UPDATEs (labels, annotations)
 * away from pullguard, run through CEL: it must send every update that may
 * bring a new image, and never error on a real pod (an error with
 * failurePolicy Ignore would skip the call).
 */
function checkImageChangeCondition (t: Test, conditions: KObject[] | undefined): void {
  const condition = (conditions ?? []).find((c) => c.name === IMAGE_CHANGE_CONDITION) as { name: string, expression: string } | undefined
  t.ok(condition !== undefined, `matchCondition ${IMAGE_CHANGE_CONDITION} present`)
  if (condition === undefined) return
  const calls = (input: AdmissionInput): boolean => matchConditionsHold([condition], input)
  const c = (name: string, image: string, policy = 'IfNotPresent'): KObject => ({ name, image, imagePullPolicy: policy })
  const pod = (spec: KObject): KObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'team-a', labels: { app: 'web' } }, spec })
  const running = pod({
    initContainers: [c('init', 'busybox:1')],
    containers: [c('app', 'nginx'), c('proxy', 'ghcr.io/acme/envoy:1')],
    volumes: [{ name: 'cfg', configMap: { name: 'x' } }, { name: 'data', image: { reference: 'ghcr.io/acme/data:1', pullPolicy: 'IfNotPresent' } }],
  })
  const update = (change: (p: KObject) => void, subResource?: string): AdmissionInput => {
    const object = structuredClone(running)
    change(object)
    return { operation: 'UPDATE', object, oldObject: running, ...(subResource === undefined ? {} : { subResource }) }
  }
  t.equal(calls({ operation: 'CREATE', object: running, oldObject: null }), true, 'CREATE: called')
  t.equal(calls({ operation: 'CREATE', object: pod({ containers: [c('app', 'nginx')] }), oldObject: null }), true, 'CREATE without optional lists: called, no CEL error')
  t.equal(calls(update((p) => { p.metadata.labels.extra = 'yes' })), false, 'label-only UPDATE: not called')
  t.equal(calls(update((p) => { p.metadata.annotations = { 'pullguard.dev/skip': 'true' }; p.metadata.finalizers = ['x'] })), false, 'annotation/finalizer UPDATE: not called')
  t.equal(calls(update((p) => { p.spec.containers[0].image = 'nginx' })), false, 'tag-identical UPDATE (same image string): not called')
  t.equal(calls(update((p) => { p.spec.activeDeadlineSeconds = 30; p.spec.tolerations = [{ key: 'k', operator: 'Exists' }] })), false, 'other spec changes: not called')
  t.equal(calls(update((p) => { p.spec.containers[0].image = 'ghcr.io/other-tenant/private:1' })), true, 'kubectl set image (nginx -> another tenant\'s image): called')
  t.equal(calls(update((p) => { p.spec.containers[0].image = 'nginx:latest' })), true, 'the same image spelt differently: called (pullguard compares strings too)')
  t.equal(calls(update((p) => { p.spec.initContainers[0].image = 'busybox:2' })), true, 'init container image changed: called')
  t.equal(calls(update((p) => { p.spec.containers[0].image = 'ghcr.io/acme/envoy:1'; p.spec.containers[1].image = 'nginx' })), true, 'images swapped between containers: called (pullguard then finds nothing new)')
  t.equal(calls(update((p) => { p.spec.volumes[1].image.reference = 'ghcr.io/acme/data:2' })), true, 'image volume changed: called')
  t.equal(calls(update((p) => { p.spec.volumes.push({ name: 'more', image: { reference: 'ghcr.io/acme/more:1' } }) })), true, 'image volume added: called')
  t.equal(calls(update((p) => { p.spec.volumes.push({ name: 'more', image: {} }) })), true, 'image volume without reference added: called, no CEL error')
  t.equal(calls(update((p) => { p.spec.ephemeralContainers = [c('debugger', 'busybox:1')] })), true, 'ephemeral container added via pods UPDATE: called, even with an image the pod has')
  t.equal(calls(update((p) => { p.spec.ephemeralContainers = [c('debugger', 'nginx')] }, 'ephemeralcontainers')), true, 'pods/ephemeralcontainers: always called (pullguard forces Always on every new one)')
  t.equal(calls(update((p) => { delete p.spec.containers[0].image })), true, 'a container without image: called, no CEL error')
  const bare = pod({ containers: [c('app', 'nginx')] })
  t.equal(calls({ operation: 'UPDATE', object: structuredClone(bare), oldObject: bare }), false, 'old and new pod without optional lists: no CEL error')
  t.equal(calls({ operation: 'UPDATE', object: running, oldObject: bare }), true, 'lists that only the new pod has: called')

  // Never looser than pullguard: whenever the condition skips the call,
  // pullguard itself (alwaysPull: all, the strictest mode) would have let the
  // update through as bringing no new image.
  const strictest = testConfig({ alwaysPull: 'all' })
  const image = fc.constantFrom('nginx', 'nginx:latest', 'busybox:1', 'ghcr.io/acme/app:1', 'ghcr.io/acme/app:2', 'ghcr.io/other/x')
  const containers = (max: number): fc.Arbitrary<KObject[]> => fc.array(fc.record({ name: fc.constantFrom('a', 'b', 'c'), image, imagePullPolicy: fc.constantFrom('IfNotPresent', 'Never') }), { maxLength: max })
  const spec = fc.record({
    initContainers: fc.option(containers(2), { nil: undefined }),
    containers: containers(3),
    ephemeralContainers: fc.option(containers(2), { nil: undefined }),
    volumes: fc.option(fc.array(fc.record({ name: fc.constant('v'), image: fc.record({ reference: image }) }), { maxLength: 2 }), { nil: undefined }),
  }).map((s) => pod(JSON.parse(JSON.stringify(s)) as KObject))
  // New pods are mostly small edits of the old one (one image anywhere set to
  // another, or nothing), so "equal" and "almost equal" come up often.
  const holders = (p: KObject): KObject[] => [
    ...['initContainers', 'containers', 'ephemeralContainers'].flatMap((l) => (p.spec[l] ?? []) as KObject[]),
    ...((p.spec.volumes ?? []) as KObject[]).map((v) => ({ get image () { return v.image.reference }, set image (x: string) { v.image.reference = x } })),
  ]
  const edit = (old: KObject): fc.Arbitrary<KObject> => fc.oneof(
    fc.constant(structuredClone(old)),
    fc.tuple(fc.nat(), image).map(([i, img]) => {
      const p = structuredClone(old)
      const sites = holders(p)
      if (sites.length > 0) (sites[i % sites.length] as KObject).image = img
      return p
    }),
    spec
  )
  const pairs = spec.chain((old) => edit(old).map((object) => ({ old, object })))
  fc.assert(fc.property(pairs, ({ old, object }) => {
    if (calls({ operation: 'UPDATE', object, oldObject: old })) return true
    return validate(inputOf(object, { operation: 'UPDATE', oldObject: old }), strictest).skipped === 'no-new-images'
  }), { numRuns: 300 })
  t.pass('300 generated updates: every one the condition skips is one pullguard passes as bringing no new image')
}

function checkDeployment (t: Test, objects: KObject[], opts: { bootstrap: boolean }): void {
  const deployment = one(objects, 'Deployment', 'pullguard')
  const pod = deployment.spec.template.spec as KObject
  const podLabels = deployment.spec.template.metadata.labels as Labels
  const c = container(deployment)
  const sc = (c.securityContext ?? {}) as KObject
  const psc = (pod.securityContext ?? {}) as KObject

  t.ok(deployment.spec.replicas >= 2, 'replicas >= 2')
  t.ok(selects(deployment.spec.selector, podLabels), 'the selector selects the pod template')
  t.equal(deployment.spec.strategy?.rollingUpdate?.maxUnavailable, 0, 'rollouts never drop below the replica count')

  // Security, each on its own.
  t.equal(psc.runAsNonRoot, true, 'pod runAsNonRoot')
  t.equal(psc.runAsUser, 65532, 'pod runAsUser 65532')
  t.equal(psc.seccompProfile?.type, 'RuntimeDefault', 'pod seccompProfile RuntimeDefault')
  t.equal(sc.runAsNonRoot, true, 'container runAsNonRoot')
  t.equal(sc.runAsUser, 65532, 'container runAsUser 65532')
  t.equal(sc.readOnlyRootFilesystem, true, 'container readOnlyRootFilesystem')
  t.equal(sc.allowPrivilegeEscalation, false, 'container allowPrivilegeEscalation false')
  t.same(sc.capabilities?.drop, ['ALL'], 'container capabilities drop ALL')
  t.equal(sc.capabilities?.add, undefined, 'no capabilities added')
  t.equal(sc.seccompProfile?.type, 'RuntimeDefault', 'container seccompProfile RuntimeDefault')
  t.notOk(sc.privileged, 'not privileged')
  t.notOk(pod.hostNetwork || pod.hostPID || pod.hostIPC, 'no host namespaces')
  t.equal(pod.automountServiceAccountToken, true, 'automountServiceAccountToken true (pullguard calls the API)')
  t.equal(pod.serviceAccountName, 'pullguard', 'serviceAccountName pullguard')
  t.equal(pod.priorityClassName, 'system-cluster-critical', 'priorityClassName system-cluster-critical')

  // Ports and probes.
  t.equal(containerPort(c, 'https'), 8443, 'https container port 8443')
  t.equal(containerPort(c, 'health'), 9090, 'health container port 9090')
  t.equal(env(c, 'PORT')?.value, '8443', 'PORT=8443')
  t.equal(env(c, 'HEALTH_PORT')?.value, '9090', 'HEALTH_PORT=9090')
  const probes: Array<[string, string]> = [['startupProbe', '/healthz'], ['livenessProbe', '/healthz'], ['readinessProbe', '/readyz']]
  for (const [probe, path] of probes) {
    const p = c[probe] as KObject | undefined
    t.ok(p !== undefined, `${probe} present`)
    t.equal(p?.httpGet?.path, path, `${probe} GET ${path}`)
    t.equal(containerPort(c, p?.httpGet?.port), 9090, `${probe} on the health port 9090`)
    t.not(p?.httpGet?.scheme, 'HTTPS', `${probe} over plain HTTP`)
  }

  // Resources: requests, memory limit, no CPU limit.
  t.equal(c.resources?.requests?.cpu, '50m', 'cpu request 50m')
  t.equal(c.resources?.requests?.memory, '192Mi', 'memory request 192Mi (bench:memory: idle at 10,000 namespaces x 5 pull Secrets)')
  t.equal(c.resources?.limits?.memory, '320Mi', 'memory limit 320Mi (above --max-old-space-size=160 plus code and bodies in flight)')
  t.equal(c.resources?.limits?.cpu, undefined, 'no CPU limit (throttling would add admission latency)')

  // Availability.
  const spread = (pod.topologySpreadConstraints ?? []) as KObject[]
  const byHost = spread.find((s) => s.topologyKey === 'kubernetes.io/hostname')
  t.ok(byHost !== undefined, 'topology spread across kubernetes.io/hostname')
  t.equal(byHost?.maxSkew, 1, 'maxSkew 1')
  t.equal(byHost?.whenUnsatisfiable, 'ScheduleAnyway', 'whenUnsatisfiable ScheduleAnyway')
  t.ok(selects(byHost?.labelSelector, podLabels), 'the spread selects these pods')
  const anti = (pod.affinity?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []) as KObject[]
  t.ok(anti.some((a) => a.podAffinityTerm?.topologyKey === 'kubernetes.io/hostname' && selects(a.podAffinityTerm?.labelSelector, podLabels)), 'preferred podAntiAffinity per node')
  const pdb = one(objects, 'PodDisruptionBudget', 'pullguard')
  t.equal(pdb.spec.minAvailable, 1, 'PDB minAvailable 1')
  t.ok(pdb.spec.minAvailable < deployment.spec.replicas, 'PDB leaves room for one voluntary disruption')
  t.ok(selects(pdb.spec.selector, podLabels), 'PDB selects the pods')

  // Shutdown arithmetic.
  const drain = Number(env(c, 'DRAIN_SECONDS')?.value ?? 10)
  const timeouts = ['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration']
    .flatMap((kind) => all(objects, kind)).flatMap((w) => w.webhooks as KObject[]).map((w) => Number(w.timeoutSeconds ?? 10))
  const grace = pod.terminationGracePeriodSeconds as number
  t.ok(grace > drain, `terminationGracePeriodSeconds ${grace} > DRAIN_SECONDS ${drain}`)
  t.ok(grace >= drain + Math.max(...timeouts), `terminationGracePeriodSeconds ${grace} >= DRAIN_SECONDS + longest webhook timeout`)

  // Environment and volumes.
  t.same(env(c, 'POD_NAMESPACE')?.valueFrom, { fieldRef: { fieldPath: 'metadata.namespace' } }, 'POD_NAMESPACE from the downward API')
  const mounts = (c.volumeMounts ?? []) as KObject[]
  const volumes = (pod.volumes ?? []) as KObject[]
  t.notOk(mounts.some((m) => m.subPath !== undefined || m.subPathExpr !== undefined), 'no subPath mounts (they never update)')
  const configFile = env(c, 'PULLGUARD_CONFIG')?.value as string
  t.equal(configFile, '/etc/pullguard/config/config.yaml', 'PULLGUARD_CONFIG')
  const configMount = mounts.find((m) => isUnder(configFile, m.mountPath))
  const configVolume = volumes.find((v) => v.name === configMount?.name)
  t.equal(configVolume?.configMap?.name, 'pullguard-config', 'PULLGUARD_CONFIG lies in the mounted ConfigMap pullguard-config')
  t.equal(posix.relative(configMount?.mountPath ?? '', configFile), 'config.yaml', 'as its key config.yaml')
  t.ok(all(objects, 'ConfigMap').some((cm) => cm.metadata.name === 'pullguard-config' && cm.data?.['config.yaml'] !== undefined), 'that ConfigMap (without a name hash) is rendered')
  t.equal(configMount?.readOnly, true, 'config mounted read-only')
  const tmpMount = mounts.find((m) => m.mountPath === '/tmp')
  t.ok(tmpMount !== undefined && volumes.find((v) => v.name === tmpMount.name)?.emptyDir !== undefined, 'an emptyDir at /tmp')
  for (const m of mounts) {
    for (const other of mounts) if (m !== other) t.notOk(isUnder(other.mountPath, m.mountPath), `${other.mountPath} is not nested in ${m.mountPath}`)
  }

  if (opts.bootstrap) {
    t.same(c.args, ['--bootstrap-certs'], 'args [--bootstrap-certs]')
    t.equal(env(c, 'TLS_CERT_FILE'), undefined, 'no TLS_CERT_FILE with bootstrap')
  } else {
    t.notOk((c.args ?? []).includes('--bootstrap-certs'), 'no --bootstrap-certs')
    const certFile = env(c, 'TLS_CERT_FILE')?.value as string
    const keyFile = env(c, 'TLS_KEY_FILE')?.value as string
    t.equal(certFile, '/etc/pullguard/tls/tls.crt', 'TLS_CERT_FILE')
    t.equal(keyFile, '/etc/pullguard/tls/tls.key', 'TLS_KEY_FILE')
    const tlsMount = mounts.find((m) => isUnder(certFile, m.mountPath))
    t.equal(tlsMount?.mountPath, '/etc/pullguard/tls', 'the TLS Secret is mounted at /etc/pullguard/tls')
    t.ok(tlsMount !== undefined && isUnder(keyFile, tlsMount.mountPath), 'the key in the same mount')
    t.equal(volumes.find((v) => v.name === tlsMount?.name)?.secret?.secretName, 'pullguard-serving-tls', 'from the Secret pullguard-serving-tls')
  }
}

function checkServiceAndWebhookWiring (t: Test, objects: KObject[]): void {
  const deployment = one(objects, 'Deployment', 'pullguard')
  const c = container(deployment)
  const service = one(objects, 'Service', 'pullguard')
  t.ok(selects({ matchLabels: service.spec.selector }, deployment.spec.template.metadata.labels), 'the Service selects the pods')
  const ports = service.spec.ports as KObject[]
  const https = ports.find((p) => p.name === 'https')
  t.equal(https?.port, 443, 'Service https port 443')
  t.equal(containerPort(c, https?.targetPort), 8443, 'Service https -> container 8443')
  const metrics = ports.find((p) => p.name === 'metrics')
  t.equal(metrics?.port, 9090, 'Service metrics port 9090')
  t.equal(containerPort(c, metrics?.targetPort), 9090, 'Service metrics -> container 9090')
  const paths: Record<string, string> = { MutatingWebhookConfiguration: '/mutate', ValidatingWebhookConfiguration: '/validate' }
  for (const kind of Object.keys(paths)) {
    for (const config of all(objects, kind)) {
      for (const w of config.webhooks as KObject[]) {
        const ref = w.clientConfig.service as KObject
        t.equal(w.clientConfig.url, undefined, `${w.name}: called through the Service, not a URL`)
        t.equal(ref.name, service.metadata.name, `${w.name}: service name`)
        t.equal(ref.namespace, service.metadata.namespace, `${w.name}: service namespace`)
        t.equal(ref.path, paths[kind], `${w.name}: path ${paths[kind]}`)
        const port = ports.find((p) => p.port === (ref.port ?? 443))
        t.ok(port !== undefined, `${w.name}: port ${ref.port} is a Service port`)
        t.equal(containerPort(c, port?.targetPort), 8443, `${w.name}: reaches container port 8443`)
      }
    }
  }
}

function checkRbac (t: Test, objects: KObject[], opts: { bootstrap: boolean }): void {
  const read = { apiGroups: [''], resources: ['namespaces', 'secrets', 'serviceaccounts'], verbs: ['get', 'list', 'watch'] }
  const webhookConfigs = {
    apiGroups: ['admissionregistration.k8s.io'],
    resources: ['mutatingwebhookconfigurations', 'validatingwebhookconfigurations'],
    resourceNames: ['pullguard'],
    verbs: ['get', 'update', 'patch'],
  }
  const sa = one(objects, 'ServiceAccount', 'pullguard')
  t.equal(sa.metadata.namespace, NS, 'ServiceAccount pullguard in the namespace')
  const clusterRole = one(objects, 'ClusterRole', 'pullguard')
  t.same(clusterRole.rules, opts.bootstrap ? [read, webhookConfigs] : [read], opts.bootstrap
    ? 'ClusterRole: read namespaces/secrets/serviceaccounts; caBundle of the pullguard webhooks only'
    : 'ClusterRole: read only (no bootstrap)')
  const roles = [...all(objects, 'ClusterRole'), ...all(objects, 'Role')]
  // Role pullguard-private-images (the private-image patterns writer) is in every overlay; private-policy.test.ts checks its rules.
  t.same(roles.map(describe).sort(), opts.bootstrap
    ? ['ClusterRole/pullguard', 'Role/pullguard/pullguard-bootstrap', 'Role/pullguard/pullguard-private-images']
    : ['ClusterRole/pullguard', 'Role/pullguard/pullguard-private-images'], 'no other roles')
  if (opts.bootstrap) {
    t.same(one(objects, 'Role', 'pullguard-bootstrap').rules, [
      { apiGroups: [''], resources: ['secrets'], verbs: ['create'] },
      { apiGroups: [''], resources: ['secrets'], resourceNames: ['pullguard-tls'], verbs: ['get', 'update', 'patch'] },
    ], 'Role: create secrets; get/update/patch pullguard-tls only')
  }
  for (const role of roles) {
    for (const [i, rule] of (role.rules as KObject[]).entries()) {
      const fields = [...(rule.apiGroups ?? []), ...(rule.resources ?? []), ...(rule.verbs ?? []), ...(rule.resourceNames ?? [])] as string[]
      t.notOk(fields.some((f) => f.includes('*')), `${describe(role)} rule ${i}: no wildcard`)
      t.equal(rule.nonResourceURLs, undefined, `${describe(role)} rule ${i}: no nonResourceURLs`)
      const writes = (rule.verbs as string[]).filter((v) => WRITE_VERBS.includes(v))
      const namedOnly = Array.isArray(rule.resourceNames) && rule.resourceNames.length > 0
      // create cannot be limited by resourceNames: allowed only in pullguard's namespace, for what it owns there.
      const createHere = role.kind === 'Role' && role.metadata.namespace === NS && JSON.stringify(rule.verbs) === '["create"]' &&
        ['["secrets"]', '["configmaps"]', '["leases"]'].includes(JSON.stringify(rule.resources))
      t.ok(writes.length === 0 || namedOnly || createHere,
        `${describe(role)} rule ${i}: write verbs [${writes.join(', ')}] only with resourceNames (or create of secrets, configmaps, leases in ${NS})`)
    }
  }
  for (const binding of [...all(objects, 'ClusterRoleBinding'), ...all(objects, 'RoleBinding')]) {
    t.same(binding.subjects, [{ kind: 'ServiceAccount', name: 'pullguard', namespace: NS }], `${describe(binding)}: the pullguard ServiceAccount only`)
    const roleKind = binding.roleRef.kind as string
    t.ok(roles.some((r) => r.kind === roleKind && r.metadata.name === binding.roleRef.name), `${describe(binding)} -> ${roleKind} ${binding.roleRef.name} exists`)
  }
}

function checkMirrorPodCondition (t: Test, conditions: KObject[] | undefined): void {
  t.ok(Array.isArray(conditions) && conditions.length > 0, 'matchConditions present')
  const pod = (annotations?: Labels): KObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'team-a', ...(annotations === undefined ? {} : { annotations }) }, spec: { containers: [{ name: 'app', image: 'nginx', imagePullPolicy: 'IfNotPresent' }] } })
  const mirror = { 'kubernetes.io/config.mirror': 'abc' }
  const call = (object: KObject, username: string): boolean => matchConditionsHold(conditions as Array<{ name: string, expression: string }>, { operation: 'CREATE', object, oldObject: null, username })
  t.equal(call(pod(), 'alice'), true, 'an ordinary pod (no annotations) is sent')
  t.equal(call(pod({ team: 'a' }), 'alice'), true, 'a pod with other annotations is sent')
  t.equal(call(pod(mirror), 'system:node:node-1'), false, 'a mirror pod from a node is skipped')
  t.equal(call(pod(mirror), 'alice'), true, 'the mirror annotation from anyone else skips nothing')
}

/** Runs the policy's CEL against pods (see cel.ts). */
function checkPolicyCel (t: Test, policy: KObject): void {
  const ns = 'team-a'
  const c = (name: string, image: string, policyName?: string): KObject => ({ name, image, ...(policyName === undefined ? {} : { imagePullPolicy: policyName }) })
  const pod = (spec: KObject, annotations?: Labels): KObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: ns, ...(annotations === undefined ? {} : { annotations }) }, spec })
  const create = (object: KObject, username?: string): AdmissionInput => ({ operation: 'CREATE', object, oldObject: null, ...(username === undefined ? {} : { username }) })
  const update = (oldObject: KObject, object: KObject, subResource?: string): AdmissionInput => ({ operation: 'UPDATE', object, oldObject, ...(subResource === undefined ? {} : { subResource }) })
  const verdict = (input: AdmissionInput): ReturnType<typeof evaluatePolicy> => evaluatePolicy(policy, input)

  t.test('CREATE', async (t) => {
    let r = verdict(create(pod({ containers: [c('app', 'ghcr.io/acme/app:1', 'IfNotPresent')] })))
    t.equal(r.allowed, false, 'IfNotPresent container: denied')
    t.match(r.messages.join('\n'), /spec\.containers\[name=app\]\.imagePullPolicy: Unsupported value: supported values: "Always"/, 'the message names the field')
    r = verdict(create(pod({ containers: [c('app', 'ghcr.io/acme/app:1', 'Always')] })))
    t.same(r, { skipped: false, allowed: true, messages: [] }, 'Always container, no other lists: allowed (has() guards hold)')
    r = verdict(create(pod({ containers: [c('app', 'ghcr.io/acme/app:1')] })))
    t.equal(r.allowed, false, 'no imagePullPolicy at all: denied')
    r = verdict(create(pod({
      initContainers: [c('init', 'busybox', 'Always')],
      containers: [c('app', 'nginx', 'Always'), c('sidecar', 'envoy', 'Always')],
      volumes: [{ name: 'cfg', configMap: { name: 'x' } }, { name: 'data', image: { reference: 'ghcr.io/acme/data:1', pullPolicy: 'Always' } }],
    })))
    t.same(r.messages, [], 'everything Always, with a non-image volume and an image volume: allowed')
    r = verdict(create(pod({ initContainers: [c('init', 'busybox', 'IfNotPresent')], containers: [c('app', 'nginx', 'Always')] })))
    t.equal(r.allowed, false, 'IfNotPresent init container: denied')
    t.match(r.messages.join('\n'), /spec\.initContainers\[name=init\]\.imagePullPolicy/, 'names the init container')
    r = verdict(create(pod({ containers: [c('app', 'nginx', 'Always')], volumes: [{ name: 'data', image: { reference: 'ghcr.io/acme/data:1', pullPolicy: 'IfNotPresent' } }] })))
    t.equal(r.allowed, false, 'IfNotPresent image volume: denied')
    t.match(r.messages.join('\n'), /spec\.volumes\[name=data\]\.image\.pullPolicy/, 'names the image volume')
    r = verdict(create(pod({ containers: [c('app', 'nginx', 'Always')], volumes: [{ name: 'data', image: { reference: 'ghcr.io/acme/data:1' } }] })))
    t.equal(r.allowed, false, 'image volume without pullPolicy: denied')
    r = verdict(create(pod({ containers: [c('a', 'nginx', 'Never'), c('b', 'redis', 'IfNotPresent')] })))
    t.match(r.messages.join('\n'), /spec\.containers\[name=a\]\.imagePullPolicy, spec\.containers\[name=b\]\.imagePullPolicy/, 'every offending container is named')
    r = verdict(create(pod({ containers: [c('app', 'nginx', 'IfNotPresent')] }, { 'kubernetes.io/config.mirror': 'x' }), 'system:node:n1'))
    t.equal(r.skipped, true, 'a mirror pod from a node: skipped')
    r = verdict(create(pod({ containers: [c('app', 'nginx', 'IfNotPresent')] }, { 'kubernetes.io/config.mirror': 'x' }), 'mallory'))
    t.equal(r.allowed, false, 'the mirror annotation from a user: still denied')
  })

  t.test('UPDATE', async (t) => {
    const running = pod({
      initContainers: [c('init', 'busybox:1', 'IfNotPresent')],
      containers: [c('app', 'ghcr.io/acme/app:1', 'IfNotPresent')],
      volumes: [{ name: 'data', image: { reference: 'ghcr.io/acme/data:1', pullPolicy: 'IfNotPresent' } }],
    })
    const relabelled = structuredClone(running)
    relabelled.metadata.labels = { x: 'y' }
    t.same(verdict(update(running, relabelled)).messages, [], 'an update that brings no new image passes, even with IfNotPresent everywhere')
    const newImage = structuredClone(running)
    newImage.spec.containers[0].image = 'ghcr.io/acme/app:2'
    const r = verdict(update(running, newImage))
    t.equal(r.allowed, false, 'a new image with IfNotPresent: denied')
    t.match(r.messages.join('\n'), /spec\.containers\[name=app\]/, 'names the container')
    const newAlways = structuredClone(newImage)
    newAlways.spec.containers[0].imagePullPolicy = 'Always'
    t.same(verdict(update(running, newAlways)).messages, [], 'a new image with Always: allowed')
    const knownImage = structuredClone(running)
    knownImage.spec.containers[0].image = 'busybox:1'
    t.same(verdict(update(running, knownImage)).messages, [], 'an image the pod already had (from the init container): allowed')
    const noLists = pod({ containers: [c('app', 'nginx', 'IfNotPresent')] })
    t.same(verdict(update(noLists, structuredClone(noLists))).messages, [], 'old pod without optional lists: no CEL error')
  })

  t.test('pods/ephemeralcontainers UPDATE (kubectl debug)', async (t) => {
    const running = pod({ containers: [c('app', 'ghcr.io/acme/app:1', 'IfNotPresent')] })
    const debug = (image: string, pullPolicy: string): KObject => {
      const p = structuredClone(running)
      p.spec.ephemeralContainers = [{ name: 'debugger', image, imagePullPolicy: pullPolicy, targetContainerName: 'app' }]
      return p
    }
    let r = verdict(update(running, debug('busybox', 'IfNotPresent'), 'ephemeralcontainers'))
    t.equal(r.allowed, false, 'a new image with IfNotPresent: denied')
    t.match(r.messages.join('\n'), /spec\.ephemeralContainers\[name=debugger\]\.imagePullPolicy/, 'names the ephemeral container')
    r = verdict(update(running, debug('busybox', 'Always'), 'ephemeralcontainers'))
    t.same(r.messages, [], 'Always: allowed')
    r = verdict(update(running, debug('ghcr.io/acme/app:1', 'IfNotPresent'), 'ephemeralcontainers'))
    t.same(r.messages, [], 'the image the pod already runs: allowed')
  })
}

function checkValidatingWebhook (t: Test, objects: KObject[], policy: KObject, opts: { matchConditions: boolean }): void {
  const vwc = one(objects, 'ValidatingWebhookConfiguration', 'pullguard')
  t.equal(vwc.webhooks.length, 1, 'one webhook')
  const w = vwc.webhooks[0] as KObject
  const mutating = one(objects, 'MutatingWebhookConfiguration').webhooks[0] as KObject
  t.same(w.clientConfig, { service: { namespace: NS, name: 'pullguard', path: '/validate', port: 443 } }, '-> /validate through the Service, no caBundle')
  t.same(w.rules, policy.spec.matchConstraints.resourceRules, 'the same requests as the policy it replaces')
  t.same(w.admissionReviewVersions, ['v1', 'v1beta1'], 'admissionReviewVersions [v1, v1beta1]')
  t.equal(w.sideEffects, 'None', 'sideEffects None')
  t.equal(w.timeoutSeconds, mutating.timeoutSeconds, 'the same timeout as the mutating webhook')
  t.ok(w.timeoutSeconds <= 10, 'timeoutSeconds <= 10')
  t.equal(w.failurePolicy, 'Fail', 'failurePolicy Fail')
  t.equal(w.matchPolicy, 'Equivalent', 'matchPolicy Equivalent')
  t.ok(selects(w.namespaceSelector, namespaceLabels('team-a', { 'pullguard.dev/always-pull': 'all' })), 'always-pull=all: called')
  t.ok(selects(w.namespaceSelector, namespaceLabels('team-a', { 'pullguard.dev/always-pull': 'all', 'pullguard.dev/inject': 'false' })), 'always-pull=all with inject=false: still called')
  t.notOk(selects(w.namespaceSelector, namespaceLabels('team-a', { 'pullguard.dev/always-pull': 'private' })), 'always-pull=private: not called')
  t.notOk(selects(w.namespaceSelector, namespaceLabels('team-a')), 'unlabelled: not called')
  t.notOk(selects(w.namespaceSelector, namespaceLabels(NS, { 'pullguard.dev/always-pull': 'all' })), 'never pullguard\'s own namespace (a Fail webhook must not block its own pods)')
  if (opts.matchConditions) {
    checkMirrorPodCondition(t, w.matchConditions)
    t.same(w.matchConditions, mutating.matchConditions, 'the same matchConditions as the mutating webhook')
    checkImageChangeCondition(t, w.matchConditions)
  }
}

/** The Deployment serves a Secret instead of bootstrapping (cert-manager, static-certs). */
function checkExternalCertificates (t: Test, objects: KObject[]): void {
  const c = container(one(objects, 'Deployment', 'pullguard'))
  t.notOk((c.args ?? []).includes('--bootstrap-certs'), 'no --bootstrap-certs flag')
  t.equal(all(objects, 'Role').filter((r) => r.metadata.name === 'pullguard-bootstrap').length, 0, 'no bootstrap Role')
  t.equal(all(objects, 'RoleBinding').filter((r) => r.metadata.name === 'pullguard-bootstrap').length, 0, 'no bootstrap RoleBinding')
  t.notOk(JSON.stringify(one(objects, 'ClusterRole', 'pullguard').rules).includes('webhookconfigurations'), 'no webhook configuration write access')
}
