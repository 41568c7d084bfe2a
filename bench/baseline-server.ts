/**
 * The baseline: the least any Node HTTPS webhook has to do. Same
 * certificate, TLS floor and timeouts as src/app.ts; reads the body,
 * JSON.parse()s it and answers with a fixed "allowed". pullguard's ratio
 * against this is the cost of fastify plus pullguard's own work.
 */
import https from 'node:https'
import type { AddressInfo } from 'node:net'
import { announceAndServe, importDist, tlsFromEnv } from './child.js'

type AppModule = typeof import('../src/app.js')
// The constants come from the same build as the app, so the two cannot drift.
const { BODY_LIMIT, KEEP_ALIVE_TIMEOUT_MS, HEADERS_TIMEOUT_MS, REQUEST_TIMEOUT_MS } = await importDist<AppModule>('app.js')

const tls = tlsFromEnv()

/**
 * BENCH_BASELINE_WORK_US (bench/ladder.ts): µs of CPU spent per request
 * before answering, a stand-in for a webhook's own work. It shows what any
 * added work costs in req/s on this machine, whatever the work is.
 */
const WORK_NS = workNanoseconds(process.env.BENCH_BASELINE_WORK_US)

function workNanoseconds (raw: string | undefined): bigint {
  const us = Number(raw ?? '0')
  if (raw === '' || !Number.isFinite(us) || us < 0) throw new Error(`BENCH_BASELINE_WORK_US must be a non-negative number of µs, got ${JSON.stringify(raw)}`)
  return BigInt(Math.round(us * 1000))
}

function work (): void {
  if (WORK_NS === 0n) return
  const until = process.hrtime.bigint() + WORK_NS
  while (process.hrtime.bigint() < until);
}
const server = https.createServer({ key: tls.key, cert: tls.cert, minVersion: 'TLSv1.2' }, (req, res) => {
  if (req.method !== 'POST' || req.url !== '/mutate') {
    res.writeHead(404).end()
    return
  }
  const chunks: Buffer[] = []
  let size = 0
  req.on('data', (chunk: Buffer) => {
    size += chunk.length
    if (size > BODY_LIMIT) {
      res.writeHead(413, { connection: 'close' }).end()
      req.destroy()
      return
    }
    chunks.push(chunk)
  })
  req.on('end', () => {
    let uid: unknown
    try {
      uid = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { request?: { uid?: unknown } }).request?.uid
    } catch {
      res.writeHead(400).end()
      return
    }
    work()
    const text = JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid, allowed: true } })
    // What fastify sends for an object: the same headers, so the same bytes on the wire.
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) })
    res.end(text)
  })
})
// Set as fastify sets them (lib/server.js and src/app.ts).
server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS
server.requestTimeout = REQUEST_TIMEOUT_MS
server.headersTimeout = HEADERS_TIMEOUT_MS

server.listen(0, '127.0.0.1', () => announceAndServe((server.address() as AddressInfo).port))
