// Quotas hold across gateway instances (GCRA in the shared Redis): one
// principal sending past its limit through two gateways gets 429
// KGW_QUOTA_EXCEEDED with Retry-After once the shared budget is spent; an
// address that keeps failing authentication is slowed down the same way.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { hashApiKey } from '../../../gateway/src/auth/api-keys.js';
import {
  closeAllGateways,
  startGateway,
  type RunningGateway,
} from '../../support/gateway-in-process.js';
import { closeAllClients, createTopic, uniqueName } from '../../support/kafka.js';
import { eventually } from '../../support/eventually.js';

describe('quotas across two gateways', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kgw-quota-'));
  let gateways: RunningGateway[];
  let topic: string;
  const keys = (principal: string) => ({
    keys: [{ principal, sha256: hashApiKey(`${principal}-key`) }],
  });

  beforeAll(async () => {
    topic = await createTopic();
  });
  afterAll(async () => {
    await closeAllClients();
    await closeAllGateways();
    rmSync(dir, { recursive: true, force: true });
  });

  const start = async (principal: string, env: Record<string, string>) => {
    const file = join(dir, `${principal}.json`);
    writeFileSync(file, JSON.stringify(keys(principal)));
    gateways = await Promise.all(
      [0, 1].map(() => startGateway({ KGW_AUTH: 'api-key', KGW_AUTH_API_KEYS_FILE: file, ...env })),
    );
    // Ready: Redis (where the budgets live) and Kafka answer.
    for (const g of gateways)
      await eventually(async () => expect((await fetch(`${g.url}/readyz`)).status).toBe(200));
  };

  it('shares one request budget: 10/s (burst 10) through both instances', async () => {
    const principal = uniqueName('p');
    await start(principal, { KGW_QUOTA_REQUESTS_PER_SECOND: '10' });
    const started = Date.now();
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        fetch(`${gateways[i % 2]!.url}/topics`, { headers: { 'x-api-key': `${principal}-key` } }),
      ),
    );
    const elapsedS = (Date.now() - started) / 1000;
    const ok = results.filter((r) => r.status === 200);
    const limited = results.filter((r) => r.status === 429);
    expect(ok.length + limited.length).toBe(40);
    // The burst plus what the rate refilled while the requests ran, never 2× (one per instance).
    expect(ok.length).toBeGreaterThanOrEqual(10);
    expect(ok.length).toBeLessThanOrEqual(10 + Math.ceil(elapsedS * 10) + 1);
    const refused = limited[0]!;
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await refused.json()).toMatchObject({ code: 'KGW_QUOTA_EXCEEDED', error_code: 42903 });
    expect(ok[0]!.headers.get('ratelimit-limit')).toBe('10');
    // Both instances refused some: the budget is shared, not per instance.
    const statusesBy = [0, 1].map((g) =>
      results.filter((_, i) => i % 2 === g).map((r) => r.status),
    );
    for (const statuses of statusesBy) expect(statuses).toContain(429);
    // After a second, the budget is back.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const again = await fetch(`${gateways[0]!.url}/topics`, {
      headers: { 'x-api-key': `${principal}-key` },
    });
    expect(again.status).toBe(200);
  });

  it('charges produced records: 100 records/s, a second 60-record batch at once is refused', async () => {
    const principal = uniqueName('p');
    await start(principal, { KGW_QUOTA_RECORDS_PER_SECOND: '100' });
    const batch = JSON.stringify({ records: Array.from({ length: 60 }, (_, i) => ({ value: i })) });
    const send = (g: number) =>
      fetch(`${gateways[g]!.url}/topics/${topic}`, {
        method: 'POST',
        headers: {
          'x-api-key': `${principal}-key`,
          'content-type': 'application/vnd.kafka.json.v2+json',
        },
        body: batch,
      });
    expect((await send(0)).status).toBe(200);
    const second = await send(1);
    expect(second.status).toBe(429);
    expect(await second.json()).toMatchObject({ code: 'KGW_QUOTA_EXCEEDED' });
  });

  it('slows down an address that keeps failing authentication', async () => {
    const principal = uniqueName('p');
    await start(principal, { KGW_AUTH_FAILURES_PER_MINUTE: '5' });
    // The budget is per address and lives in the shared Redis: start from a clean one.
    const { Redis } = await import('ioredis');
    const redis = new Redis(inject('redisUrl'));
    await redis.del(
      'kgw:quota:{auth-failures:127.0.0.1}',
      'kgw:quota:{auth-failures:::ffff:127.0.0.1}',
    );
    redis.disconnect();
    const statuses: number[] = [];
    for (let i = 0; i < 8; i += 1) {
      const res = await fetch(`${gateways[i % 2]!.url}/topics`, {
        headers: { 'x-api-key': 'wrong' },
      });
      statuses.push(res.status);
    }
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(statuses.slice(5)).toEqual([429, 429, 429]);
  });
});
