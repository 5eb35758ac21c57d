// The gateway against `stack up --secure`: Kafka only on SASL_SSL (SCRAM users, a private CA,
// StandardAuthorizer ACLs) and Redis only on TLS with client certificates and an ACL user.
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
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
import { privateStack, stopPrivateStack, type StackEnv } from '../../support/stack.js';

const V2 = 'application/vnd.kafka.v2+json';
const JSON_V2 = 'application/vnd.kafka.json.v2+json';

describe('a secured Kafka (SASL_SSL, SCRAM, ACLs) and Redis (TLS, ACL user)', () => {
  let runDir = '';
  let env: StackEnv;
  let security: KafkaSecurity;
  let gatewayUrl = '';

  beforeAll(async () => {
    ({ runDir, env } = await privateStack('kgw-secure-', '--secure'));
    security = kafkaSecurity(loadConfig(env.vars));
    gatewayUrl = (await spawnGateway({ ...env.vars })).url;
  }, 180_000);

  afterAll(async () => {
    await killAllGateways();
    await closeAllClients();
    await stopPrivateStack(runDir);
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
    // Admin reads (DescribeConfigs, ListGroups on every advertised broker) use TLS + SCRAM too.
    const topicInfo = (await (await fetch(`${gatewayUrl}/topics/${t}`)).json()) as {
      configs: Record<string, string | null>;
    };
    expect(topicInfo.configs['cleanup.policy']).toBe('delete');
    const clusters = (await (await fetch(`${gatewayUrl}/v3/clusters`)).json()) as {
      data: Array<{ metadata: { self: string } }>;
    };
    const cluster = clusters.data[0]!.metadata.self;
    const groups = (await (await fetch(`${cluster}/consumer-groups`)).json()) as {
      data: Array<{ consumer_group_id: string }>;
    };
    expect(groups.data.map((g) => g.consumer_group_id)).toContain(group);
    const summary = await fetch(`${cluster}/consumer-groups/${group}/lag-summary`);
    expect(await summary.json()).toMatchObject({ total_lag: 0 });
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

  it("shows a topic whose configs Kafka's ACLs hide with no configs, not an error", async () => {
    const t = await topic('noconfigs.t');
    const res = await fetch(`${gatewayUrl}/topics/${t}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ name: t, configs: {} });
    const visible = await topic();
    const shown = (await (await fetch(`${gatewayUrl}/topics/${visible}`)).json()) as {
      configs: Record<string, unknown>;
    };
    expect(Object.keys(shown.configs)).toContain('retention.ms');
  });

  it.each(['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'] as const)(
    "the gateway's own protocol client authenticates with %s",
    async (mechanism) => {
      const { sasl } = security;
      if (sasl?.mechanism === 'OAUTHBEARER' || !sasl) throw new Error('the stack uses SCRAM');
      const t = await topic('mech');
      const group = uniqueName('g');
      const client = new GroupCoordinatorClient({
        brokers: env.kafkaBrokers.split(','),
        clientId: 'kgw-test',
        timeoutMs: 10_000,
        logger: createLogger('silent'),
        security: { ...security, sasl: { ...sasl, mechanism } },
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
      security: {
        ...security,
        sasl: { mechanism: 'SCRAM-SHA-512', username: 'gateway', password: 'wrong' },
      },
    });
    try {
      await expect(
        client.committed(uniqueName('g'), [{ topic: 't', partition: 0 }]),
      ).rejects.toThrow(/SASL SCRAM-SHA-512 authentication of 'gateway' failed/);
    } finally {
      await client.close();
    }
  });

  /**
   * An OAuth 2 token endpoint (client credentials) issuing the unsigned tokens the stack's
   * brokers accept for OAUTHBEARER (Kafka's unsecured validator), valid for `lifetimeS`.
   */
  async function tokenEndpoint(
    secret: string,
    lifetimeS: number,
  ): Promise<{ url: string; issued: () => number; close: () => Promise<void> }> {
    let issued = 0;
    const b64 = (o: object): string => Buffer.from(JSON.stringify(o)).toString('base64url');
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const expected = `Basic ${Buffer.from(`gateway-client:${secret}`).toString('base64')}`;
        const form = new URLSearchParams(body);
        res.setHeader('content-type', 'application/json');
        if (
          req.headers.authorization !== expected ||
          form.get('grant_type') !== 'client_credentials'
        ) {
          res.statusCode = 401;
          res.end(JSON.stringify({ error: 'invalid_client' }));
          return;
        }
        issued += 1;
        const now = Math.floor(Date.now() / 1000);
        const token = `${b64({ alg: 'none' })}.${b64({ sub: 'gateway', iat: now, exp: now + lifetimeS })}.`;
        res.end(
          JSON.stringify({ access_token: token, token_type: 'Bearer', expires_in: lifetimeS }),
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    return {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`,
      issued: () => issued,
      close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
  }

  it('authenticates with SASL OAUTHBEARER using tokens from a token endpoint, refreshed before they expire', async () => {
    const secretFile = join(runDir, 'oauth-secret');
    await writeFile(secretFile, 'client-secret');
    const endpoint = await tokenEndpoint('client-secret', 3);
    const vars: Record<string, string> = {
      ...env.vars,
      KGW_KAFKA_SASL_MECHANISM: 'OAUTHBEARER',
      KGW_KAFKA_OAUTH_TOKEN_URL: endpoint.url,
      KGW_KAFKA_OAUTH_CLIENT_ID: 'gateway-client',
      KGW_KAFKA_OAUTH_CLIENT_SECRET_FILE: secretFile,
    };
    delete vars.KGW_KAFKA_SASL_USERNAME;
    delete vars.KGW_KAFKA_SASL_PASSWORD_FILE;
    const gw = await spawnGateway(vars);
    try {
      const t = await topic('oauth');
      const group = uniqueName('g');
      const produced = await fetch(`${gw.url}/topics/${t}`, {
        method: 'POST',
        headers: { 'content-type': JSON_V2 },
        body: JSON.stringify({ records: [{ value: 'o' }] }),
      });
      expect(produced.status).toBe(200);
      // A commit travels through the gateway's own protocol client: OAUTHBEARER there too.
      const post = (url: string, body: unknown): Promise<Response> =>
        fetch(url, { method: 'POST', headers: { 'content-type': V2 }, body: JSON.stringify(body) });
      await post(`${gw.url}/consumers/${group}`, { name: 'c', 'auto.offset.reset': 'earliest' });
      const base = `${gw.url}/consumers/${group}/instances/c`;
      expect(
        (
          await post(`${base}/assignments`, {
            partitions: [
              { topic: t, partition: 0 },
              { topic: t, partition: 1 },
            ],
          })
        ).status,
      ).toBe(204);
      await eventually(async () => {
        const res = await fetch(`${base}/records`, { headers: { accept: JSON_V2 } });
        expect(((await res.json()) as unknown[]).length).toBe(1);
      });
      expect((await post(`${base}/offsets`, {})).status).toBe(204);
      // Tokens live 3 s and are replaced at 80%: after 5 s at least two more were fetched.
      const before = endpoint.issued();
      await new Promise((resolve) => setTimeout(resolve, 5000));
      expect(endpoint.issued()).toBeGreaterThanOrEqual(before + 2);
      expect((await fetch(`${gw.url}/readyz`)).status).toBe(200);
    } finally {
      await gw.stop('SIGKILL');
      await endpoint.close();
    }
  }, 60_000);

  it('/readyz says the token endpoint refused the client', async () => {
    const secretFile = join(runDir, 'oauth-wrong-secret');
    await writeFile(secretFile, 'wrong');
    const endpoint = await tokenEndpoint('client-secret', 60);
    try {
      const body = await readyzWith({
        KGW_KAFKA_SASL_MECHANISM: 'OAUTHBEARER',
        KGW_KAFKA_OAUTH_TOKEN_URL: endpoint.url,
        KGW_KAFKA_OAUTH_CLIENT_ID: 'gateway-client',
        KGW_KAFKA_OAUTH_CLIENT_SECRET_FILE: secretFile,
        KGW_KAFKA_SASL_USERNAME: '',
        KGW_KAFKA_SASL_PASSWORD_FILE: '',
      });
      expect(body.checks.kafka!.message).toMatch(/OAuth token.*401 \(invalid_client\)/);
    } finally {
      await endpoint.close();
    }
  }, 60_000);

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
