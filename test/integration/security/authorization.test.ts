// Authorization against the real stack: principals (API keys) × operations ×
// topics and groups, over REST and gRPC, from a policy file; consumer
// instances belong to their creator; Kafka's internal topics stay out of
// reach; denials are 403 KGW_FORBIDDEN and logged as audit lines.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Metadata, status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashApiKey } from '../../../gateway/src/auth/api-keys.js';
import {
  closeAllGateways,
  startGateway,
  type RunningGateway,
} from '../../support/gateway-in-process.js';
import { killAllGateways, spawnGateway, waitForLog } from '../../support/gateway-process.js';
import {
  closeAllGrpcClients,
  gatewayClient,
  reflectionServices,
  unary,
} from '../../support/grpc-client.js';
import { closeAllClients, createTopic, uniqueName } from '../../support/kafka.js';

const KEYS = { alice: 'alice-key', bob: 'bob-key' } as const;
type Who = keyof typeof KEYS;

describe('authorization (policy file, API keys)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kgw-authz-'));
  const env = {
    KGW_AUTH: 'api-key',
    KGW_AUTH_API_KEYS_FILE: join(dir, 'keys.json'),
    KGW_AUTHZ_POLICY_FILE: join(dir, 'policy.json'),
  };
  let gw: RunningGateway;
  let orders: string;
  let other: string;
  /** A dead-letter topic bob may produce to (his consumers name it: he may not write orders-*.dlq). */
  let bobDlq: string;
  const call = async (who: Who, method: string, path: string, body?: unknown) => {
    const res = await fetch(`${gw.url}${path}`, {
      method,
      headers: {
        'x-api-key': KEYS[who],
        ...(body === undefined ? {} : { 'content-type': 'application/vnd.kafka.json.v2+json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return {
      status: res.status,
      body: (text ? JSON.parse(text) : undefined) as Record<string, unknown>,
    };
  };
  const createConsumer = async (who: Who, group: string, extra: Record<string, unknown> = {}) =>
    call(who, 'POST', `/consumers/${group}`, { format: 'json', ...extra });

  beforeAll(async () => {
    orders = await createTopic({ prefix: 'orders' });
    other = await createTopic();
    bobDlq = await createTopic({ prefix: 'bob-dlq' });
    writeFileSync(
      env.KGW_AUTH_API_KEYS_FILE,
      JSON.stringify({
        keys: [
          { principal: 'alice', sha256: hashApiKey(KEYS.alice), groups: ['team-a'] },
          { principal: 'bob', sha256: hashApiKey(KEYS.bob) },
        ],
      }),
    );
    writeFileSync(
      env.KGW_AUTHZ_POLICY_FILE,
      JSON.stringify({
        rules: [
          {
            effect: 'allow',
            principals: ['group:team-a'],
            operations: ['*'],
            topics: ['orders-*', '*'],
            groups: ['orders-*'],
          },
          {
            effect: 'allow',
            principals: ['bob'],
            operations: ['describe', 'consume'],
            topics: ['orders-*'],
            groups: ['bob-*'],
          },
          { effect: 'allow', principals: ['bob'], operations: ['produce'], topics: ['bob-dlq-*'] },
          { effect: 'allow', principals: ['alice'], operations: ['admin'], cluster: true },
          { effect: 'deny', principals: ['*'], operations: ['produce'], topics: [other] },
        ],
      }),
    );
    gw = await startGateway(env);
  });
  afterAll(async () => {
    closeAllGrpcClients();
    await closeAllClients();
    await closeAllGateways();
    await killAllGateways();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lets each principal produce only where the policy allows (a deny wins)', async () => {
    const produce = (who: Who, topic: string) =>
      call(who, 'POST', `/topics/${topic}`, { records: [{ value: 1 }] });
    expect((await produce('alice', orders)).status).toBe(200);
    const bob = await produce('bob', orders);
    expect(bob.status).toBe(403);
    expect(bob.body).toMatchObject({ code: 'KGW_FORBIDDEN', error_code: 40302 });
    // alice's rule allows every topic, but the deny rule on `other` wins.
    expect((await produce('alice', other)).status).toBe(403);
    // A bare `*` never reaches Kafka's internal topics.
    expect((await produce('alice', '__consumer_offsets')).status).toBe(403);
  });

  it('shows and describes only the topics a principal may describe', async () => {
    const list = await fetch(`${gw.url}/topics`, { headers: { 'x-api-key': KEYS.bob } });
    const names = (await list.json()) as string[];
    expect(names).toContain(orders);
    expect(names).not.toContain(other);
    expect((await call('bob', 'GET', `/topics/${other}`)).status).toBe(403);
    expect((await call('bob', 'GET', `/topics/${orders}`)).status).toBe(200);
  });

  it('checks groups, topics and the dead-letter topic of consumers, and keeps instances to their creator', async () => {
    expect((await createConsumer('bob', `orders-${uniqueName('g')}`)).status).toBe(403);
    const bobGroup = `bob-${uniqueName('g')}`;
    const bobs = await createConsumer('bob', bobGroup, { 'dead.letter.topic': bobDlq });
    expect(bobs.status).toBe(200);
    expect(
      (await createConsumer('bob', `bob-${uniqueName('g')}`, { 'dead.letter.topic': 'x.dlq' }))
        .status,
    ).toBe(403);
    const base = `/consumers/${bobGroup}/instances/${String(bobs.body.instance_id)}`;
    expect((await call('bob', 'POST', `${base}/subscription`, { topics: [other] })).status).toBe(
      403,
    );
    expect((await call('bob', 'POST', `${base}/subscription`, { topics: [orders] })).status).toBe(
      204,
    );
    expect(
      (
        await call('bob', 'POST', `${base}/assignments`, {
          partitions: [{ topic: '__consumer_offsets', partition: 0 }],
        })
      ).status,
    ).toBe(403);
    // Seeking moves the group's position: the commit permission, which bob lacks.
    expect(
      (
        await call('bob', 'POST', `${base}/positions/end`, {
          partitions: [{ topic: orders, partition: 0 }],
        })
      ).status,
    ).toBe(403);
    // alice knows bob's instance id: it does not exist for her, whatever she tries.
    for (const [method, path, body] of [
      ['GET', `${base}/records?timeout=0`, undefined],
      [
        'POST',
        `${base}/acks`,
        { records: [{ topic: orders, partition: 0, offset: 0, attempt: 1 }] },
      ],
      ['POST', `${base}/offsets`, {}],
      ['GET', `${base}/subscription`, undefined],
      ['DELETE', base, undefined],
    ] as const) {
      const res = await call('alice', method, path, body);
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.body).toMatchObject({ code: 'KGW_CONSUMER_NOT_FOUND' });
    }
    expect((await call('bob', 'GET', `${base}/records?timeout=0`)).status).toBe(200);
  });

  it('checks the default dead-letter topic <topic>.dlq like an explicit one, and never creates one', async () => {
    // bob may consume orders-*, but not produce to orders-*.dlq, where his records would go.
    const group = `bob-${uniqueName('g')}`;
    const bobs = await createConsumer('bob', group);
    expect(bobs.status).toBe(200);
    const base = `/consumers/${group}/instances/${String(bobs.body.instance_id)}`;
    const subscribed = await call('bob', 'POST', `${base}/subscription`, { topics: [orders] });
    expect(subscribed.status).toBe(403);
    expect(subscribed.body).toMatchObject({ code: 'KGW_FORBIDDEN', error_code: 40302 });
    expect(String(subscribed.body.message)).toContain(`'${orders}.dlq'`);
    const assigned = await call('bob', 'POST', `${base}/assignments`, {
      partitions: [{ topic: orders, partition: 0 }],
    });
    expect(assigned.status).toBe(403);
    // A dead-letter topic that does not exist, named by a principal allowed to produce to it.
    const missing = `orders-${uniqueName('missing')}`;
    const refused = await createConsumer('alice', `orders-${uniqueName('g')}`, {
      'dead.letter.topic': missing,
    });
    expect(refused.status).toBe(422);
    expect(refused.body).toMatchObject({
      code: 'KGW_DEAD_LETTER_TOPIC_NOT_FOUND',
      error_code: 42204,
    });
    // ... and asking about it created nothing.
    expect((await call('alice', 'GET', `/topics/${missing}`)).status).toBe(404);
    // alice may produce to orders-*.dlq: her subscription passes (the .dlq need not exist yet).
    const aliceGroup = `orders-${uniqueName('g')}`;
    const alices = await createConsumer('alice', aliceGroup);
    const aliceBase = `/consumers/${aliceGroup}/instances/${String(alices.body.instance_id)}`;
    expect(
      (await call('alice', 'POST', `${aliceBase}/subscription`, { topics: [orders] })).status,
    ).toBe(204);
  });

  it('applies the same policy to gRPC calls', async () => {
    const client = gatewayClient(gw.grpcAddress);
    const as = (who: Who) => {
      const metadata = new Metadata();
      metadata.set('x-api-key', KEYS[who]);
      return metadata;
    };
    const request = { topic: orders, records: [{ value: Buffer.from('g') }] };
    await expect(unary(client, 'Produce', request, as('alice'))).resolves.toBeDefined();
    await expect(unary(client, 'Produce', request, as('bob'))).rejects.toMatchObject({
      code: status.PERMISSION_DENIED,
    });
  });

  it('serves /metrics, /openapi.json and gRPC reflection only to principals allowed admin', async () => {
    // With a trailing slash too: routes tolerate one, the admin check must as well.
    for (const path of ['/metrics', '/openapi.json', '/metrics/', '/openapi.json/']) {
      const asAlice = await fetch(`${gw.url}${path}`, { headers: { 'x-api-key': KEYS.alice } });
      expect(asAlice.status, path).toBe(200);
      await asAlice.arrayBuffer();
      const asBob = await call('bob', 'GET', path);
      expect(asBob.status, path).toBe(403);
      expect(asBob.body).toMatchObject({ code: 'KGW_FORBIDDEN', error_code: 40302 });
      expect((await fetch(`${gw.url}${path}`)).status, path).toBe(401);
    }
    // The probes stay open.
    expect((await fetch(`${gw.url}/healthz`)).status).toBe(200);
    expect([200, 503]).toContain((await fetch(`${gw.url}/readyz`)).status);
    const as = (who: Who) => {
      const metadata = new Metadata();
      metadata.set('x-api-key', KEYS[who]);
      return metadata;
    };
    expect(await reflectionServices(gw.grpcAddress, as('alice'))).toContain(
      'kafka_gateway.v1.KafkaGateway',
    );
    await expect(reflectionServices(gw.grpcAddress, as('bob'))).rejects.toMatchObject({
      code: status.PERMISSION_DENIED,
    });
    await expect(reflectionServices(gw.grpcAddress)).rejects.toMatchObject({
      code: status.UNAUTHENTICATED,
    });
  });

  it('logs every denial as an audit line', async () => {
    const proc = await spawnGateway(env);
    await fetch(`${proc.url}/topics/${orders}`, {
      method: 'POST',
      headers: { 'x-api-key': KEYS.bob, 'content-type': 'application/vnd.kafka.json.v2+json' },
      body: JSON.stringify({ records: [{ value: 1 }] }),
    });
    const line = await waitForLog(proc.logs, (l) => l.audit === true, 5000);
    expect(line).toMatchObject({
      principal: 'bob',
      action: 'produce',
      resource: `topic:${orders}`,
      outcome: 'denied',
    });
    await fetch(`${proc.url}/metrics`, { headers: { 'x-api-key': KEYS.bob } });
    const admin = await waitForLog(
      proc.logs,
      (l) => l.audit === true && l.action === 'admin',
      5000,
    );
    expect(admin).toMatchObject({ principal: 'bob', resource: 'cluster:kafka-gateway' });
  });
});
