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
import { RestConsumer } from '../../support/rest-consumer.js';

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
});
