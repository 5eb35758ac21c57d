// A client's mistakes on the consumer API get a 4xx with a stable code, never a
// 5xx marked retryable: unknown topics and partitions in assignments and
// seeks, and records whose JSON is too deep to render again.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { closeAllClients, connectProducer, createTopic, uniqueName } from '../../support/kafka.js';
import {
  closeAllGateways,
  startGateway,
  type RunningGateway,
} from '../../support/gateway-in-process.js';
import { RestConsumer, restCall } from '../../support/rest-consumer.js';
import { RedisServer } from '../../support/redis-server.js';
import { eventually } from '../../support/eventually.js';

describe('consumer API: client mistakes are 4xx', () => {
  let gw: RunningGateway;
  beforeAll(async () => {
    gw = await startGateway();
  });
  afterEach(closeAllClients);
  afterAll(closeAllGateways);

  it.each([
    [
      '/assignments',
      'POST',
      (t: string) => ({ partitions: [{ topic: `${t}-missing`, partition: 0 }] }),
      404,
      'KGW_TOPIC_NOT_FOUND',
    ],
    [
      '/assignments',
      'POST',
      (t: string) => ({ partitions: [{ topic: t, partition: 5 }] }),
      404,
      'KGW_PARTITION_NOT_FOUND',
    ],
    [
      '/positions/beginning',
      'POST',
      (t: string) => ({ partitions: [{ topic: `${t}-missing`, partition: 0 }] }),
      404,
      'KGW_TOPIC_NOT_FOUND',
    ],
    [
      '/positions/end',
      'POST',
      (t: string) => ({ partitions: [{ topic: t, partition: 3 }] }),
      404,
      'KGW_PARTITION_NOT_FOUND',
    ],
    [
      '/positions',
      'POST',
      (t: string) => ({ offsets: [{ topic: `${t}-missing`, partition: 0, offset: 1 }] }),
      404,
      'KGW_TOPIC_NOT_FOUND',
    ],
  ] as const)(
    '%s (%s) naming what Kafka lacks → %s %s',
    async (path, method, body, status, code) => {
      const topic = await createTopic();
      const s = await RestConsumer.create(gw.url, uniqueName('g'));
      const res = await s.raw(method, gw.url, path, body(topic));
      expect(res.status).toBe(status);
      expect(res.body).toMatchObject({ code });
      // Nothing was stored: the session still has no assignment.
      expect((await s.raw('GET', gw.url, '/assignments')).body).toEqual({ partitions: [] });
    },
  );

  it('hands a record whose JSON nests too deeply to re-encode over as its text', async () => {
    const topic = await createTopic();
    const producer = await connectProducer();
    const deep = '['.repeat(3000) + ']'.repeat(3000);
    producer.produce(topic, 0, Buffer.from(deep));
    producer.produce(topic, 0, Buffer.from('{"ok":true}'));
    await new Promise<void>((resolve, reject) =>
      producer.flush(5000, (err) => (err ? reject(err) : resolve())),
    );
    const s = await RestConsumer.create(gw.url, uniqueName('g'));
    await s.subscribe(gw.url, [topic]);
    const records = await s.poll(gw.url, { timeout: 3000 });
    expect(records.map((r) => r.value)).toEqual([deep, { ok: true }]);
  });

  it('caps instances per group and groups per gateway with 429 KGW_TOO_MANY_SESSIONS', async () => {
    // A private Redis: the group count is gateway-wide, and other test files create groups.
    const redis = await RedisServer.start();
    let capped: RunningGateway | undefined;
    try {
      capped = await startGateway({
        REDIS_URL: redis.url,
        KGW_MAX_SESSIONS_PER_GROUP: '3',
        KGW_MAX_GROUPS: '2',
      });
      const url = capped.url;
      await eventually(async () => expect((await fetch(`${url}/readyz`)).status).toBe(200));
      const create = (group: string) =>
        restCall('POST', `${url}/consumers/${group}`, { format: 'binary' });
      const results = await Promise.all(Array.from({ length: 5 }, () => create('g1')));
      expect(results.map((r) => r.status).sort(), JSON.stringify(results)).toEqual([
        200, 200, 200, 429, 429,
      ]);
      expect(results.find((r) => r.status === 429)!.body).toMatchObject({
        code: 'KGW_TOO_MANY_SESSIONS',
      });
      expect((await create('g2')).status).toBe(200);
      const third = await create('g3');
      expect(third.status).toBe(429);
      expect((third.body as { message: string }).message).toContain('KGW_MAX_GROUPS');
      // Deleting an instance makes room in its group again.
      const id = (results.find((r) => r.status === 200)!.body as { instance_id: string })
        .instance_id;
      expect((await restCall('DELETE', `${url}/consumers/g1/instances/${id}`)).status).toBe(204);
      expect((await create('g1')).status).toBe(200);
    } finally {
      await capped?.close();
      await redis.stop();
    }
  });

  it('refuses an assignment of more than 1000 partitions and a subscription of more than 1000 topics', async () => {
    const s = await RestConsumer.create(gw.url, uniqueName('g'));
    const partitions = Array.from({ length: 1001 }, (_, partition) => ({ topic: 't', partition }));
    const assign = await s.raw('POST', gw.url, '/assignments', { partitions });
    expect(assign.status).toBe(422);
    expect(assign.body).toMatchObject({ code: 'KGW_INVALID_REQUEST' });
    const topics = Array.from({ length: 1001 }, (_, i) => `t${i}`);
    const sub = await s.raw('POST', gw.url, '/subscription', { topics });
    expect(sub.status).toBe(422);
  });

  it("answers 503 with our own words when Redis is unreachable, never the client library's", async () => {
    const { freePort } = await import('../../support/ports.js');
    const cut = await startGateway({
      REDIS_URL: `redis://127.0.0.1:${await freePort()}`,
      KGW_READY_TIMEOUT_MS: '500',
    });
    try {
      const res = await restCall('POST', `${cut.url}/consumers/${uniqueName('g')}`, {
        format: 'binary',
      });
      expect(res.status).toBe(503);
      expect(res.body).toMatchObject({ code: 'KGW_REDIS_UNAVAILABLE' });
      const { message } = res.body as { message: string };
      expect(message).toMatch(/^Redis did not complete/);
      expect(message).not.toMatch(/Stream|enableOfflineQueue|ECONNREFUSED|ioredis/);
    } finally {
      await cut.close();
    }
  });
});
