import type { FastifyInstance } from 'fastify';
import type { Readiness } from '../../core/readiness.js';
import { ERROR_CODES } from '../../errors.js';

/** GET /healthz (the process answers) and GET /readyz (dependencies answer, not closing). */
export function healthRoutes(app: FastifyInstance, readiness: Readiness): void {
  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_request, reply) => {
    const report = await readiness.check();
    if (report.ready) return { status: 'ready', checks: report.checks };
    const down = Object.entries(report.checks)
      .filter(([, result]) => !result.ok)
      .map(([name]) => name);
    const code = report.closing
      ? 'KGW_SHUTTING_DOWN'
      : down.includes('kafka')
        ? 'KGW_KAFKA_UNAVAILABLE'
        : 'KGW_REDIS_UNAVAILABLE';
    reply.code(503);
    return {
      status: 'not_ready',
      error_code: ERROR_CODES[code].errorCode,
      code,
      message: report.closing ? 'shutting down' : `not ready: ${down.join(', ')} down`,
      down,
      checks: report.checks,
    };
  });
}
