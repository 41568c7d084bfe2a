/**
 * Readiness and graceful shutdown.
 *
 * On SIGTERM the pod is removed from the Service's endpoints only after the
 * kubelet and the endpoints controller notice (readiness turns false, or the
 * pod is marked terminating), and the API server keeps using its open
 * keep-alive connections to this pod for as long as they stay open. So, like
 * Go's http.Server.Shutdown after a drain period (http/drain.ts has why):
 *
 * 1. /readyz turns false, and every response on both ports says
 *    `Connection: close`, so each kept-alive connection is closed after its
 *    next response and the client dials again, reaching a ready replica;
 * 2. requests keep being answered for the drain period (DRAIN_SECONDS);
 * 3. then the listeners close: connections between requests and spare
 *    connections that never sent a request are closed, requests in flight
 *    finish (at most the request timeout), and the cleanups run.
 *
 * terminationGracePeriodSeconds must be longer than the drain period plus the
 * request timeout (30 s).
 */
import type { FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import { drainOf } from './http/drain.js'

export type ReadinessCheck = () => string | undefined

export class Lifecycle {
  private readonly checks: Array<[string, ReadinessCheck]> = []
  private stopping: Promise<void> | undefined

  /** Adds a named check; the first failing one is the reason /readyz gives. */
  require (name: string, check: ReadinessCheck): void {
    this.checks.push([name, check])
  }

  notReady (): string | undefined {
    if (this.stopping !== undefined) return 'shutting down'
    for (const [name, check] of this.checks) {
      const reason = check()
      if (reason !== undefined) return `${name}: ${reason}`
    }
    return undefined
  }

  get isStopping (): boolean {
    return this.stopping !== undefined
  }

  /**
   * Turns readiness off and keep-alive off, keeps serving for `drainMs`, then
   * closes the servers (together) and runs the cleanups (in order). Calling
   * it again returns the same promise.
   */
  shutdown (options: { drainMs: number, servers: FastifyInstance[], cleanups?: Array<() => unknown>, log: Logger }): Promise<void> {
    this.stopping ??= (async () => {
      const { drainMs, servers, cleanups = [], log } = options
      // Before the log line: a request sent after it is answered with Connection: close.
      for (const server of servers) drainOf(server.server)?.begin()
      log.info({ drainMs }, 'shutting down: not ready, still serving while endpoints drain, every response with Connection: close')
      await new Promise((resolve) => setTimeout(resolve, drainMs))
      log.info('drain period over: closing, finishing requests in flight')
      await Promise.all(servers.map(async (server) => { await server.close() }))
      for (const cleanup of cleanups) await cleanup()
      log.info('stopped')
    })()
    return this.stopping
  }
}
