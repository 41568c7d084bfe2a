/**
 * GET /healthz (the process is up) and GET /readyz (it should get traffic) on
 * the plain-HTTP health port, for the kubelet's probes.
 */
import type { FastifyPluginAsync } from 'fastify'

export interface HealthRoutesOptions {
  /** Returns undefined when ready, or why not. */
  readonly notReady: () => string | undefined
}

export const healthRoutes: FastifyPluginAsync<HealthRoutesOptions> = async (app, options) => {
  app.get('/healthz', async () => ({ status: 'ok' }))
  app.get('/readyz', async (_request, reply) => {
    const reason = options.notReady()
    if (reason === undefined) return { status: 'ready' }
    return reply.code(503).send({ status: 'not ready', reason })
  })
}
