/**
 * Readiness and graceful shutdown.
 *
 * On SIGTERM the pod is removed from the Service's endpoints only after the
 * kubelet and the endpoints controller notice (readiness turns false, or the
 * pod is marked terminating), and the API server keeps using its open
 * keep-alive connections a little longer. So pullguard first turns /readyz
 * false and keeps answering for a drain period, and only then closes,
 * letting requests in flight finish. terminationGracePeriodSeconds must be
 * longer than the drain period plus the longest request.
 */
import type { FastifyInstance } from 'fastify'
import type { Logger } from 'pino'

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
   * Turns readiness off, keeps serving for `drainMs`, then closes the servers
   * (in order) and runs the cleanups. Calling it again returns the same promise.
   */
  shutdown (options: { drainMs: number, servers: FastifyInstance[], cleanups?: Array<() => unknown>, log: Logger }): Promise<void> {
    this.stopping ??= (async () => {
      const { drainMs, servers, cleanups = [], log } = options
      log.info({ drainMs }, 'shutting down: not ready, still serving while endpoints drain')
      await new Promise((resolve) => setTimeout(resolve, drainMs))
      log.info('drain period over: closing, finishing requests in flight')
      for (const server of servers) await server.close()
      for (const cleanup of cleanups) await cleanup()
      log.info('stopped')
    })()
    return this.stopping
  }
}
