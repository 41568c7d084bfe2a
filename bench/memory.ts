/**
 * What the cluster view costs in memory, against cluster-double.ts (another
 * process): by default 10,000 namespaces, each with a ServiceAccount and 5
 * pull Secrets as `kubectl apply` leaves them.
 *
 *   npm run bench:memory
 *   BENCH_NAMESPACES=3000 npm run bench:memory
 *
 * Retained heap, each cluster in a fresh process (this script with
 * --probe): a full GC before the informers start, and again once the view is
 * complete and they are idle. Three clusters give the figures:
 *   A  the cluster as above (a fifth of the Secrets name a registry path of
 *      their team's own: 10,000 distinct keys, the rest share 203);
 *   B  the same namespaces and ServiceAccounts, no Secret;
 *   C  A, but every team's own path is one shared path (203 distinct keys).
 *   per namespace + ServiceAccount = B / namespaces
 *   per pull Secret                = (C − B) / Secrets
 *   per distinct registry key      = (A − C) / (distinct keys in A − in C)
 * Then the process as deployed (dist/main.js --kubeconfig, info logging)
 * against an empty cluster and against A: resident set size once ready and
 * idle (and its anonymous part: what the container's memory cgroup is sure
 * to be charged, unlike the shared pages of the node binary), and its peak
 * (VmHWM) during the initial lists. A benchmark: it prints, never fails.
 */
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { pino } from 'pino'
import { importDist } from './child.js'
import { kubeConfigFor, mib, startClusterDouble, waitUntil } from './cluster.js'

const namespaces = Number(process.env.BENCH_NAMESPACES ?? '10000')
const secretsPer = Number(process.env.BENCH_SECRETS ?? '5')
const ROOT = fileURLToPath(new URL('..', import.meta.url))

interface Probe { readonly grown: number, readonly syncMs: number }

async function probe (secretsPerNamespace: number, distinctKeys: boolean): Promise<Probe> {
  setFlagsFromString('--expose-gc')
  const gc = runInNewContext('gc') as () => void
  const settle = async (): Promise<void> => {
    for (let i = 0; i < 4; i++) { gc(); await new Promise((resolve) => setTimeout(resolve, 50)) }
  }
  type InformersModule = typeof import('../src/kube/informers.js')
  type StoreModule = typeof import('../src/cluster/store.js')
  const { startClusterInformers } = await importDist<InformersModule>('kube/informers.js')
  const { ClusterStore } = await importDist<StoreModule>('cluster/store.js')
  const double = await startClusterDouble(namespaces, secretsPerNamespace, distinctKeys)
  const log = pino({ level: 'silent' })
  await settle()
  const before = process.memoryUsage().heapUsed
  const store = new ClusterStore()
  const started = performance.now()
  const informers = startClusterInformers({ kubeConfig: kubeConfigFor(double.url), store, log })
  await waitUntil(() => {
    const c = store.counts()
    return informers.synced() && c.namespaces === namespaces && c.serviceAccounts === namespaces && c.secrets === namespaces * secretsPerNamespace
  }, 600_000, 'the view')
  const syncMs = performance.now() - started
  await new Promise((resolve) => setTimeout(resolve, 1000))
  await settle()
  const grown = process.memoryUsage().heapUsed - before
  await informers.stop()
  double.stop()
  return { grown, syncMs }
}

function runProbe (secretsPerNamespace: number, distinctKeys: boolean): Probe {
  const script = fileURLToPath(import.meta.url)
  const out = spawnSync(process.execPath, ['--import', 'tsx', script, '--probe', String(secretsPerNamespace), distinctKeys ? '1' : '0'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })
  const line = out.stdout.trim().split('\n').pop() ?? ''
  try {
    return JSON.parse(line) as Probe
  } catch {
    throw new Error(`probe failed (exit ${String(out.status)}): ${out.stdout}`)
  }
}

/** dist/main.js in cluster mode against a double of this size: RSS once ready and idle, and the peak. */
async function deployed (clusterNamespaces: number): Promise<{ rss: number, anon: number, peak: number, readyMs: number }> {
  const double = await startClusterDouble(clusterNamespaces, secretsPer)
  const dir = mkdtempSync(join(tmpdir(), 'pullguard-bench-'))
  const kubeconfig = join(dir, 'kubeconfig')
  writeFileSync(kubeconfig, `apiVersion: v1
kind: Config
clusters: [{ name: double, cluster: { server: "${double.url}", insecure-skip-tls-verify: true } }]
users: [{ name: double, user: { token: double-token } }]
contexts: [{ name: double, context: { cluster: double, user: double } }]
current-context: double
`)
  const started = performance.now()
  const child = spawn(process.execPath, ['dist/main.js', '--kubeconfig', kubeconfig], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', PORT: '0', HEALTH_PORT: '0', HOST: '127.0.0.1', DEV_CERT_DIR: join(dir, 'certs'), LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  process.on('exit', () => child.kill('SIGKILL'))
  let out = ''
  child.stdout.on('data', (chunk: Buffer) => { out += chunk.toString('utf8') })
  const status = (): Record<string, number> => Object.fromEntries(readFileSync(`/proc/${String(child.pid)}/status`, 'utf8').split('\n')
    .map((l) => /^(\w+):\s+(\d+) kB/.exec(l)).filter((m) => m !== null).map((m) => [m[1], Number(m[2]) * 1024]))
  await waitUntil(() => out.includes('"healthPort"'), 60_000, 'pullguard to serve')
  const healthPort = Number(/"healthPort":(\d+)/.exec(out)?.[1])
  let ready = false
  while (!ready) {
    ready = (await fetch(`http://127.0.0.1:${healthPort}/readyz`).catch(() => undefined))?.status === 200
    if (!ready) await new Promise((resolve) => setTimeout(resolve, 50))
  }
  const readyMs = performance.now() - started
  await new Promise((resolve) => setTimeout(resolve, 5000)) // idle: the GC catches up
  const { VmRSS: rss = 0, RssAnon: anon = 0, VmHWM: peak = 0 } = status()
  child.kill('SIGTERM')
  double.stop()
  rmSync(dir, { recursive: true, force: true })
  return { rss, anon, peak, readyMs }
}

if (process.argv[2] === '--probe') {
  console.log(JSON.stringify(await probe(Number(process.argv[3]), process.argv[4] === '1')))
  process.exit(0)
}

const secrets = namespaces * secretsPer
console.log(`cluster: ${namespaces} namespaces, each with a ServiceAccount and ${secretsPer} pull Secrets (${secrets} in all)`)
const a = runProbe(secretsPer, true)
const b = runProbe(0, true)
const c = runProbe(secretsPer, false)
const distinctA = (secretsPer >= 4 ? namespaces : 0) + Math.min(namespaces, 200) + 3
const distinctC = (secretsPer >= 4 ? 1 : 0) + Math.min(namespaces, 200) + 3
const perNamespace = b.grown / namespaces
const perSecret = (c.grown - b.grown) / secrets
const perKey = (a.grown - c.grown) / (distinctA - distinctC)
console.table([
  { cluster: `A: + ${secrets} Secrets, ${distinctA} distinct keys`, 'heap retained': mib(a.grown), 'synced in (ms)': a.syncMs.toFixed(0) },
  { cluster: `B: ${namespaces} namespaces + ServiceAccounts`, 'heap retained': mib(b.grown), 'synced in (ms)': b.syncMs.toFixed(0) },
  { cluster: `C: as A, ${distinctC} distinct keys`, 'heap retained': mib(c.grown), 'synced in (ms)': c.syncMs.toFixed(0) },
])
const kib = (bytes: number): string => `${(bytes / 1024).toFixed(2)} KiB (${bytes.toFixed(0)} bytes)`
console.log(`per namespace + ServiceAccount: ${kib(perNamespace)}`)
console.log(`per pull Secret:                ${kib(perSecret)}`)
console.log(`per distinct registry key:      ${kib(perKey)}`)
console.log(`per pull Secret, as in A:       ${kib((a.grown - b.grown) / secrets)}`)

const empty = await deployed(0)
const full = await deployed(namespaces)
console.table([
  { 'dist/main.js against': 'an empty cluster', 'RSS idle': mib(empty.rss), 'of it anonymous': mib(empty.anon), 'peak RSS': mib(empty.peak), 'ready after (ms)': empty.readyMs.toFixed(0) },
  { 'dist/main.js against': `A (${namespaces} ns, ${secrets} Secrets)`, 'RSS idle': mib(full.rss), 'of it anonymous': mib(full.anon), 'peak RSS': mib(full.peak), 'ready after (ms)': full.readyMs.toFixed(0) },
])
console.log(`the view of A costs ${mib(full.anon - empty.anon)} of anonymous memory once idle, ${mib(full.peak - empty.peak)} more at the peak`)
process.exit(0)
