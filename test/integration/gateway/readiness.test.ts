import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { eventually } from '../../support/eventually.js';
import { killAllGateways, spawnGateway } from '../../support/gateway-process.js';
import { freePort } from '../../support/ports.js';
import { RedisServer } from '../../support/redis-server.js';

interface ReadyBody {
  status: string;
  code?: string;
  error_code?: number;
  message?: string;
  down?: string[];
  checks: Record<string, { ok: boolean; code?: string }>;
}

async function readyz(url: string): Promise<{ status: number; body: ReadyBody }> {
  const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(10_000) });
  return { status: res.status, body: (await res.json()) as ReadyBody };
}

describe('GET /readyz against real dependencies', () => {
  const servers: RedisServer[] = [];
  afterEach(killAllGateways);
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop()));
  });

  it('is 200 when Kafka and Redis answer, 503 naming Redis while it is stopped, 200 once it is back', async () => {
    const redis = await RedisServer.start();
    servers.push(redis);
    const gateway = await spawnGateway({ REDIS_URL: redis.url, KGW_READY_TIMEOUT_MS: '1000' });

    const up = await eventually(async () => {
      const r = await readyz(gateway.url);
      expect(r.status).toBe(200);
      return r;
    });
    expect(up.body).toEqual({
      status: 'ready',
      checks: { kafka: { ok: true }, redis: { ok: true } },
    });

    await redis.stop();
    const down = await eventually(async () => {
      const r = await readyz(gateway.url);
      expect(r.status).toBe(503);
      return r;
    });
    expect(down.body).toMatchObject({
      status: 'not_ready',
      code: 'KGW_REDIS_UNAVAILABLE',
      error_code: 50302,
      down: ['redis'],
      checks: { kafka: { ok: true }, redis: { ok: false, code: 'KGW_REDIS_UNAVAILABLE' } },
    });
    expect(down.body.message).toMatch(/redis/);
    // Liveness is not readiness: the process itself is fine.
    expect((await fetch(`${gateway.url}/healthz`)).status).toBe(200);
    const metrics = await (await fetch(`${gateway.url}/metrics`)).text();
    expect(metrics).toMatch(/^kgw_dependency_up\{dependency="redis"\} 0$/m);

    await redis.start();
    await eventually(async () => expect((await readyz(gateway.url)).status).toBe(200), {
      timeoutMs: 20_000,
    });
  });

  it('is 503 naming Kafka, within the check deadline, when no broker listens', async () => {
    const deadPort = await freePort();
    const gateway = await spawnGateway({
      KAFKA_BROKERS: `127.0.0.1:${deadPort}`,
      KGW_READY_TIMEOUT_MS: '1000',
    });

    // Every answer comes within the deadline; on a loaded machine the new process's Redis
    // connection may take a moment, so ask until Redis is up and only Kafka is named.
    await eventually(async () => {
      const started = Date.now();
      const r = await readyz(gateway.url);
      expect(Date.now() - started).toBeLessThan(5000);
      expect(r.status).toBe(503);
      expect(r.body).toMatchObject({
        code: 'KGW_KAFKA_UNAVAILABLE',
        down: ['kafka'],
        checks: { redis: { ok: true } },
      });
    });
  });
});
