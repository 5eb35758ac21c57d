import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';

/**
 * GET /metrics in the Prometheus text format: the injected registry's, or
 * what `text` gives (every gateway process's, aggregated, under a supervisor).
 */
export function metricsRoutes(
  app: FastifyInstance,
  registry: Registry,
  text: () => Promise<string> = () => registry.metrics(),
): void {
  app.get('/metrics', async (_request, reply) => {
    reply.type(registry.contentType);
    return text();
  });
}
