/**
 * `npm run bench`: pullguard's /mutate under load against a bare node:https
 * baseline, over real TLS on 127.0.0.1. A benchmark, not a test: it prints
 * numbers and never fails on them. It does abort if a server answers
 * wrongly, so it never measures error responses. See bench/README.md.
 *
 * Servers run as child processes and autocannon runs here, so on a 2-core
 * machine the load generator and the server each get a core.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { fileURLToPath } from 'node:url'
import { generateCertificates } from '../src/tls/certs.js'
import { CONNECTIONS, measure, type Sample, type Timing } from './measure.js'
import { reviewBody, type BenchBody } from './review.js'
import { startServer, STARTUP_TIMEOUT_MS, stopServer, stopServersOnExit, type Server } from './servers.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const QUICK = process.argv.includes('--quick')
/** Only the headline row, three times over: for comparing two builds quickly. */
const HEADLINE_ONLY = process.argv.includes('--headline')
const DURATION_S = seconds('BENCH_DURATION', QUICK ? 1 : 5)
const WARMUP_S = seconds('BENCH_WARMUP', QUICK ? 0.5 : 1.5)
// 'info', as deployed (LOG_LEVEL's default): the per-review line is part of the cost.
const LOG_LEVEL = process.env.BENCH_LOG_LEVEL ?? 'info'
const PROFILE_DIR = process.env.BENCH_CPU_PROF === '1' ? mkdtempSync(`${os.tmpdir()}/pullguard-bench-prof-`) : undefined
const TIMING: Timing = { warmupSeconds: WARMUP_S, durationSeconds: DURATION_S }

/**
 * pullguard rows in run order. Each is bracketed by baseline runs with the
 * same body, right before and right after, and compared with their mean:
 * that cancels drift (other load on the machine) better than one baseline
 * before and one after the whole series. Consecutive rows with the same body
 * share the baseline run between them; rows with the same entry count share
 * a server.
 */
const FULL_PLAN: ReadonlyArray<{ readonly containers: number, readonly entries: number }> = [
  { containers: 1, entries: 10 },
  { containers: 10, entries: 10 },
  { containers: 100, entries: 10 },
  { containers: 3, entries: 10 }, // the headline
  { containers: 3, entries: 1_000 },
  { containers: 3, entries: 10_000 },
]
const HEADLINE = { containers: 3, entries: 10 }
const MOST_ENTRIES = { containers: 3, entries: 10_000 }
const PLAN = HEADLINE_ONLY ? [HEADLINE, HEADLINE, HEADLINE] : FULL_PLAN

interface Row extends Sample {
  target: 'baseline' | 'pullguard'
  containers: number
  entries: number | undefined
  vsBaseline: number
  /** pullguard rows: p99 over the mean p99 of the baseline runs right before and after. */
  p99VsBaseline: number
  /** pullguard rows: req/s of the baseline runs right before and after. */
  bracket: [number, number] | undefined
}

function seconds (name: string, fallback: number): number {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a number of seconds, got ${JSON.stringify(raw)}`)
  return value
}

function mean (values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length
}

async function main (): Promise<void> {
  stopServersOnExit()
  const measurements = PLAN.length * 3
  // Whatever happens, the run ends: every measurement's budget plus room for
  // server start-ups (10,000 entries compile slowly) and stops.
  const startups = 1 + new Set(PLAN.map((r) => r.entries)).size
  const boundMs = (measurements * (WARMUP_S + DURATION_S + 10) + startups * STARTUP_TIMEOUT_MS / 1000) * 1000
  setTimeout(() => { console.error(`bench: still running after ${Math.round(boundMs / 1000)} s; giving up`); process.exit(1) }, boundMs).unref()

  const certs = generateCertificates({ service: 'pullguard', namespace: 'pullguard', dev: true })
  const tlsEnv = { BENCH_TLS_CERT: certs.cert, BENCH_TLS_KEY: certs.key }
  const containerCounts = [...new Set(PLAN.map((r) => r.containers))].sort((a, b) => a - b)
  const bodies = new Map(containerCounts.map((k) => [k, reviewBody(k)]))
  const bodyOf = (k: number): BenchBody => bodies.get(k)!
  const say = (line: string): void => { process.stderr.write(`${line}\n`) }
  const loadBefore = os.loadavg()[0]!
  say(`bench: up to ${measurements} measurements of ${WARMUP_S} s warm-up + ${DURATION_S} s, ${CONNECTIONS} connections${QUICK ? ' (--quick)' : ''}; bound ${Math.round(boundMs / 1000)} s`)

  const baselineRuns: Array<{ containers: number, sample: Sample }> = []
  const pullguard: Array<{ containers: number, entries: number, sample: Sample, bracket: [Sample, Sample] }> = []
  const baselineServer = await startServer('baseline', 'baseline-server.ts', tlsEnv,
    PROFILE_DIR === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}/baseline`])
  const runBaseline = async (k: number): Promise<Sample> => {
    const sample = await measure(baselineServer, bodyOf(k), certs.caCert, false, TIMING)
    baselineRuns.push({ containers: k, sample })
    say(`  baseline  ${k} containers: ${sample.reqPerSec.toFixed(0)} req/s`)
    return sample
  }
  let server: Server | undefined
  let serverEntries: number | undefined
  try {
    let previous: { containers: number, sample: Sample } | undefined
    for (const { containers, entries } of PLAN) {
      const before = previous?.containers === containers ? previous.sample : await runBaseline(containers)
      if (server === undefined || serverEntries !== entries) {
        if (server !== undefined) await stopServer(server)
        // One directory per server: Node writes a profile per thread (tsx's
        // loader runs on its own); the main thread's is the big one.
        const nodeArgs = PROFILE_DIR === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}/entries-${entries}`]
        server = await startServer(`pullguard (${entries} entries)`, 'pullguard-server.ts',
          { ...tlsEnv, BENCH_ENTRIES: String(entries), BENCH_LOG_LEVEL: LOG_LEVEL }, nodeArgs)
        serverEntries = entries
      }
      const sample = await measure(server, bodyOf(containers), certs.caCert, true, TIMING)
      say(`  pullguard ${containers} containers, ${entries} entries: ${sample.reqPerSec.toFixed(0)} req/s`)
      const after = await runBaseline(containers)
      pullguard.push({ containers, entries, sample, bracket: [before, after] })
      previous = { containers, sample: after }
    }
  } finally {
    if (server !== undefined) await stopServer(server)
    await stopServer(baselineServer)
  }

  const rows: Row[] = [
    ...containerCounts.map((k): Row => {
      const runs = baselineRuns.filter((r) => r.containers === k).map((r) => r.sample)
      return { target: 'baseline', containers: k, entries: undefined, ...meanSample(runs), vsBaseline: 1, p99VsBaseline: 1, bracket: undefined }
    }),
    ...pullguard.map(({ containers, entries, sample, bracket }): Row => ({
      target: 'pullguard',
      containers,
      entries,
      ...sample,
      vsBaseline: sample.reqPerSec / mean(bracket.map((s) => s.reqPerSec)),
      p99VsBaseline: sample.p99 / mean(bracket.map((s) => s.p99)),
      bracket: [bracket[0].reqPerSec, bracket[1].reqPerSec],
    })),
  ]
  // With --headline the headline row is measured three times: take the mean.
  const find = (want: { containers: number, entries: number }): Row | undefined => {
    const found = rows.filter((r) => r.target === 'pullguard' && r.containers === want.containers && r.entries === want.entries)
    if (found.length === 0) return undefined
    const m = meanSample(found)
    return { ...found[0]!, ...m, vsBaseline: mean(found.map((r) => r.vsBaseline)), p99VsBaseline: mean(found.map((r) => r.p99VsBaseline)) }
  }
  const baselineRow = (containers: number): Row => rows.find((r) => r.target === 'baseline' && r.containers === containers)!
  const headline = find(HEADLINE)!
  const most = find(MOST_ENTRIES)
  const summary = {
    throughputRatio: headline.vsBaseline,
    p99VsBaseline: headline.p99VsBaseline,
    serverUsPerReq: { pullguard: headline.serverUsPerReq, baseline: baselineRow(HEADLINE.containers).serverUsPerReq },
    p50Ratio: most === undefined ? undefined : most.p50 / headline.p50,
    p99Ratio: most === undefined ? undefined : most.p99 / headline.p99,
    // Context for the two ratios above when the machine is busy: CPU cost per request.
    cpuPerRequestVsBaseline: ratioOf(headline.serverUsPerReq, baselineRow(HEADLINE.containers).serverUsPerReq),
    cpuPerRequest10000vs10: ratioOf(most?.serverUsPerReq, headline.serverUsPerReq),
  }
  const loadAfter = os.loadavg()[0]!

  printTable(rows)
  console.log('')
  console.log('baseline rows: mean of every baseline run with that body; a pullguard row is compared with the')
  console.log('mean of the two baseline runs around it (baseline before/after, req/s).')
  console.log(`pullguard logger: ${LOG_LEVEL === 'off' ? 'none' : `pino (src/logger.ts) at level '${LOG_LEVEL}' writing synchronously to /dev/null, as main.ts writes to stdout`}`)
  console.log('srv µs/req = server CPU time per request (/proc, 10 ms ticks): the cost, less sensitive to other load than req/s.')
  console.log(`cpu = share of one core during the measurement (server child; autocannon in this process); ${os.cpus().length} cores, load average ${loadBefore.toFixed(2)} before, ${loadAfter.toFixed(2)} after`)
  console.log('')
  console.log(`throughput ratio (3 containers, 10 entries) vs baseline: ${summary.throughputRatio.toFixed(2)} (target ≥ 0.80)`)
  const fixed = (x: number | undefined): string => x === undefined ? 'n/a' : x.toFixed(2)
  const us = (x: number | undefined): string => x === undefined ? 'n/a' : `${x.toFixed(0)} µs`
  console.log(`p99 latency (3 containers, 10 entries) vs baseline: ${fixed(summary.p99VsBaseline)} (target ≤ 1.50)`)
  console.log(`server CPU per request (3 containers, 10 entries): pullguard ${us(summary.serverUsPerReq.pullguard)}, baseline ${us(summary.serverUsPerReq.baseline)}`)
  console.log(`p50/p99 latency at 10,000 entries vs 10 entries: ${fixed(summary.p50Ratio)} / ${fixed(summary.p99Ratio)} (target ≤ 1.20)`)
  const times = (x: number | undefined): string => x === undefined ? 'n/a' : `${x.toFixed(2)}×`
  console.log(`(context) server CPU per request: pullguard vs baseline at 3 containers ${times(summary.cpuPerRequestVsBaseline)}, 10,000 vs 10 entries ${times(summary.cpuPerRequest10000vs10)}`)

  const resultsDir = `${ROOT}bench/results`
  mkdirSync(resultsDir, { recursive: true })
  writeFileSync(`${resultsDir}/latest.json`, JSON.stringify({
    date: new Date().toISOString(),
    node: process.version,
    cpus: os.cpus().length,
    loadAverage: { before: loadBefore, after: loadAfter },
    settings: { quick: QUICK, durationSeconds: DURATION_S, warmupSeconds: WARMUP_S, connections: CONNECTIONS, logLevel: LOG_LEVEL },
    rows,
    baselineRuns,
    summary,
  }, null, 2) + '\n')
  console.log(`\nresults: bench/results/latest.json${PROFILE_DIR === undefined ? '' : `; CPU profiles of pullguard: ${PROFILE_DIR}`}`)
}

function ratioOf (a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined || b === undefined ? undefined : a / b
}

function meanSample (runs: readonly Sample[]): Sample {
  return {
    reqPerSec: mean(runs.map((s) => s.reqPerSec)),
    p50: mean(runs.map((s) => s.p50)),
    p99: mean(runs.map((s) => s.p99)),
    non2xx: runs.reduce((n, s) => n + s.non2xx, 0),
    errors: runs.reduce((n, s) => n + s.errors, 0),
    serverCpu: runs.some((s) => s.serverCpu === undefined) ? undefined : mean(runs.map((s) => s.serverCpu!)),
    clientCpu: mean(runs.map((s) => s.clientCpu)),
    serverUsPerReq: runs.some((s) => s.serverUsPerReq === undefined) ? undefined : mean(runs.map((s) => s.serverUsPerReq!)),
  }
}

function printTable (rows: readonly Row[]): void {
  const header = ['target', 'containers', 'entries', 'req/s', 'p50 ms', 'p99 ms', 'vs baseline', 'p99 vs baseline', 'non-2xx', 'errors', 'server cpu', 'srv µs/req', 'gen cpu', 'baseline before/after']
  const pct = (x: number | undefined): string => x === undefined ? '-' : `${Math.round(x * 100)}%`
  const cells = rows.map((r) => [
    r.target, String(r.containers), r.entries === undefined ? '-' : r.entries.toLocaleString('en-US'),
    r.reqPerSec.toFixed(0), r.p50.toFixed(2), r.p99.toFixed(2), r.vsBaseline.toFixed(2), r.p99VsBaseline.toFixed(2),
    String(r.non2xx), String(r.errors), pct(r.serverCpu), r.serverUsPerReq === undefined ? '-' : r.serverUsPerReq.toFixed(0), pct(r.clientCpu),
    r.bracket === undefined ? '-' : r.bracket.map((x) => x.toFixed(0)).join(' / '),
  ])
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)))
  const line = (c: readonly string[]): string => c.map((v, i) => i < 1 ? v.padEnd(widths[i]!) : v.padStart(widths[i]!)).join('  ')
  console.log(line(header))
  console.log(widths.map((w) => '-'.repeat(w)).join('  '))
  for (const c of cells) console.log(line(c))
}

main().then(() => process.exit(0), (err: unknown) => {
  console.error(`bench: ${err instanceof Error ? err.message : String(err)}`)
  process.exit(1)
})
