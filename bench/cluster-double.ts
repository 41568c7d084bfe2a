/**
 * The API server double (test/helpers/api-server-double.ts) as a child
 * process, filled with a cluster of BENCH_NAMESPACES namespaces, each with a
 * `default` ServiceAccount and BENCH_SECRETS pull Secrets as `kubectl apply`
 * leaves them (last-applied annotation and managedFields: about 1.2 KiB of
 * JSON each). Of a namespace's Secrets, in turn: ghcr.io, one of 200 shared
 * registries, *.azurecr.io, a registry path of the team's own
 * (quay.io/team-N; with BENCH_DISTINCT_KEYS=0 all teams share quay.io/team),
 * Docker Hub. A process of its own, so that building a list response is not
 * counted against the event loop that the parent measures.
 *
 * Prints its URL on the first line of stdout, then obeys commands on stdin,
 * one per line, answering `ok` on stdout:
 *   restart  the API server restarts and its watch cache starts over: open
 *            watches are dropped, a Secret `relist-marker` is created in the
 *            first namespace and the history is compacted, so every informer
 *            gets 410 Gone and relists, and sees the marker only through
 *            that relist.
 * Exits when its stdin closes (the parent is gone).
 */
import { createInterface } from 'node:readline'
import { ApiServerDouble } from '../test/helpers/api-server-double.js'
import { appliedPullSecret } from '../test/helpers/cluster.js'
import { MARKER, namespaceName } from './cluster.js'

const namespaces = Number(process.env.BENCH_NAMESPACES ?? '10000')
const secretsPer = Number(process.env.BENCH_SECRETS ?? '5')
const distinctKeys = process.env.BENCH_DISTINCT_KEYS !== '0'

function registries (i: number, j: number): string[] {
  switch (j % 5) {
    case 0: return ['ghcr.io']
    case 1: return [`registry-${i % 200}.example.com`]
    case 2: return ['*.azurecr.io']
    case 3: return [distinctKeys ? `quay.io/team-${i}` : 'quay.io/team']
    default: return ['https://index.docker.io/v1/']
  }
}

const double = new ApiServerDouble({ historyLimit: 1000 })
for (let i = 0; i < namespaces; i++) {
  const ns = namespaceName(i)
  double.create('namespaces', {
    metadata: {
      name: ns,
      labels: { team: ns, 'pullguard.dev/discover-secrets': 'true' },
      annotations: { 'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { team: ns } } }) },
    },
  })
  double.create('serviceaccounts', {
    metadata: {
      namespace: ns,
      name: 'default',
      managedFields: [{ manager: 'kube-controller-manager', operation: 'Update', apiVersion: 'v1', time: '2025-01-01T00:00:00Z', fieldsType: 'FieldsV1', fieldsV1: {} }],
    },
    imagePullSecrets: secretsPer > 0 ? [{ name: 'pull-0' }] : [],
  }, ns)
  for (let j = 0; j < secretsPer; j++) {
    const secret = appliedPullSecret(ns, `pull-${j}`, registries(i, j), `bench-credential-${i}-${j}`, { 'team.example.com/owner': ns })
    double.create('secrets', secret, ns)
  }
}
await double.start()
process.stdout.write(`${double.url}\n`)

const lines = createInterface({ input: process.stdin })
lines.on('line', (line) => {
  if (line.trim() === 'restart') {
    double.dropWatches()
    double.create('secrets', appliedPullSecret(namespaceName(0), MARKER, ['ghcr.io'], 'bench-marker'), namespaceName(0))
    double.compact()
  }
  process.stdout.write('ok\n')
})
lines.on('close', () => process.exit(0))
