import type Kafka from 'node-rdkafka';
import { afterEach, describe, expect, it } from 'vitest';
import { closeAllClients, connectProducer, createTopic, readTopic } from '../support/kafka.js';

/** Produces with a plain node-rdkafka producer and resolves when every delivery report arrived. */
function produceAll(
  producer: Kafka.Producer,
  topic: string,
  records: { partition: number; key: string; value: string; headers?: Kafka.MessageHeader[] }[],
): Promise<void> {
  let pending = records.length;
  return new Promise((resolve, reject) => {
    const onReport = (err: Kafka.LibrdKafkaError | null): void => {
      if (err) {
        producer.off('delivery-report', onReport);
        reject(err);
        return;
      }
      pending -= 1;
      if (pending === 0) {
        producer.off('delivery-report', onReport);
        resolve();
      }
    };
    producer.on('delivery-report', onReport);
    for (const r of records) {
      producer.produce(
        topic,
        r.partition,
        Buffer.from(r.value),
        r.key,
        Date.now(),
        undefined,
        r.headers,
      );
    }
  });
}

describe('test harness against the real broker', () => {
  afterEach(closeAllClients);

  it('reads back, per partition, what a plain node-rdkafka producer wrote', async () => {
    const topic = await createTopic({ partitions: 3 });
    const producer = await connectProducer();
    const records = [0, 1, 2, 3, 4, 5].map((i) => ({
      partition: i % 3,
      key: `k${i}`,
      value: `v${i}`,
      headers: [{ 'x-test': Buffer.from(`h${i}`) }],
    }));

    await produceAll(producer, topic, records);
    const read = await readTopic(topic, { count: 6 });

    expect(
      read.map((r) => [r.partition, r.offset, r.key?.toString(), r.value?.toString()]),
    ).toEqual([
      [0, 0, 'k0', 'v0'],
      [0, 1, 'k3', 'v3'],
      [1, 0, 'k1', 'v1'],
      [1, 1, 'k4', 'v4'],
      [2, 0, 'k2', 'v2'],
      [2, 1, 'k5', 'v5'],
    ]);
    expect(read[0]!.headers.map((h) => h['x-test']?.toString())).toEqual(['h0']);
  });

  it('gives each call a fresh topic, so tests never see each other’s records', async () => {
    const [a, b] = await Promise.all([createTopic(), createTopic()]);
    expect(a).not.toEqual(b);
    const producer = await connectProducer();
    await produceAll(producer, a, [{ partition: 0, key: 'k', value: 'only-in-a' }]);

    expect(await readTopic(b, { count: 1, timeoutMs: 1500 })).toEqual([]);
    expect((await readTopic(a, { count: 1 })).map((r) => r.value?.toString())).toEqual([
      'only-in-a',
    ]);
  });
});
