/**
 * Event-loop delay while the informers list a big cluster: the worst and the
 * p99 delay of a 1 ms timer (perf_hooks.monitorEventLoopDelay), which is how
 * long an admission review arriving at that moment would wait before
 * pullguard even reads it.
 *
 *   npm run bench:relist                      # 10,000 namespaces × 5 Secrets
 *   BENCH_NAMESPACES=3000 npm run bench:relist
 *   BENCH_PAGE_SIZE=100 npm run bench:relist  # list pages of 100 (default 500, as client-go)
 *
 * Two phases against cluster-double.ts (another process): the initial list,
 * then a relist after the API server "restarts" and loses its watch cache
 * (every watch gets 410 Gone; a Secret created during the restart shows when
 * the relist is complete). A benchmark, not a test: it prints numbers and
 * never fails on them (target: worst delay under 50 ms).
 */
import { loadavg } from 'node:os'
import { PerformanceObserver, monitorEventLoopDelay } from 'node:perf_hooks'
import { pino } from 'pino'
import { importDist } from './child.js'
import { MARKER, kubeConfigFor, namespaceName, startClusterDouble, waitUntil } from './cluster.js'

type InformersModule = typeof import('../src/kube/informers.js')
type StoreModule = typeof import('../src/cluster/store.js')
const { startClusterInformers } = await importDist<InformersModule>('kube/informers.js')
const { ClusterStore } = await importDist<StoreModule>('cluster/store.js')

const namespaces = Number(process.env.BENCH_NAMESPACES ?? '10000')
const secretsPer = Number(process.env.BENCH_SECRETS ?? '5')
const secrets = namespaces * secretsPer

console.log(`starting the API server double: ${namespaces} namespaces × ${secretsPer} Secrets = ${secrets} Secrets, ${namespaces} ServiceAccounts`)
const double = await startClusterDouble(namespaces, secretsPer)
const store = new ClusterStore()
const histogram = monitorEventLoopDelay({ resolution: 1 })
// GC pauses, to tell the collector's share of the worst delay from the informers' own.
let gcWorst = 0
let gcTotal = 0
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) { gcWorst = Math.max(gcWorst, entry.duration); gcTotal += entry.duration }
}).observe({ entryTypes: ['gc'] })

async function phase (name: string, done: () => boolean): Promise<Record<string, string>> {
  histogram.reset()
  histogram.enable()
  gcWorst = 0
  gcTotal = 0
  const started = performance.now()
  await waitUntil(done, 600_000, name)
  const took = performance.now() - started
  await new Promise((resolve) => setTimeout(resolve, 500)) // whatever the informers still do after the view is complete
  histogram.disable()
  const ms = (ns: number): string => (ns / 1e6).toFixed(1)
  return { phase: name, 'view complete after (ms)': took.toFixed(0), 'worst delay (ms)': ms(histogram.max), 'p99 delay (ms)': ms(histogram.percentile(99)), 'mean delay (ms)': ms(histogram.mean), 'worst GC pause (ms)': gcWorst.toFixed(1), 'GC total (ms)': gcTotal.toFixed(0) }
}

const full = (): boolean => {
  const c = store.counts()
  return c.namespaces === namespaces && c.serviceAccounts === namespaces && c.secrets >= secrets
}
const pageSize = process.env.BENCH_PAGE_SIZE === undefined ? {} : { pageSize: Number(process.env.BENCH_PAGE_SIZE) }
const informers = startClusterInformers({ kubeConfig: kubeConfigFor(double.url), store, log: pino({ level: 'silent' }), ...pageSize })
const rows = [await phase('initial list', () => informers.synced() && full())]
await double.command('restart')
// The marker shows the relist has begun; the informers' relist counts, that it is complete (an older build has
// none: it applied each list in one piece, so there the marker says both).
const relisted = (): boolean => informers.status().every((s) => !('relists' in s) || (s as { relists: number }).relists >= 1)
rows.push(await phase('relist after 410 Gone', () => store.secret(namespaceName(0), MARKER) !== undefined && full() && relisted()))
console.table(rows)
console.log(`load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}: delays mean little on a busy machine (the double, in another process, needs a core too)`)
console.log('informers:', JSON.stringify(informers.status().map(({ resource, ...rest }) => ({ resource, ...rest }))))
await informers.stop()
double.stop()
process.exit(0)
