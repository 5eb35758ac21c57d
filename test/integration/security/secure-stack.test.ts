// The gateway against `stack up --secure`: Kafka only on SASL_SSL (SCRAM users, a private CA,
// StandardAuthorizer ACLs) and Redis only on TLS with client certificates and an ACL user.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../gateway/src/config/load-config.js';
import {
  kafkaSecurity,
  librdkafkaSecurity,
  type KafkaSecurity,
} from '../../../gateway/src/kafka/client-security.js';
import { GroupCoordinatorClient } from '../../../gateway/src/kafka/group-coordinator.js';
import { createLogger } from '../../../gateway/src/observability/logger.js';
import { eventually } from '../../support/eventually.js';
import { killAllGateways, spawnGateway } from '../../support/gateway-process.js';
import { closeAllClients, createTopic, uniqueName } from '../../support/kafka.js';
import { parseStackEnv, stack, type StackEnv } from '../../support/stack.js';

const V2 = 'application/vnd.kafka.v2+json';
const JSON_V2 = 'application/vnd.kafka.json.v2+json';

describe('a secured Kafka (SASL_SSL, SCRAM, ACLs) and Redis (TLS, ACL user)', () => {
  let runDir = '';
  let env: StackEnv;
  let security: KafkaSecurity;
  let gatewayUrl = '';

  beforeAll(async () => {
    runDir = await mkdtemp(join(tmpdir(), 'kgw-secure-'));
    env = parseStackEnv(await stack(runDir, 'up', '--secure'));
    security = kafkaSecurity(loadConfig(env.vars));
    gatewayUrl = (await spawnGateway({ ...env.vars })).url;
  }, 180_000);

  afterAll(async () => {
    await killAllGateways();
    await closeAllClients();
    if (runDir) {
      await stack(runDir, 'down');
      await rm(runDir, { recursive: true, force: true });
    }
  });

  const topic = (prefix = 'secure'): Promise<string> =>
    createTopic({
      brokers: env.kafkaBrokers,
      clientConfig: librdkafkaSecurity(security),
      prefix,
      partitions: 2,
    });

  it('produces, consumes and commits through SASL_SSL with SCRAM-SHA-512 and Redis over mutual TLS', async () => {
    const t = await topic();
    const group = uniqueName('g');
    const produced = await fetch(`${gatewayUrl}/topics/${t}`, {
      method: 'POST',
      headers: { 'content-type': JSON_V2 },
      body: JSON.stringify({ records: [{ value: 'a' }, { value: 'b' }, { value: 'c' }] }),
    });
    expect(produced.status).toBe(200);

    const base = `${gatewayUrl}/consumers/${group}/instances/c1`;
    const post = (url: string, body: unknown): Promise<Response> =>
      fetch(url, {
        method: 'POST',
        headers: { 'content-type': V2 },
        body: JSON.stringify(body),
      });
    expect(
      (
        await post(`${gatewayUrl}/consumers/${group}`, {
          name: 'c1',
          format: 'json',
          'auto.offset.reset': 'earliest',
        })
      ).status,
    ).toBe(200);
    expect((await post(`${base}/subscription`, { topics: [t] })).status).toBe(204);
    const values: unknown[] = [];
    await eventually(async () => {
      const res = await fetch(`${base}/records`, { headers: { accept: JSON_V2 } });
      expect(res.status).toBe(200);
      values.push(...((await res.json()) as { value: unknown }[]).map((r) => r.value));
      expect(values.sort()).toEqual(['a', 'b', 'c']);
    });
    // The commit goes through the gateway's own Kafka protocol client: TLS + SCRAM there too.
    expect((await post(`${base}/offsets`, {})).status).toBe(204);
    const committed = new GroupCoordinatorClient({
      brokers: env.kafkaBrokers.split(','),
      clientId: 'kgw-test',
      timeoutMs: 10_000,
      logger: createLogger('silent'),
      security,
    });
    try {
      const offsets = await committed.committed(group, [
        { topic: t, partition: 0 },
        { topic: t, partition: 1 },
      ]);
      expect(offsets.reduce((sum, o) => sum + o.offset, 0)).toBe(3);
    } finally {
      await committed.close();
    }
  });

  it("answers 404 for a topic Kafka's ACLs hide from the gateway's user, as for a missing one", async () => {
    // The stack denies User:gateway every operation on 'restricted.*' (topic creation is a
    // cluster permission, so the topic can still be made).
    const hidden = await createTopic({
      brokers: env.kafkaBrokers,
      clientConfig: librdkafkaSecurity(security),
      prefix: 'restricted.t',
      awaitMetadata: false,
    });
    const res = await fetch(`${gatewayUrl}/topics/${hidden}`, {
      method: 'POST',
      headers: { 'content-type': JSON_V2 },
      body: JSON.stringify({ records: [{ value: 1 }] }),
    });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { code: string }).code).toBe('KGW_TOPIC_NOT_FOUND');
  });

  it.each(['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'] as const)(
    "the gateway's own protocol client authenticates with %s",
    async (mechanism) => {
      const t = await topic('mech');
      const group = uniqueName('g');
      const client = new GroupCoordinatorClient({
        brokers: env.kafkaBrokers.split(','),
        clientId: 'kgw-test',
        timeoutMs: 10_000,
        logger: createLogger('silent'),
        security: { ...security, sasl: { ...security.sasl!, mechanism } },
      });
      try {
        await client.commit(group, [{ topic: t, partition: 1, offset: 42, metadata: 'm' }]);
        const [offset] = await client.committed(group, [{ topic: t, partition: 1 }]);
        expect(offset).toMatchObject({ offset: 42, metadata: 'm' });
      } finally {
        await client.close();
      }
    },
  );

  it('refuses a wrong SCRAM password in its own protocol client with a message that says so', async () => {
    const client = new GroupCoordinatorClient({
      brokers: env.kafkaBrokers.split(','),
      clientId: 'kgw-test',
      timeoutMs: 3000,
      logger: createLogger('silent'),
      security: { ...security, sasl: { ...security.sasl!, password: 'wrong' } },
    });
    try {
      await expect(
        client.committed(uniqueName('g'), [{ topic: 't', partition: 0 }]),
      ).rejects.toThrow(/SASL SCRAM-SHA-512 authentication of 'gateway' failed/);
    } finally {
      await client.close();
    }
  });

  /** Starts a gateway with the stack's settings changed by `overrides`; returns its /readyz body. */
  async function readyzWith(overrides: Record<string, string>): Promise<{
    checks: Record<string, { ok: boolean; message?: string }>;
  }> {
    const vars: Record<string, string> = { ...env.vars, ...overrides };
    for (const [k, v] of Object.entries(overrides)) if (v === '') delete vars[k];
    const gw = await spawnGateway(vars);
    try {
      return await eventually(
        async () => {
          const res = await fetch(`${gw.url}/readyz`);
          expect(res.status).toBe(503);
          const body = (await res.json()) as {
            checks: Record<string, { ok: boolean; message?: string }>;
          };
          const failing = Object.values(body.checks).find((c) => !c.ok);
          // Until the first refusal is reported the check only times out; wait for the reason.
          expect(failing?.message).not.toMatch(/did not answer within|timed out/i);
          return body;
        },
        { timeoutMs: 30_000, intervalMs: 500 },
      );
    } finally {
      await gw.stop('SIGKILL');
    }
  }

  it('/readyz names a wrong Kafka password', async () => {
    const file = join(runDir, 'wrong-kafka-password');
    await writeFile(file, 'not-the-password');
    const body = await readyzWith({ KGW_KAFKA_SASL_PASSWORD_FILE: file });
    expect(body.checks.kafka).toMatchObject({ ok: false });
    expect(body.checks.kafka!.message).toMatch(/authentication/i);
    expect(body.checks.redis).toMatchObject({ ok: true });
  }, 60_000);

  it('/readyz names a broker certificate the gateway does not trust', async () => {
    // Without the private CA the system's CAs are used, and they never signed the broker.
    const body = await readyzWith({ KGW_KAFKA_SSL_CA_FILE: '' });
    expect(body.checks.kafka).toMatchObject({ ok: false });
    expect(body.checks.kafka!.message).toMatch(/certificate/i);
  }, 60_000);

  it('/readyz names a wrong Redis password and a missing Redis client certificate', async () => {
    const file = join(runDir, 'wrong-redis-password');
    await writeFile(file, 'not-the-password');
    const wrong = await readyzWith({ KGW_REDIS_PASSWORD_FILE: file });
    expect(wrong.checks.redis!.message).toMatch(/WRONGPASS/);
    const noCert = await readyzWith({ KGW_REDIS_TLS_CERT_FILE: '', KGW_REDIS_TLS_KEY_FILE: '' });
    expect(noCert.checks.redis).toMatchObject({ ok: false });
    expect(noCert.checks.redis!.message).toMatch(/\(connection: /);
  }, 90_000);
});
