/**
 * GET /metrics: the Prometheus text exposition of one Registry. Meant for the
 * plain-HTTP health port, next to /healthz and /readyz, so scraping needs no
 * client certificate trust and never competes with admission traffic.
 */
import type { FastifyPluginAsync } from 'fastify'
import type { Registry } from 'prom-client'

export interface MetricsRouteOptions {
  readonly registry: Registry
}

export const metricsRoute: FastifyPluginAsync<MetricsRouteOptions> = async (app, options) => {
  app.get('/metrics', async (_request, reply) => {
    const text = await options.registry.metrics()
    return reply.type(options.registry.contentType).send(text)
  })
}
