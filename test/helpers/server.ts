/**
 * The real HTTPS server on a real port, a TLS client that trusts its
 * throwaway CA, and a pino logger whose lines the test can read back.
 */
import type { ClientRequest, IncomingMessage } from 'node:http'
import https from 'node:https'
import { Writable } from 'node:stream'
import type { AddressInfo } from 'node:net'
import type { FastifyInstance } from 'fastify'
import { buildApp } from '../../src/app.js'
import type { ClusterView } from '../../src/cluster/types.js'
import type { Config } from '../../src/config/compile.js'
import type { Metrics } from '../../src/metrics.js'
import { createLogger } from '../../src/logger.js'
import { generateCertificates, type CertificateBundle } from '../../src/tls/certs.js'
import type { TlsPair } from '../../src/tls/server-options.js'

let cached: CertificateBundle | undefined
export function testCertificates (): CertificateBundle {
  cached ??= generateCertificates({ service: 'pullguard', namespace: 'pullguard', dev: true })
  return cached
}

export class LogCapture extends Writable {
  readonly lines: string[] = []
  override _write (chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    this.lines.push(...chunk.toString('utf8').split('\n').filter((l) => l !== ''))
    done()
  }

  records (): Array<Record<string, unknown>> {
    return this.lines.map((l) => JSON.parse(l) as Record<string, unknown>)
  }

  text (): string {
    return this.lines.join('\n')
  }
}

export interface RunningServer {
  app: FastifyInstance
  port: number
  logs: LogCapture
  agent: https.Agent
  request: (method: string, path: string, body?: string | Buffer, headers?: Record<string, string>) => Promise<HttpResult>
  post: (path: string, body: unknown, contentType?: string) => Promise<HttpResult>
  close: () => Promise<void>
}

export interface HttpResult {
  status: number
  headers: Record<string, string | string[] | undefined>
  text: string
  json: any
}

export interface ServerExtras {
  cluster?: ClusterView
  metrics?: Metrics
}

export async function startServer (config: Config, extras: ServerExtras = {}): Promise<RunningServer> {
  const certs = testCertificates()
  const logs = new LogCapture()
  const app = buildApp({ config, tls: { cert: certs.cert, key: certs.key }, logger: createLogger({ level: 'debug', destination: logs }), ...extras })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const port = (app.server.address() as AddressInfo).port
  const agent = new https.Agent({ keepAlive: true, ca: certs.caCert, maxSockets: 4 })
  const request = (method: string, path: string, body?: string | Buffer, headers: Record<string, string> = {}): Promise<HttpResult> =>
    new Promise((resolve, reject) => {
      const req = https.request({ host: '127.0.0.1', port, path, method, agent, servername: 'localhost', headers }, (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8')
          let json: unknown
          try { json = JSON.parse(text) } catch { json = undefined }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json })
        })
      })
      req.on('error', reject)
      req.end(body)
    })
  const post = (path: string, body: unknown, contentType = 'application/json'): Promise<HttpResult> =>
    request('POST', path, typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body), { 'content-type': contentType })
  return {
    app,
    port,
    logs,
    agent,
    request,
    post,
    close: async () => { agent.destroy(); await app.close() },
  }
}

/**
 * The real HTTPS server serving `tls` on 127.0.0.1 and a free port, for
 * tests that bring their own certificates (and their own client).
 */
export async function listenWith (config: Config, tls: TlsPair, logger = createLogger({ level: 'silent' })): Promise<{ app: FastifyInstance, port: number }> {
  const app = buildApp({ config, tls, logger })
  await app.listen({ port: 0, host: '127.0.0.1' })
  return { app, port: (app.server.address() as AddressInfo).port }
}

/**
 * POST /mutate on a verified TLS connection of its own, for tests that close
 * the server while a request is under way: the caller writes and ends `body`.
 */
export function openMutateRequest (port: number, body: string, onResponse: (res: IncomingMessage) => void): ClientRequest {
  return https.request({
    host: '127.0.0.1',
    port,
    path: '/mutate',
    method: 'POST',
    ca: testCertificates().caCert,
    servername: 'localhost',
    headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
  }, onResponse)
}
