// The record fetcher against a real broker: a read waits for the first record
// only, then takes what is queued, so a partition receiving a steady trickle
// does not hold a read (and the poll behind it) until a whole batch arrived.
import { afterAll, describe, expect, it } from 'vitest';
import { RecordFetcher } from '../../../gateway/src/kafka/record-fetcher.js';
import { createLogger } from '../../../gateway/src/observability/logger.js';
import { brokers, closeAllClients, connectProducer, createTopic } from '../../support/kafka.js';

describe('record fetcher', () => {
  const fetchers: RecordFetcher[] = [];
  afterAll(async () => {
    for (const f of fetchers) await f.close();
    await closeAllClients();
  });

  it('answers within its wait while records trickle in', async () => {
    const topic = await createTopic({ partitions: 1 });
    const producer = await connectProducer({ 'linger.ms': 0 });
    const fetcher = new RecordFetcher({
      brokers: brokers().split(','),
      clientId: 'kgw-test-fetcher',
      logger: createLogger('silent'),
      poolSize: 1,
      cacheMaxBytes: 16 * 1024 * 1024,
    });
    fetchers.push(fetcher);
    // About 200 records/s for 4 s: a batch of 500 would take 2.5 s to fill.
    let sent = 0;
    const trickle = setInterval(() => {
      producer.produce(topic, 0, Buffer.from(String(sent)));
      sent += 1;
    }, 5);
    try {
      await new Promise((resolve) => setTimeout(resolve, 300));
      const took: number[] = [];
      let next = 0;
      for (let i = 0; i < 5; i += 1) {
        const started = Date.now();
        const records = await fetcher.read(topic, 0, next, 10, 200);
        took.push(Date.now() - started);
        expect(records.length, `read ${i}`).toBeGreaterThan(0);
        expect(records[0]!.offset).toBe(next);
        next = records[records.length - 1]!.offset + 1;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      // The first read also connects and assigns; every read stays far below a batch's 2.5 s.
      expect(Math.max(...took), `read times ${took.join(', ')} ms`).toBeLessThan(1500);
      expect(Math.max(...took.slice(1)), `read times ${took.join(', ')} ms`).toBeLessThan(600);
    } finally {
      clearInterval(trickle);
    }
  }, 60_000);
});
