import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { TailWatcher } from '../../../gateway/src/core/tail-watcher.js';
import type { KafkaMetadataClient } from '../../../gateway/src/kafka/metadata-client.js';

/** A metadata client whose high watermarks the test sets; counts the queries. */
class FakeWatermarks {
  readonly highs = new Map<string, number>();
  queries = 0;
  async watermarks(topic: string, partition: number): Promise<{ low: number; high: number }> {
    this.queries += 1;
    return { low: 0, high: this.highs.get(`${topic}:${partition}`) ?? 0 };
  }
}

const INTERVAL_MS = 10;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const watchers: TailWatcher[] = [];

function watcher(fake: FakeWatermarks): TailWatcher {
  const w = new TailWatcher(
    fake as unknown as KafkaMetadataClient,
    INTERVAL_MS,
    pino({ level: 'silent' }),
  );
  watchers.push(w);
  return w;
}

describe('TailWatcher', () => {
  afterEach(() => {
    for (const w of watchers.splice(0)) w.close();
  });

  it('wakes a waiting poll once a watched partition passes its position, not before', async () => {
    const fake = new FakeWatermarks();
    const tail = watcher(fake);
    let woken = 0;
    tail.watch(
      [
        { topic: 't', partition: 0, after: 5 },
        { topic: 't', partition: 1, after: 9 },
      ],
      () => (woken += 1),
    );
    fake.highs.set('t:0', 5);
    fake.highs.set('t:1', 9);
    await sleep(INTERVAL_MS * 4);
    expect(woken).toBe(0);
    fake.highs.set('t:1', 10);
    await sleep(INTERVAL_MS * 4);
    expect(woken).toBeGreaterThanOrEqual(1);
  });

  it('wakes as many shared-mode waiters as there are new records, longest waiting first', async () => {
    const fake = new FakeWatermarks();
    const tail = watcher(fake);
    const woken: number[] = [];
    const cancels = [1, 2, 3].map((id) =>
      tail.watch(
        [{ topic: 't', partition: 0, after: 0 }],
        () => {
          woken.push(id);
          cancels[id - 1]!();
        },
        'some',
      ),
    );
    tail.notify('t', 0, 2);
    expect(woken).toEqual([1, 2]);
    tail.notify('t', 0, 3);
    expect(woken).toEqual([1, 2, 3]);
  });

  it('asks Kafka once per watched partition per tick, however many polls wait', async () => {
    const fake = new FakeWatermarks();
    const tail = watcher(fake);
    const cancels = Array.from({ length: 1000 }, () =>
      tail.watch(
        Array.from({ length: 6 }, (_, partition) => ({ topic: 't', partition, after: 0 })),
        () => undefined,
        'some',
      ),
    );
    expect(tail.watchedPartitions).toBe(6);
    await sleep(INTERVAL_MS * 5);
    const ticks = fake.queries / 6;
    expect(fake.queries % 6).toBe(0);
    expect(ticks).toBeGreaterThanOrEqual(1);

    for (const cancel of cancels) cancel();
    expect(tail.watchedPartitions).toBe(0);
    // Nothing watched: the timer stopped, so Kafka is not asked any more.
    await sleep(INTERVAL_MS * 2);
    const after = fake.queries;
    await sleep(INTERVAL_MS * 5);
    expect(fake.queries).toBe(after);
  });

  it('never wakes a poll that stopped watching', async () => {
    const fake = new FakeWatermarks();
    const tail = watcher(fake);
    let woken = 0;
    const cancel = tail.watch([{ topic: 't', partition: 0, after: 0 }], () => (woken += 1));
    cancel();
    tail.notify('t', 0, 10);
    fake.highs.set('t:0', 10);
    await sleep(INTERVAL_MS * 3);
    expect(woken).toBe(0);
  });
});
