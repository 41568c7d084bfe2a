import t from 'tap'
import { renderTable } from '../../src/cli/table.js'
import { ClusterStore } from '../../src/cluster/store.js'
import { summarizeNamespace } from '../../src/cluster/summaries.js'
import { readManifests } from '../../src/preview/documents.js'
import { previewObject } from '../../src/preview/evaluate.js'
import { previewReport } from '../../src/preview/report.js'
import { namespaceObject } from '../helpers/cluster.js'
import { testConfig } from '../helpers/fixtures.js'

function table (yaml: string, cluster?: ClusterStore): string {
  const config = testConfig()
  const previews = readManifests(yaml, 'x.yaml').map((o) => previewObject(o, { config, cluster }))
  return renderTable(previewReport(previews), { config: 'c.yaml', cluster: 'none' })
}

const POD = `apiVersion: v1
kind: Pod
metadata: {name: p, namespace: NS}
spec:
  initContainers: [{name: init, image: "ghcr.io/acme/i:1", imagePullPolicy: Always}]
  containers: [{name: bad, image: "Not An Image"}, {name: app, image: "quay.io/x/y:1", imagePullPolicy: IfNotPresent}]
  ephemeralContainers: [{name: shell, image: "busybox:1.37"}]
  volumes: [{name: assets, image: {reference: "ghcr.io/acme/assets:1"}}]
`

t.test('one row per container and image volume, each cell saying why', async (t) => {
  const out = table(POD.replace('NS', 'team-a'))
  t.match(out, /^config: {2}c\.yaml\ncluster: none\n\nPod team-a\/p {2}\(x\.yaml:1\) {2}patched\n/)
  const rows = out.split('\n').filter((l) => /^ {2}\S/.test(l) && !l.startsWith('  warning:'))
  t.same(rows.map((r) => r.trim().split(/\s{2,}/)), [
    ['CONTAINER', 'IMAGE', 'REGISTRY', 'SECRETS', 'PULL POLICY'],
    ['init:init', 'ghcr.io/acme/i:1', 'ghcr.io', '+ghcr-acme (registries[0] ghcr.io/acme)', 'Always (private: matches registries[0] (ghcr.io/acme))'],
    ['bad', 'Not An Image', '(invalid)', '- (invalid image)', '(unset) → Always'],
    ['app', 'quay.io/x/y:1', 'quay.io', '- (no entry matches in this namespace)', 'IfNotPresent'],
    ['debug:shell', 'busybox:1.37', 'docker.io', '+dockerhub-pull (registries[3] https://index.docker.io/v1/)', '(unset) → Always (private: matches registries[3] (https://index.docker.io/v1/))'],
    ['volume:assets', 'ghcr.io/acme/assets:1', 'ghcr.io', '+ghcr-acme (registries[0] ghcr.io/acme)', '(unset) → Always (private: matches registries[0] (ghcr.io/acme))'],
  ])
  t.match(out, /^ {2}warning: pullguard: spec\.containers\[0\] \(bad\): .*; no pull secret added$/m)
  t.match(out, /\n1 pod template: 1 patched, 0 unchanged, 0 skipped, 0 denied; 0 other objects passed through\n$/)
})

t.test('injection turned off for the namespace says so', async (t) => {
  const view = new ClusterStore()
  view.setNamespace(summarizeNamespace(namespaceObject('team-a', { 'pullguard.dev/inject': 'false' })))
  const out = table(POD.replace('NS', 'team-a'), view)
  t.match(out, /^ {2}init:init +ghcr\.io\/acme\/i:1 +ghcr\.io +- \(injection off: pullguard\.dev\/inject=false\) +Always/m)
})
