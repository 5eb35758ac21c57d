import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { Readiness, type Probe } from '../../../gateway/src/core/readiness.js';
import { GatewayError } from '../../../gateway/src/errors.js';
import { buildHttpServer } from '../../../gateway/src/http/server.js';
import { createMetrics } from '../../../gateway/src/observability/metrics.js';

// Pure HTTP-layer behaviour with fake dependency probes; the real Kafka and
// Redis versions of these checks are in test/integration/gateway/.
function build(probes: Record<string, Probe>, bodyLimitBytes = 1024) {
  const registry = new Registry();
  const metrics = createMetrics(registry, { version: 'test', node: process.version });
  const readiness = new Readiness({ probes, timeoutMs: 100 });
  const app = buildHttpServer({
    logger: pino({ level: 'silent' }),
    registry,
    metrics,
    readiness,
    bodyLimitBytes,
  });
  app.post('/echo', async (request) => request.body);
  app.get('/topics/:topic', async (request) => ({ id: request.id, params: request.params }));
  return { app, readiness, registry };
}

const up: Probe = async () => {};
const redisDown: Probe = async () => {
  throw new GatewayError('KGW_REDIS_UNAVAILABLE', 'connection refused');
};

describe('HTTP server', () => {
  let close: (() => Promise<unknown>) | undefined;
  afterEach(async () => close?.());

  it('answers /healthz and echoes or assigns x-request-id', async () => {
    const { app } = build({});
    close = () => app.close();
    const given = await app.inject({ url: '/healthz', headers: { 'x-request-id': 'abc-123' } });
    expect(given.statusCode).toBe(200);
    expect(given.json()).toEqual({ status: 'ok' });
    expect(given.headers['x-request-id']).toBe('abc-123');
    const assigned = await app.inject({ url: '/healthz' });
    expect(assigned.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('replaces an X-Request-Id that is too long or not plain instead of echoing it', async () => {
    const { app } = build({});
    close = () => app.close();
    for (const bad of ['x'.repeat(129), 'a b', 'id\u00e9', '']) {
      const res = await app.inject({ url: '/healthz', headers: { 'x-request-id': bad } });
      expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    }
    const longest = 'r'.repeat(128);
    const kept = await app.inject({ url: '/healthz', headers: { 'x-request-id': longest } });
    expect(kept.headers['x-request-id']).toBe(longest);
  });

  it('answers 405 with Allow for a known path asked with another method, 404 for an unknown path', async () => {
    const { app } = build({});
    close = () => app.close();
    const trace = await app.inject({ method: 'TRACE', url: '/topics/demo' });
    expect(trace.statusCode).toBe(405);
    expect(trace.headers.allow).toBe('GET, HEAD');
    expect(trace.json()).toMatchObject({ code: 'KGW_METHOD_NOT_ALLOWED', error_code: 40501 });
    const post = await app.inject({ method: 'POST', url: '/healthz' });
    expect(post.statusCode).toBe(405);
    const unknown = await app.inject({ method: 'GET', url: '/nothing/here' });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toMatchObject({ code: 'KGW_ROUTE_NOT_FOUND' });
  });

  it("routes topic names up to Kafka's 249 characters", async () => {
    const { app } = build({});
    close = () => app.close();
    const topic = 't'.repeat(249);
    const res = await app.inject({ url: `/topics/${topic}` });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ params: { topic } });
    // Longer than any Kafka name: a clean 404 with our body, not fastify's 414.
    const tooLong = await app.inject({ url: `/topics/${'t'.repeat(300)}` });
    expect(tooLong.statusCode).toBe(404);
    expect(tooLong.json()).toMatchObject({ code: 'KGW_ROUTE_NOT_FOUND' });
  });

  it('answers 400 with a code for JSON nested deeper than 512 levels, on every JSON media type', async () => {
    const { app } = build({}, 1024 * 1024);
    close = () => app.close();
    const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);
    for (const type of ['application/json', 'application/vnd.kafka.json.v2+json']) {
      const res = await app.inject({
        method: 'POST',
        url: '/echo',
        headers: { 'content-type': type },
        payload: `{"records":[{"value":${deep(5000)}}]}`,
      });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ code: 'KGW_MALFORMED_REQUEST' });
      expect(res.json().message).toContain('512 levels');
    }
    // Brackets inside strings do not count.
    const ok = await app.inject({
      method: 'POST',
      url: '/echo',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ s: '['.repeat(5000), v: JSON.parse(deep(500)) as unknown }),
    });
    expect(ok.statusCode).toBe(200);
  });

  it('answers /readyz 503 naming the dependency that is down', async () => {
    const { app } = build({ kafka: up, redis: redisDown });
    close = () => app.close();
    const res = await app.inject({ url: '/readyz' });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({
      status: 'not_ready',
      code: 'KGW_REDIS_UNAVAILABLE',
      error_code: 50302,
      down: ['redis'],
      message: 'not ready: redis down',
    });
  });

  it('answers requests with KGW_SHUTTING_DOWN while closing, but keeps probes served', async () => {
    const { app, readiness } = build({ kafka: up });
    close = () => app.close();
    readiness.markClosing();
    const echo = await app.inject({ method: 'POST', url: '/echo', payload: { a: 1 } });
    expect(echo.statusCode).toBe(503);
    expect(echo.json()).toMatchObject({ code: 'KGW_SHUTTING_DOWN', error_code: 50303 });
    const ready = await app.inject({ url: '/readyz' });
    expect(ready.statusCode).toBe(503);
    expect(ready.json()).toMatchObject({ code: 'KGW_SHUTTING_DOWN' });
    expect((await app.inject({ url: '/healthz' })).statusCode).toBe(200);
  });

  it.each([
    ['unknown route', { method: 'GET', url: '/nope' }, 404, 'KGW_ROUTE_NOT_FOUND', 40400],
    [
      'invalid JSON',
      {
        method: 'POST',
        url: '/echo',
        payload: '{"a":',
        headers: { 'content-type': 'application/json' },
      },
      400,
      'KGW_MALFORMED_REQUEST',
      40001,
    ],
    [
      'unsupported content type',
      {
        method: 'POST',
        url: '/echo',
        payload: 'a=1',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      },
      415,
      'KGW_UNSUPPORTED_MEDIA_TYPE',
      41501,
    ],
    [
      'body over the limit',
      { method: 'POST', url: '/echo', payload: { big: 'x'.repeat(2000) } },
      413,
      'KGW_PAYLOAD_TOO_LARGE',
      41301,
    ],
  ] as const)('maps %s to %i %s', async (_name, request, status, code, errorCode) => {
    const { app } = build({});
    close = () => app.close();
    const res = await app.inject(request);
    expect(res.statusCode).toBe(status);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.json()).toMatchObject({ code, error_code: errorCode });
    expect(typeof res.json().message).toBe('string');
  });

  it('hides an unexpected error behind KGW_INTERNAL without leaking its message', async () => {
    const { app } = build({});
    close = () => app.close();
    app.get('/boom', async () => {
      throw new Error('secret detail');
    });
    const res = await app.inject({ url: '/boom' });
    expect(res.statusCode).toBe(500);
    expect(res.json()).toEqual({
      code: 'KGW_INTERNAL',
      error_code: 50001,
      message: 'internal error',
    });
  });

  it('serves Prometheus text with route templates as labels, never raw paths', async () => {
    const { app } = build({});
    close = () => app.close();
    await app.inject({ url: '/healthz' });
    await app.inject({ url: '/no/such/path/123' });
    const res = await app.inject({ url: '/metrics' });
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.body).toContain(
      'kgw_http_requests_total{route="/healthz",method="GET",status_class="2xx"} 1',
    );
    expect(res.body).toContain(
      'kgw_http_requests_total{route="unmatched",method="GET",status_class="4xx"} 1',
    );
    expect(res.body).not.toContain('/no/such/path');
    expect(res.body).toMatch(/^kgw_build_info\{version="test",node="v\d+/m);
  });
});
