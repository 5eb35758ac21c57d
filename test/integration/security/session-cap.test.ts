// The cap on consumer instances per principal (KGW_MAX_SESSIONS_PER_PRINCIPAL)
// holds across gateway instances: creations racing through two gateways never
// pass it (one reservation script in the shared Redis), other principals are
// not affected, and a deleted or expired instance gives its slot back.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { hashApiKey } from '../../../gateway/src/auth/api-keys.js';
import { loadConfig } from '../../../gateway/src/config/load-config.js';
import { buildWorker, type Worker } from '../../../workers/src/worker.js';
import { eventually } from '../../support/eventually.js';
import {
  closeAllGateways,
  startGateway,
  type RunningGateway,
} from '../../support/gateway-in-process.js';
import { uniqueName } from '../../support/kafka.js';

const CAP = 3;

describe('consumer instances per principal, across two gateways', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kgw-session-cap-'));
  const [p, q] = [uniqueName('capped'), uniqueName('other')];
  let gateways: RunningGateway[];
  let worker: Worker | undefined;

  beforeAll(async () => {
    const keysFile = join(dir, 'keys.json');
    writeFileSync(
      keysFile,
      JSON.stringify({
        keys: [p, q].map((principal) => ({ principal, sha256: hashApiKey(`${principal}-key`) })),
      }),
    );
    gateways = await Promise.all(
      [0, 1].map(() =>
        startGateway({
          KGW_AUTH: 'api-key',
          KGW_AUTH_API_KEYS_FILE: keysFile,
          KGW_MAX_SESSIONS_PER_PRINCIPAL: String(CAP),
        }),
      ),
    );
    for (const g of gateways)
      await eventually(async () => expect((await fetch(`${g.url}/readyz`)).status).toBe(200));
  });
  afterAll(async () => {
    await worker?.close();
    await closeAllGateways();
    rmSync(dir, { recursive: true, force: true });
  });

  const create = async (principal: string, gateway: number) => {
    const group = uniqueName('capg');
    const res = await fetch(`${gateways[gateway]!.url}/consumers/${group}`, {
      method: 'POST',
      headers: {
        'x-api-key': `${principal}-key`,
        'content-type': 'application/vnd.kafka.json.v2+json',
      },
      body: JSON.stringify({ format: 'json' }),
    });
    const body = (await res.json()) as Record<string, unknown>;
    return { status: res.status, retryAfter: res.headers.get('retry-after'), body, group };
  };
  const remove = async (principal: string, gateway: number, group: string, id: unknown) =>
    fetch(`${gateways[gateway]!.url}/consumers/${group}/instances/${String(id)}`, {
      method: 'DELETE',
      headers: { 'x-api-key': `${principal}-key` },
    });

  it('admits exactly the cap of twelve creations racing through both gateways; deleting frees a slot', async () => {
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => create(p, i % 2)));
    const created = results.filter((r) => r.status === 200);
    const refused = results.filter((r) => r.status === 429);
    expect(created).toHaveLength(CAP);
    expect(refused).toHaveLength(12 - CAP);
    expect(refused[0]!.body).toMatchObject({ code: 'KGW_TOO_MANY_SESSIONS', error_code: 42902 });
    expect(String(refused[0]!.body.message)).toContain('KGW_MAX_SESSIONS_PER_PRINCIPAL');
    expect(Number(refused[0]!.retryAfter)).toBeGreaterThanOrEqual(1);

    // Another principal has its own budget.
    expect((await create(q, 0)).status).toBe(200);

    // Deleting one (through the other gateway) gives its slot back, once.
    const first = created[0]!;
    expect((await remove(p, 1, first.group, first.body.instance_id)).status).toBe(204);
    expect((await create(p, 0)).status).toBe(200);
    expect((await create(p, 1)).status).toBe(429);
  });

  it('gives the slots of expired (idle) instances back', async () => {
    const config = loadConfig({
      KAFKA_BROKERS: inject('kafkaBrokers'),
      REDIS_URL: inject('redisUrl'),
      KGW_SESSION_IDLE_TIMEOUT_MS: '1000',
    });
    // Only this file's groups: other test files share the Redis and must keep their sessions.
    worker = buildWorker(config, pino({ level: 'silent' }), 60_000, (g) => g.startsWith('capg-'));
    worker.start();
    expect((await create(p, 0)).status).toBe(429);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await worker.sweeper.runOnce({ full: true });
    const again = await Promise.all(Array.from({ length: CAP + 1 }, (_, i) => create(p, i % 2)));
    expect(again.filter((r) => r.status === 200)).toHaveLength(CAP);
  });
});
