/**
 * `npm run bench:ladder`: where pullguard's time per review goes, and what a
 * throughput ratio leaves room for on this machine (issue #11).
 *
 * Two series, measured round-robin in the same run (R rounds; every server
 * started once and kept) with the 3-container review of `npm run bench`:
 *
 * - The ladder: the baseline, then the rungs of ladder-server.ts, each adding
 *   one layer of pullguard, then pullguard as deployed. A rung's Δ is its
 *   layer's cost in server CPU per request.
 * - The budget: the baseline with 5, 10 and 15 µs of CPU spent per request
 *   (baseline-server.ts BENCH_BASELINE_WORK_US). Time per request grows
 *   linearly with the work; the fit says how many µs of work a ratio such as
 *   0.80 allows, and how many µs of such work pullguard's layers weigh.
 *
 * A benchmark, not a test: it prints numbers and never fails on them; every
 * server is checked with a verified request before it is measured.
 */
import os from 'node:os'
import { generateCertificates } from '../src/tls/certs.js'
import { measure, type Sample, type Timing } from './measure.js'
import { LADDER_STEPS } from './ladder-steps.js'
import { reviewBody } from './review.js'
import { startServer, stopServer, stopServersOnExit, type Server } from './servers.js'

const ROUNDS = count('BENCH_ROUNDS', 3)
const TIMING: Timing = { warmupSeconds: number('BENCH_WARMUP', 1), durationSeconds: number('BENCH_DURATION', 3) }
const BUDGET_WORK_US = [5, 10, 15] as const
/** The target and goal. */
const RATIOS = [0.8, 0.9] as const

interface Target {
  readonly name: string
  readonly script: string
  readonly env: Record<string, string>
  /** Whether the answer carries pullguard's patch (the preflight checks it). */
  readonly patched: boolean
  readonly series: 'ladder' | 'budget'
  readonly workUs?: number
}

const TARGETS: readonly Target[] = [
  { name: 'baseline', script: 'baseline-server.ts', env: {}, patched: false, series: 'ladder', workUs: 0 },
  ...LADDER_STEPS.map((step): Target => ({ name: step, script: 'ladder-server.ts', env: { LADDER_STEP: step }, patched: true, series: 'ladder' })),
  { name: 'pullguard', script: 'pullguard-server.ts', env: { BENCH_ENTRIES: '10', BENCH_LOG_LEVEL: 'info' }, patched: true, series: 'ladder' },
  ...BUDGET_WORK_US.map((us): Target => ({ name: `baseline + ${us} µs work`, script: 'baseline-server.ts', env: { BENCH_BASELINE_WORK_US: String(us) }, patched: false, series: 'budget', workUs: us })),
]

function number (name: string, fallback: number): number {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a non-negative number, got ${JSON.stringify(raw)}`)
  return value
}

function count (name: string, fallback: number): number {
  const value = number(name, fallback)
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a whole number ≥ 1, got ${value}`)
  return value
}

function median (values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/** Least squares through (x, y): y = a + b·x. */
function fitLine (points: ReadonlyArray<readonly [number, number]>): { a: number, b: number } {
  const n = points.length
  const mx = points.reduce((s, [x]) => s + x, 0) / n
  const my = points.reduce((s, [, y]) => s + y, 0) / n
  const sxy = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0)
  const sxx = points.reduce((s, [x]) => s + (x - mx) ** 2, 0)
  const b = sxy / sxx
  return { a: my - b * mx, b }
}

async function main (): Promise<void> {
  stopServersOnExit()
  const perMeasurement = TIMING.warmupSeconds + TIMING.durationSeconds + 5
  const boundMs = (ROUNDS * TARGETS.length * perMeasurement + TARGETS.length * 30) * 1000
  setTimeout(() => { console.error(`bench:ladder: still running after ${Math.round(boundMs / 1000)} s; giving up`); process.exit(1) }, boundMs).unref()
  const say = (line: string): void => { process.stderr.write(`${line}\n`) }
  const certs = generateCertificates({ service: 'pullguard', namespace: 'pullguard', dev: true })
  const tlsEnv = { BENCH_TLS_CERT: certs.cert, BENCH_TLS_KEY: certs.key }
  const body = reviewBody(3)
  const loadBefore = os.loadavg()[0]!
  say(`bench:ladder: ${TARGETS.length} servers × ${ROUNDS} rounds of ${TIMING.warmupSeconds} s warm-up + ${TIMING.durationSeconds} s; bound ${Math.round(boundMs / 1000)} s`)

  const servers: Server[] = []
  const samples = new Map<string, Sample[]>(TARGETS.map((t) => [t.name, []]))
  try {
    for (const target of TARGETS) servers.push(await startServer(target.name, target.script, { ...tlsEnv, ...target.env }))
    for (let round = 1; round <= ROUNDS; round++) {
      for (const [i, target] of TARGETS.entries()) {
        const sample = await measure(servers[i]!, body, certs.caCert, target.patched, TIMING)
        samples.get(target.name)!.push(sample)
        say(`  round ${round}  ${target.name.padEnd(24)} ${sample.reqPerSec.toFixed(0).padStart(6)} req/s  ${(sample.serverUsPerReq ?? Number.NaN).toFixed(1).padStart(5)} µs/req`)
      }
    }
  } finally {
    for (const server of servers) await stopServer(server)
  }
  report(samples, loadBefore)
}

function report (samples: ReadonlyMap<string, readonly Sample[]>, loadBefore: number): void {
  const us = (name: string): number => median(samples.get(name)!.map((s) => s.serverUsPerReq ?? Number.NaN))
  const minUs = (name: string): number => Math.min(...samples.get(name)!.map((s) => s.serverUsPerReq ?? Number.NaN))
  const rps = (name: string): number => median(samples.get(name)!.map((s) => s.reqPerSec))
  const baseRps = rps('baseline')
  const header = ['server', 'µs/req median', 'µs/req min', 'Δ µs', 'req/s median', 'vs baseline']
  const rows: string[][] = []
  let previous: string | undefined
  for (const target of TARGETS) {
    if (target.series === 'budget' && previous !== undefined && TARGETS.find((t) => t.name === previous)?.series === 'ladder') rows.push(header.map(() => ''))
    const delta = previous === undefined ? '' : (us(target.name) - us(target.series === 'budget' ? 'baseline' : previous)).toFixed(1)
    rows.push([target.name, us(target.name).toFixed(1), minUs(target.name).toFixed(1), delta, rps(target.name).toFixed(0), (rps(target.name) / baseRps).toFixed(2)])
    previous = target.name
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (cells: readonly string[]): string => cells.map((c, i) => i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)).join('  ')
  console.log(line(header))
  console.log(widths.map((w) => '-'.repeat(w)).join('  '))
  for (const row of rows) console.log(line(row))
  console.log('')
  console.log('Δ µs: server CPU per request over the row above (budget rows: over the baseline).')

  // Wall time per request (1 / req/s, 10 closed-loop connections) against the work added to the baseline.
  const points = TARGETS.filter((t) => t.workUs !== undefined).map((t): [number, number] => [t.workUs!, 1e6 / rps(t.name)])
  const { a, b } = fitLine(points)
  const pullguardEquivalent = (1e6 / rps('pullguard') - a) / b
  console.log(`budget: each µs of work added to the baseline costs ${b.toFixed(2)} µs of wall time per request (fit over 0/${BUDGET_WORK_US.join('/')} µs)`)
  for (const ratio of RATIOS) console.log(`  a ratio of ${ratio.toFixed(2)} leaves ${((a / ratio - a) / b).toFixed(1)} µs of work per request over the baseline's`)
  console.log(`  pullguard (ratio ${(rps('pullguard') / baseRps).toFixed(2)}) weighs as much as ${pullguardEquivalent.toFixed(1)} µs of such work`)
  console.log(`${os.cpus().length} cores, load average ${loadBefore.toFixed(2)} before, ${os.loadavg()[0]!.toFixed(2)} after`)
}

await main()
