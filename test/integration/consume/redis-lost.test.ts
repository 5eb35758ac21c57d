import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { closeAllGateways, startGateway } from '../../support/gateway-in-process.js';
import { eventually } from '../../support/eventually.js';
import { closeAllClients, createTopic, uniqueName } from '../../support/kafka.js';
import { RedisServer } from '../../support/redis-server.js';
import { RestConsumer, produceNumbers } from '../../support/rest-consumer.js';

describe('Redis restarted empty', () => {
  const servers: RedisServer[] = [];
  afterEach(closeAllClients);
  afterAll(async () => {
    await closeAllGateways();
    await Promise.all(servers.map((s) => s.stop()));
  });

  it('answers 404 for lost sessions, then resumes from Kafka’s committed offsets: nothing acked comes back, nothing unacked is lost', async () => {
    const redis = await RedisServer.start();
    servers.push(redis);
    const gw = await startGateway({ REDIS_URL: redis.url });
    const topic = await createTopic();
    await produceNumbers(gw.url, topic, 20);
    const group = uniqueName('g');
    const s = await RestConsumer.create(gw.url, group);
    await s.subscribe(gw.url, [topic]);

    const acked = await s.poll(gw.url, { timeout: 3000, max_records: 10 });
    expect(acked).toHaveLength(10);
    await s.ack(gw.url, acked);
    const unacked = await s.poll(gw.url, { timeout: 3000, max_records: 5 });
    expect(unacked.map((r) => r.offset)).toEqual([10, 11, 12, 13, 14]);

    await redis.stop();
    await redis.start();

    const lost = await eventually(async () => {
      const res = await s.raw('GET', gw.url, '/records?timeout=100');
      expect(res.status).toBe(404);
      return res;
    });
    expect(lost.body).toMatchObject({ error_code: 40403, code: 'KGW_CONSUMER_NOT_FOUND' });

    const again = await RestConsumer.create(gw.url, group);
    await again.subscribe(gw.url, [topic]);
    const resumed = [];
    for (let i = 0; i < 10 && resumed.length < 10; i += 1)
      resumed.push(...(await again.poll(gw.url, { timeout: 1000 })));
    expect(resumed.map((r) => r.offset)).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
  });
});
