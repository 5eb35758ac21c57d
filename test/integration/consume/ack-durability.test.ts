// `ack.durability`: `kafka` (an ack answers once Kafka holds the commit) and
// `redis` (once the ledger has it; Kafka's commit follows, batched), each
// under what threatens it: a commit that cannot run yet, a gateway SIGKILLed
// right after answering, and Redis restarted empty. Real Kafka, redis-server
// and gateway processes.
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, inject, it } from 'vitest';
import { REDIS_ACK_COMMIT_DELAY_MS } from '../../../gateway/src/core/group-committer.js';
import { GroupCoordinatorClient } from '../../../gateway/src/kafka/group-coordinator.js';
import { createLogger } from '../../../gateway/src/observability/logger.js';
import { consumerKeys } from '../../../gateway/src/store/consumer-keys.js';
import { eventually } from '../../support/eventually.js';
import { closeAllGateways, startGateway } from '../../support/gateway-in-process.js';
import { killAllGateways, spawnGateway } from '../../support/gateway-process.js';
import { brokers, closeAllClients, createTopic, uniqueName } from '../../support/kafka.js';
import { RedisServer } from '../../support/redis-server.js';
import { RestConsumer, produceNumbers } from '../../support/rest-consumer.js';

const fromRedis = { mode: 'shared', 'ack.durability': 'redis' };

describe('ack durability', () => {
  const servers: RedisServer[] = [];
  const clients: Redis[] = [];
  afterEach(async () => {
    await killAllGateways();
    await closeAllClients();
  });
  afterAll(async () => {
    for (const c of clients) c.disconnect();
    await closeAllGateways();
    await Promise.all(servers.map((s) => s.stop()));
  });

  it('answers a redis ack while the commit cannot run, a kafka ack only once Kafka has it', async () => {
    const gw = await startGateway();
    const redis = new Redis(inject('redisUrl'));
    clients.push(redis);
    const topic = await createTopic();
    await produceNumbers(gw.url, topic, 6);
    const timed = async (durability: 'kafka' | 'redis') => {
      const group = uniqueName(durability);
      const s = await RestConsumer.create(gw.url, group, {
        mode: 'shared',
        'ack.durability': durability,
      });
      await s.subscribe(gw.url, [topic]);
      const records = await s.poll(gw.url, { timeout: 3000, max_records: 3 });
      expect(records).toHaveLength(3);
      // Another instance holds the group's commit lock for 2.5 s.
      await redis.set(consumerKeys.commitLock(group), 'another-instance', 'PX', 2500);
      const started = Date.now();
      expect(await s.ack(gw.url, records)).toEqual({ acked: 3, fenced: 0 });
      const answeredMs = Date.now() - started;
      // Answered or not, Kafka has the commit once the lock is free.
      await eventually(async () => expect(await s.committed(gw.url, topic, [0])).toEqual([3]), {
        timeoutMs: 10_000,
      });
      return answeredMs;
    };
    expect(await timed('redis')).toBeLessThan(1500);
    expect(await timed('kafka')).toBeGreaterThanOrEqual(2000);
  });

  it('has Kafka hold a redis ack within the batch delay plus one commit', async () => {
    const gw = await startGateway();
    const topic = await createTopic();
    await produceNumbers(gw.url, topic, 5);
    const s = await RestConsumer.create(gw.url, uniqueName('g'), fromRedis);
    await s.subscribe(gw.url, [topic]);
    const records = await s.poll(gw.url, { timeout: 3000, max_records: 5 });
    expect(await s.ack(gw.url, records)).toEqual({ acked: 5, fenced: 0 });
    const answeredAt = Date.now();
    await eventually(async () => expect(await s.committed(gw.url, topic, [0])).toEqual([5]), {
      timeoutMs: REDIS_ACK_COMMIT_DELAY_MS + 900,
      intervalMs: 20,
    });
    expect(Date.now() - answeredAt).toBeLessThan(REDIS_ACK_COMMIT_DELAY_MS + 1000);
  });

  it('keeps redis acks through a gateway SIGKILLed right after answering: none comes again', async () => {
    const a = await spawnGateway();
    const topic = await createTopic();
    await produceNumbers(a.url, topic, 20);
    const group = uniqueName('g');
    const s = await RestConsumer.create(a.url, group, fromRedis);
    await s.subscribe(a.url, [topic]);
    const records = await s.poll(a.url, { timeout: 3000, max_records: 10 });
    expect(records.map((r) => r.offset)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(await s.ack(a.url, records)).toEqual({ acked: 10, fenced: 0 });
    await a.stop('SIGKILL'); // before its batched commit could run
    const b = await spawnGateway();
    const again = await RestConsumer.create(b.url, group, fromRedis);
    await again.subscribe(b.url, [topic]);
    const rest = await again.poll(b.url, { timeout: 3000, max_records: 20 });
    expect(rest.map((r) => r.offset)).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
    await again.ack(b.url, rest);
    await eventually(async () => expect(await again.committed(b.url, topic, [0])).toEqual([20]));
  });

  it('commits redis acks to Kafka before a gateway stopped with SIGTERM exits', async () => {
    const a = await spawnGateway();
    const topic = await createTopic();
    await produceNumbers(a.url, topic, 5);
    const group = uniqueName('g');
    const s = await RestConsumer.create(a.url, group, fromRedis);
    await s.subscribe(a.url, [topic]);
    const records = await s.poll(a.url, { timeout: 3000, max_records: 5 });
    expect(await s.ack(a.url, records)).toEqual({ acked: 5, fenced: 0 });
    expect(await a.stop('SIGTERM')).toMatchObject({ code: 0 });
    // No gateway runs now: what Kafka holds is what the stopping one flushed.
    const coordinator = new GroupCoordinatorClient({
      brokers: brokers().split(','),
      clientId: 'ack-durability-test',
      timeoutMs: 10_000,
      logger: createLogger('silent'),
    });
    try {
      const [c] = await coordinator.committed(group, [{ topic, partition: 0 }]);
      expect(c!.offset).toBe(5);
    } finally {
      await coordinator.close();
    }
  });

  it('keeps redis acks through Redis restarted empty once their batched commit ran', async () => {
    const redis = await RedisServer.start();
    servers.push(redis);
    const gw = await startGateway({ REDIS_URL: redis.url });
    const topic = await createTopic();
    await produceNumbers(gw.url, topic, 10);
    const group = uniqueName('g');
    const s = await RestConsumer.create(gw.url, group, fromRedis);
    await s.subscribe(gw.url, [topic]);
    const records = await s.poll(gw.url, { timeout: 3000, max_records: 10 });
    // Out of order: 0 stays unacked, so Kafka's offset stays 0 and the acks live in its offset map.
    expect(await s.ack(gw.url, records.slice(1))).toEqual({ acked: 9, fenced: 0 });
    // The documented bound: the batched commit starts within REDIS_ACK_COMMIT_DELAY_MS.
    await new Promise((resolve) => setTimeout(resolve, REDIS_ACK_COMMIT_DELAY_MS + 1000));

    await redis.stop();
    await redis.start();

    const again = await eventually(async () => RestConsumer.create(gw.url, group, fromRedis));
    await again.subscribe(gw.url, [topic]);
    const redelivered = [];
    for (let i = 0; i < 4; i += 1)
      redelivered.push(...(await again.poll(gw.url, { timeout: 500 })));
    expect(redelivered.map((r) => r.offset)).toEqual([0]);
  });
});
