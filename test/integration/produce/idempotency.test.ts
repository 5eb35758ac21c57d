import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it, inject } from 'vitest';
import { IdempotencyStore } from '../../../gateway/src/store/idempotency-store.js';
import { closeAllClients, createTopic, readTopic, uniqueName } from '../../support/kafka.js';
import {
  closeAllGateways,
  post,
  startGateway,
  type RunningGateway,
  type V2Offsets,
} from '../../support/gateway-in-process.js';

describe('Idempotency-Key against real Kafka and Redis', () => {
  let gw: RunningGateway;
  let redis: Redis;
  beforeAll(async () => {
    gw = await startGateway();
    redis = new Redis(inject('redisUrl'));
  });
  afterEach(closeAllClients);
  afterAll(async () => {
    redis.disconnect();
    await closeAllGateways();
  });

  it('replays the stored response for a repeated request and writes one copy', async () => {
    const topic = await createTopic({ partitions: 3 });
    const key = uniqueName('idem');
    const body = { records: [{ value: 'a' }, { value: 'b' }, { value: 'c', partition: 2 }] };

    const first = await post<V2Offsets>(`${gw.url}/topics/${topic}`, body, {
      headers: { 'idempotency-key': key },
    });
    const second = await post<V2Offsets>(`${gw.url}/topics/${topic}`, body, {
      headers: { 'idempotency-key': key },
    });
    // Another instance serves the retry just the same: the state is in Redis.
    const other = await startGateway();
    const third = await post<V2Offsets>(`${other.url}/topics/${topic}`, body, {
      headers: { 'idempotency-key': key },
    });

    expect(first.status).toBe(200);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    for (const replay of [second, third]) {
      expect(replay.status).toBe(200);
      expect(replay.headers.get('idempotent-replayed')).toBe('true');
      expect(replay.body).toEqual(first.body);
    }
    const read = await readTopic(topic, { count: 4, timeoutMs: 3000 });
    expect(read).toHaveLength(3);
    // Every record carries the key, so a consumer can dedupe too.
    expect(read.every((r) => r.headers.some((h) => h['idempotency-key']?.toString() === key))).toBe(
      true,
    );
  });

  it('answers 422 when the key comes back with a different body, and writes nothing', async () => {
    const topic = await createTopic();
    const key = uniqueName('idem');
    await post(
      `${gw.url}/topics/${topic}`,
      { records: [{ value: 1 }] },
      { headers: { 'idempotency-key': key } },
    );
    const res = await post(
      `${gw.url}/topics/${topic}`,
      { records: [{ value: 2 }] },
      { headers: { 'idempotency-key': key } },
    );
    const otherMode = await post(
      `${gw.url}/topics/${topic}?delivery=fast`,
      { records: [{ value: 1 }] },
      {
        headers: { 'idempotency-key': key },
      },
    );
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ error_code: 42202, code: 'KGW_IDEMPOTENCY_KEY_REUSED' });
    expect(otherMode.status).toBe(422);
    expect(await readTopic(topic, { count: 2, timeoutMs: 2000 })).toHaveLength(1);
  });

  it('answers 409 while the first request with the key is still in flight', async () => {
    // A long linger keeps the first request waiting for its delivery report.
    const slow = await startGateway({ KGW_PRODUCER_LINGER_MS: '800' });
    const topic = await createTopic();
    const key = uniqueName('idem');
    const body = { records: [{ value: 'once' }] };
    const firstPromise = post<V2Offsets>(`${slow.url}/topics/${topic}`, body, {
      headers: { 'idempotency-key': key },
    });
    await new Promise((resolve) => setTimeout(resolve, 200));

    const second = await post(`${slow.url}/topics/${topic}`, body, {
      headers: { 'idempotency-key': key },
    });
    const first = await firstPromise;

    expect(second.status).toBe(409);
    expect(second.body).toMatchObject({ error_code: 40901, code: 'KGW_IDEMPOTENCY_IN_FLIGHT' });
    expect(first.status).toBe(200);
    const third = await post<V2Offsets>(`${slow.url}/topics/${topic}`, body, {
      headers: { 'idempotency-key': key },
    });
    expect(third.headers.get('idempotent-replayed')).toBe('true');
    expect(await readTopic(topic, { count: 2, timeoutMs: 2000 })).toHaveLength(1);
  });

  it('frees the key when nothing was written, so a retry may run', async () => {
    const topic = await createTopic();
    const key = uniqueName('idem');
    const missing = await post(
      `${gw.url}/topics/${topic}/partitions/5`,
      { records: [{ value: 1 }] },
      {
        headers: { 'idempotency-key': key },
      },
    );
    expect(missing.status).toBe(404);
    expect(await redis.exists(IdempotencyStore.redisKey(key))).toBe(0);
  });

  it('keeps the response in Redis under a hash-tagged key with the configured TTL', async () => {
    const short = await startGateway({ KGW_IDEMPOTENCY_TTL: '90s' });
    const topic = await createTopic();
    const key = uniqueName('idem');
    await post(
      `${short.url}/topics/${topic}`,
      { records: [{ value: 1 }] },
      { headers: { 'idempotency-key': key } },
    );
    const redisKey = IdempotencyStore.redisKey(key);
    expect(redisKey).toBe(`kgw:idem:{${key}}`);
    expect(await redis.hget(redisKey, 'state')).toBe('done');
    const ttl = await redis.pttl(redisKey);
    expect(ttl).toBeGreaterThan(80_000);
    expect(ttl).toBeLessThanOrEqual(90_000);
  });

  /** Turns a key back into what a gateway that died mid-request leaves: pending, no answer. */
  async function diedInFlight(key: string, targets: string, settleInMs = 0): Promise<void> {
    const [seconds, micros] = await redis.time();
    const now = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
    const redisKey = IdempotencyStore.redisKey(key);
    await redis.hset(redisKey, {
      state: 'pending',
      owner: 'attempt-of-a-dead-gateway',
      settle_at: String(now + settleInMs),
      targets,
    });
    await redis.hdel(redisKey, 'response');
  }

  it('settles a key whose first attempt wrote, then died unanswered: the retry finds its records and writes nothing', async () => {
    const topic = await createTopic({ partitions: 3 });
    const key = uniqueName('idem');
    const body = {
      records: [{ value: 'a' }, { key: 'k', value: 'b' }, { value: 'c', partition: 2 }],
    };
    const first = await post<V2Offsets>(`${gw.url}/topics/${topic}`, body, {
      headers: { 'idempotency-key': key },
    });
    expect(first.status).toBe(200);
    await diedInFlight(key, first.body.offsets.map((o) => `${o.partition}:${o.offset}`).join(','));

    const other = await startGateway();
    const retry = await post<V2Offsets>(`${other.url}/topics/${topic}`, body, {
      headers: { 'idempotency-key': key },
    });
    expect(retry.status).toBe(200);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(retry.body.offsets).toEqual(first.body.offsets);
    expect(await readTopic(topic, { count: 4, timeoutMs: 3000 })).toHaveLength(3);
    // Settled for good: the next retry replays the stored answer.
    expect(await redis.hget(IdempotencyStore.redisKey(key), 'state')).toBe('done');
  });

  it('settles a key whose first attempt died before writing: the retry writes the records once', async () => {
    const topic = await createTopic({ partitions: 2 });
    const body = { records: [{ value: 'x' }, { value: 'y', partition: 1 }] };
    // A finished request lends its fingerprint (the body's digest) to a key whose attempt wrote nothing.
    const lender = uniqueName('idem');
    await post(`${gw.url}/topics/${topic}`, body, { headers: { 'idempotency-key': lender } });
    const key = uniqueName('idem');
    const fp = await redis.hget(IdempotencyStore.redisKey(lender), 'fp');
    await redis.hset(IdempotencyStore.redisKey(key), 'fp', fp!);
    await redis.pexpire(IdempotencyStore.redisKey(key), 60_000);
    await diedInFlight(key, '0:0,1:0');

    const retry = await post<V2Offsets>(`${gw.url}/topics/${topic}`, body, {
      headers: { 'idempotency-key': key },
    });
    expect(retry.status).toBe(200);
    expect(retry.headers.get('idempotent-replayed')).toBeNull();
    const again = await post<V2Offsets>(`${gw.url}/topics/${topic}`, body, {
      headers: { 'idempotency-key': key },
    });
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body).toEqual(retry.body);
    const read = await readTopic(topic, { count: 5, timeoutMs: 3000 });
    const ofKey = read.filter((r) =>
      r.headers.some((h) => h['idempotency-key']?.toString() === key),
    );
    expect(read).toHaveLength(4);
    expect(ofKey).toHaveLength(2);
  });

  it('answers 409 with Retry-After until the first attempt can no longer write', async () => {
    const topic = await createTopic();
    const key = uniqueName('idem');
    const body = { records: [{ value: 1 }] };
    await post(`${gw.url}/topics/${topic}`, body, { headers: { 'idempotency-key': key } });
    await diedInFlight(key, '0:0', 4_000);
    const res = await post(`${gw.url}/topics/${topic}`, body, {
      headers: { 'idempotency-key': key },
    });
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ code: 'KGW_IDEMPOTENCY_IN_FLIGHT' });
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(3);
    expect(Number(res.headers.get('retry-after'))).toBeLessThanOrEqual(4);
  });
});
