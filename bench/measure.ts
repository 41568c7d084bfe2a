/**
 * One measurement of one server: a verified request, a warm-up, then
 * autocannon for the measured run, with CPU use read around it.
 */
import { readFileSync } from 'node:fs'
import https from 'node:https'
import autocannon from 'autocannon'
import type { BenchBody } from './review.js'
import type { Server } from './servers.js'

const HOST = '127.0.0.1' // loopback only
export const CONNECTIONS = 10

export interface Sample {
  reqPerSec: number
  p50: number
  p99: number
  non2xx: number
  errors: number
  /** Share of one core used during the measurement. */
  serverCpu: number | undefined
  clientCpu: number
  /**
   * Server CPU time per answered request, in µs. It moves much less than
   * req/s when other processes compete for the cores.
   */
  serverUsPerReq: number | undefined
}

export interface Timing {
  readonly warmupSeconds: number
  readonly durationSeconds: number
}

/**
 * One request over a fresh, fully verified TLS connection (CA + IP SAN
 * 127.0.0.1), so a wrong answer or a bad certificate stops the bench here.
 */
function preflight (server: Server, body: BenchBody, caCert: string, expectPatch: boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = https.request({
      host: HOST,
      port: server.port,
      path: '/mutate',
      method: 'POST',
      ca: caCert,
      agent: false,
      timeout: 10_000,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body.text) },
    }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => { text += chunk })
      res.on('end', () => {
        let response: { uid?: unknown, allowed?: unknown, patchType?: unknown } | undefined
        try { response = (JSON.parse(text) as { response?: typeof response }).response } catch { response = undefined }
        const problem = res.statusCode !== 200
          ? `status ${res.statusCode}`
          : response?.uid !== body.uid
            ? `response.uid ${JSON.stringify(response?.uid)} is not ${body.uid}`
            : response.allowed !== true
              ? 'response.allowed is not true'
              : expectPatch && response.patchType !== 'JSONPatch'
                ? `patchType ${JSON.stringify(response.patchType)}, expected "JSONPatch"`
                : undefined
        if (problem === undefined) resolve()
        else reject(new Error(`${server.name} answered wrongly (${problem}); not measuring it. Body: ${text.slice(0, 500)}`))
      })
    })
    req.on('timeout', () => req.destroy(new Error('preflight timed out')))
    req.on('error', (err) => reject(new Error(`${server.name}: preflight failed: ${err.message}`)))
    req.end(body.text)
  })
}

/** Runs autocannon; with `record`, keeps every 2xx latency (float ms). */
function cannon (server: Server, body: BenchBody, caCert: string, duration: number, record: boolean): Promise<{ result: autocannon.Result, latencies: number[] }> {
  const latencies: number[] = []
  return new Promise((resolve, reject) => {
    const instance = autocannon({
      url: `https://${HOST}:${server.port}/mutate`,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: body.text,
      connections: CONNECTIONS,
      pipelining: 1, // one request in flight per keep-alive connection, like the API server
      duration,
      // autocannon 9 spreads these into tls.connect() but then forces
      // rejectUnauthorized: false (lib/httpClient.js), so the CA is passed
      // for form only: trust is checked by preflight() instead.
      tlsOptions: { ca: caCert, minVersion: 'TLSv1.2' },
    }, (err: unknown, result) => { if (err) reject(err instanceof Error ? err : new Error(String(err))); else resolve({ result, latencies }) })
    // autocannon's own histogram keeps whole milliseconds; sub-millisecond
    // latencies need the raw float durations.
    if (record) instance.on('response', (_client, status, _bytes, ms) => { if (status >= 200 && status < 300) latencies.push(ms) })
  })
}

export async function measure (server: Server, body: BenchBody, caCert: string, expectPatch: boolean, timing: Timing): Promise<Sample> {
  await preflight(server, body, caCert, expectPatch)
  if (timing.warmupSeconds > 0) await cannon(server, body, caCert, timing.warmupSeconds, false) // JIT, TLS sessions, caches
  const serverBefore = cpuSecondsOf(server.child.pid)
  const clientBefore = process.cpuUsage()
  const started = process.hrtime.bigint()
  const { result, latencies } = await cannon(server, body, caCert, timing.durationSeconds, true)
  const wall = Number(process.hrtime.bigint() - started) / 1e9
  const serverAfter = cpuSecondsOf(server.child.pid)
  const client = process.cpuUsage(clientBefore)
  latencies.sort((a, b) => a - b)
  const serverSeconds = serverBefore === undefined || serverAfter === undefined ? undefined : serverAfter - serverBefore
  const answered = result['2xx'] + result.non2xx
  return {
    reqPerSec: result['2xx'] / result.duration,
    p50: percentile(latencies, 0.50),
    p99: percentile(latencies, 0.99),
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    serverCpu: serverSeconds === undefined ? undefined : serverSeconds / wall,
    clientCpu: (client.user + client.system) / 1e6 / wall,
    serverUsPerReq: serverSeconds === undefined || answered === 0 ? undefined : serverSeconds * 1e6 / answered,
  }
}

function percentile (sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!
}

/** user + system CPU seconds of a process, from /proc (Linux; else undefined). */
function cpuSecondsOf (pid: number | undefined): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ') // fields 3.. of proc(5)
    return (Number(fields[11]) + Number(fields[12])) / 100 // utime, stime in USER_HZ (100 on Linux)
  } catch {
    return undefined
  }
}
