/**
 * `pullguard preview` as a CI job runs it: a real process on the fixture
 * files, its stdout, its one-line errors and its exit code.
 */
import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import jsonpatch from 'fast-json-patch'
import { parseAllDocuments } from 'yaml'
import { pullguard, ROOT } from '../helpers/cli.js'
import { fixtureText, type Json } from '../helpers/fixtures.js'

const CONFIG = ['--config', 'test/fixtures/config.yaml']

t.test('table output and exit codes', async (t) => {
  const cases: Array<{ name: string, args: string[], stdin?: string, code: number, has: Array<string | RegExp>, hasNot?: Array<string | RegExp> }> = [
    {
      name: 'Deployment + Service + CronJob',
      args: ['preview', '-f', 'test/fixtures/preview/app.yaml', ...CONFIG],
      code: 0,
      has: [
        'config:  test/fixtures/config.yaml',
        /^cluster: cluster-only features not evaluated \(no --kubeconfig\)/m,
        'Deployment team-a/web  (test/fixtures/preview/app.yaml:6)  patched',
        /^ {2}CONTAINER +IMAGE +REGISTRY +SECRETS +PULL POLICY$/m,
        /^ {2}init:migrate +ghcr\.io\/acme\/migrate:1\.4\.0 +ghcr\.io +ghcr-acme \(already listed\) +IfNotPresent → Always \(private: matches registries\[0\] \(ghcr\.io\/acme\)\)$/m,
        /^ {2}proxy +myreg\.azurecr\.io\/platform\/envoy:v1\.31 +myreg\.azurecr\.io +\+acr-pull \(registries\[1\] \*\.azurecr\.io\) +IfNotPresent → Always/m,
        'Service team-a/web  (test/fixtures/preview/app.yaml:43)  passed through: no pod template',
        'CronJob team-a/web-report  (test/fixtures/preview/app.yaml:56)  patched',
        /^ {2}report +docker\.io\/library\/python:3\.13-slim +docker\.io +\+dockerhub-pull \(registries\[3\] https:\/\/index\.docker\.io\/v1\/\)/m,
        /\n2 pod templates: 2 patched, 0 unchanged, 0 skipped, 0 denied; 1 other object passed through\n$/,
      ],
    },
    {
      name: 'a JSON List: team-c may not use ghcr.io/acme\'s Secret, and its image is forced anyway',
      args: ['preview', '-f', 'test/fixtures/preview/list.json', ...CONFIG],
      code: 0,
      has: [
        /^ {2}agent +ghcr\.io\/acme\/node-agent:0\.9\.2 +ghcr\.io +- \(no entry matches in this namespace\) +IfNotPresent → Always \(private: matches registries\[0\] \(ghcr\.io\/acme\), not allowed in team-c\)$/m,
        /^ {2}redis +\S+ +registry\.internal\.example:5000 +\+internal-registry \(registries\[2\] registry\.internal\.example:5000\) +Always \(private: matches registries\[2\] \(registry\.internal\.example:5000\)\)$/m,
        'ConfigMap team-c/node-agent  (test/fixtures/preview/list.json:48)  passed through: no pod template',
      ],
    },
    {
      name: 'a directory: its *.yaml, *.yml and *.json, not its subdirectories',
      args: ['preview', '-f', 'test/fixtures/preview', ...CONFIG],
      code: 0,
      has: ['4 pod templates: 4 patched, 0 unchanged, 0 skipped, 0 denied; 2 other objects passed through'],
      hasNot: ['backfill', 'notes'],
    },
    {
      name: 'a directory with -R: subdirectories too; kube-system is excluded',
      args: ['preview', '-f', 'test/fixtures/preview', '-R', ...CONFIG],
      code: 0,
      has: [
        'Job team-a/backfill  (test/fixtures/preview/jobs/batch.yml:3)  unchanged',
        'PodTemplate team-a/debug-shell  (test/fixtures/preview/jobs/batch.yml:16)  patched',
        'ReplicationController kube-system/legacy  (test/fixtures/preview/jobs/batch.yml:27)  skipped (excluded-namespace): pullguard leaves it alone',
        '7 pod templates: 5 patched, 1 unchanged, 1 skipped, 0 denied; 2 other objects passed through',
      ],
    },
    {
      name: 'stdin, --namespace',
      args: ['preview', '-f', '-', '-n', 'team-c', ...CONFIG],
      stdin: fixtureText('pod.yaml'),
      code: 0,
      has: ['Pod team-c/web-  (stdin:2)  patched', /^ {2}app +ghcr\.io\/acme\/web:2\.1\.0 +ghcr\.io +- \(no entry matches in this namespace\)/m],
    },
    {
      name: 'an UPDATE that brings a new image without Always: denied, exit 1',
      args: ['preview', '-f', 'test/fixtures/review-update.json', ...CONFIG],
      code: 1,
      has: [
        'AdmissionReview team-a/web-7d9c8b6f5-abcde  (test/fixtures/review-update.json:1)  DENIED',
        '  denied: pullguard (alwaysPull: private): spec.containers[0].imagePullPolicy: Unsupported value: "IfNotPresent": supported values: "Always". a new image on a running pod must be pulled with Always; recreate the pod instead',
        '1 pod template: 0 patched, 0 unchanged, 0 skipped, 1 denied; 0 other objects passed through',
      ],
    },
  ]
  for (const c of cases) {
    t.test(c.name, async (t) => {
      const r = await pullguard(c.args, c.stdin)
      t.equal(r.code, c.code, `exit ${c.code}${r.stderr === '' ? '' : `: ${r.stderr}`}`)
      t.equal(r.stderr, '', 'nothing on stderr')
      for (const want of c.has) t.match(r.stdout, want)
      for (const unwanted of c.hasNot ?? []) t.notMatch(r.stdout, unwanted)
    })
  }
})

t.test('the example config when none is given, and it says so; the README shows this very run', async (t) => {
  const r = await pullguard(['preview', '-f', 'test/fixtures/preview/app.yaml'])
  t.equal(r.code, 0)
  t.match(r.stdout, /^config: {2}manifests\/example-config\.yaml \(the example config; pass --config\)$/m)
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')
  const shown = /\n\$ npx pullguard preview -f test\/fixtures\/preview\/app\.yaml\n([\s\S]*?)```/.exec(readme)?.[1]
  t.equal(shown, r.stdout, 'README, "pullguard preview": the sample output is the real output')
  const fromEnv = await pullguard(['preview', '-f', 'test/fixtures/pod.yaml'], '', { PULLGUARD_CONFIG: 'test/fixtures/config.yaml' })
  t.match(fromEnv.stdout, /^config: {2}test\/fixtures\/config\.yaml$/m, 'PULLGUARD_CONFIG, as for serve')
})

t.test('-o json: a report whose patches apply to the objects as written', async (t) => {
  const r = await pullguard(['preview', '-f', 'test/fixtures/preview/app.yaml', ...CONFIG, '-o', 'json'])
  t.equal(r.code, 0, r.stderr)
  const report = JSON.parse(r.stdout)
  t.match(report, {
    config: 'test/fixtures/config.yaml',
    cluster: { evaluated: false },
    admitted: true,
    summary: { objects: 3, podTemplates: 2, patched: 2, unchanged: 0, skipped: 0, denied: 0, passedThrough: 1 },
  })
  const inputs = parseAllDocuments(fixtureText('preview/app.yaml')).map((d) => d.toJS()).filter(Boolean)
  report.objects.forEach((object: Json, i: number) => {
    t.match(object.source, { file: 'test/fixtures/preview/app.yaml', document: i + 1 })
    if (object.decision === 'passed-through') return
    t.same(jsonpatch.applyPatch(inputs[i], object.patch, true, false).newDocument, object.patchedObject, `${object.kind}: patch applies`)
  })
  t.same(report.objects[2].images[0].secrets, [{ name: 'dockerhub-pull', source: 'config', entry: 3, match: 'https://index.docker.io/v1/', added: true }])
})

t.test('-o yaml: the manifests, ready to diff; the cluster note on stderr only', async (t) => {
  const r = await pullguard(['preview', '-f', 'test/fixtures/preview/app.yaml', ...CONFIG, '-o', 'yaml'])
  t.equal(r.code, 0)
  t.match(r.stderr, /^pullguard preview: cluster-only features not evaluated \(no --kubeconfig\)[^\n]*\n$/, 'one line on stderr')
  const docs = parseAllDocuments(r.stdout).map((d) => d.toJS())
  t.same(docs.map((d: Json) => d.kind), ['Deployment', 'Service', 'CronJob'])
  t.same(docs[0].spec.template.spec.imagePullSecrets, [{ name: 'ghcr-acme' }, { name: 'acr-pull' }])
  t.match(r.stdout, 'image: ghcr.io/acme/web:2.1.0 # bumped by renovate', 'comments kept')
})
