// Quotas hold across gateway instances (GCRA in the shared Redis): one
// principal sending past its limit through two gateways gets 429
// KGW_QUOTA_EXCEEDED with Retry-After once the shared budget is spent; an
// address that keeps failing authentication is slowed down the same way.
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
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

  it('charges produced records: 100 records/s, a second 100-record batch at once is refused', async () => {
    const principal = uniqueName('p');
    await start(principal, { KGW_QUOTA_RECORDS_PER_SECOND: '100' });
    const send = (g: number, count: number) =>
      fetch(`${gateways[g]!.url}/topics/${topic}`, {
        method: 'POST',
        headers: {
          'x-api-key': `${principal}-key`,
          'content-type': 'application/vnd.kafka.json.v2+json',
        },
        body: JSON.stringify({ records: Array.from({ length: count }, (_, i) => ({ value: i })) }),
      });
    // Warm both instances' producers (a first produce fetches metadata), then let the budget refill.
    for (const g of [0, 1]) expect((await send(g, 1)).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 1200));
    const started = Date.now();
    expect((await send(0, 100)).status).toBe(200);
    const second = await send(1, 100);
    const elapsedS = (Date.now() - started) / 1000;
    // The first batch took the whole budget; 100 more records need a full second of refill.
    if (elapsedS < 0.8) {
      expect(second.status).toBe(429);
      expect(await second.json()).toMatchObject({ code: 'KGW_QUOTA_EXCEEDED' });
    } else expect([200, 429], `after ${elapsedS} s`).toContain(second.status);
  });

  it('lets a principal with an override in the policy file through where the default refuses', async () => {
    const [slow, fast, member] = [uniqueName('slow'), uniqueName('fast'), uniqueName('member')];
    const keysFile = join(dir, `${fast}-keys.json`);
    writeFileSync(
      keysFile,
      JSON.stringify({
        keys: [
          { principal: slow, sha256: hashApiKey(`${slow}-key`) },
          { principal: fast, sha256: hashApiKey(`${fast}-key`) },
          { principal: member, sha256: hashApiKey(`${member}-key`), groups: ['bulk'] },
        ],
      }),
    );
    const policyFile = join(dir, `${fast}-policy.json`);
    const policy = (quotas: Record<string, unknown>) => ({
      rules: [{ effect: 'allow', principals: ['*'], operations: ['describe'], topics: ['*'] }],
      quotas,
    });
    writeFileSync(
      policyFile,
      JSON.stringify(
        policy({ [fast]: { requestsPerSecond: 1000 }, 'group:bulk': { requestsPerSecond: 1000 } }),
      ),
    );
    gateways = await Promise.all(
      [0, 1].map(() =>
        startGateway({
          KGW_AUTH: 'api-key',
          KGW_AUTH_API_KEYS_FILE: keysFile,
          KGW_AUTHZ_POLICY_FILE: policyFile,
          KGW_QUOTA_REQUESTS_PER_SECOND: '5',
        }),
      ),
    );
    for (const g of gateways)
      await eventually(async () => expect((await fetch(`${g.url}/readyz`)).status).toBe(200));
    const burst = async (principal: string) => {
      const results = await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          fetch(`${gateways[i % 2]!.url}/topics`, { headers: { 'x-api-key': `${principal}-key` } }),
        ),
      );
      await Promise.all(results.map((r) => r.arrayBuffer()));
      return results;
    };
    // The default (5/s, burst 5) refuses most of 30 requests through both instances...
    const slowStatuses = (await burst(slow)).map((r) => r.status);
    expect(slowStatuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(20);
    // ... the principal's override (1000/s) and a group's override let all of them through.
    const fastResults = await burst(fast);
    expect(fastResults.map((r) => r.status)).toEqual(Array(30).fill(200));
    expect(fastResults[0]!.headers.get('ratelimit-limit')).toBe('1000');
    expect((await burst(member)).map((r) => r.status)).toEqual(Array(30).fill(200));
    // The file is re-read when it changes: without its override, fast gets the default.
    writeFileSync(policyFile, JSON.stringify(policy({})));
    const later = new Date(Date.now() + 5000);
    utimesSync(policyFile, later, later);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await eventually(async () => {
      const statuses = (await burst(fast)).map((r) => r.status);
      expect(statuses).toContain(429);
    });
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
