import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  closeAllGateways,
  startGateway,
  type RunningGateway,
} from '../../support/gateway-in-process.js';
import { closeAllClients, createTopic, readTopic, uniqueName } from '../../support/kafka.js';
import { RestConsumer, produceNumbers } from '../../support/rest-consumer.js';
import { eventually } from '../../support/eventually.js';

describe('in-flight records: nack, ack timeout, retries and the dead-letter topic', () => {
  let gw: RunningGateway;
  beforeAll(async () => {
    gw = await startGateway();
  });
  afterEach(closeAllClients);
  afterAll(closeAllGateways);

  async function session(
    topic: string,
    settings: Record<string, unknown> = {},
  ): Promise<RestConsumer> {
    const s = await RestConsumer.create(gw.url, uniqueName('g'), settings);
    await s.subscribe(gw.url, [topic]);
    return s;
  }

  it('redelivers a nacked record at once with attempt 2, and a delayed nack only after its delay', async () => {
    const topic = await createTopic();
    await produceNumbers(gw.url, topic, 2);
    const s = await session(topic);
    const first = await s.poll(gw.url, { timeout: 3000 });
    expect(first.map((r) => [r.offset, r.attempt])).toEqual([
      [0, 1],
      [1, 1],
    ]);

    expect((await s.nack(gw.url, [first[0]!])).nacked).toBe(1);
    expect((await s.nack(gw.url, [first[1]!], { delay_ms: 1500 })).nacked).toBe(1);
    const again = await s.poll(gw.url, { timeout: 500 });
    expect(again.map((r) => [r.offset, r.attempt])).toEqual([[0, 2]]);
    const started = Date.now();
    const later = await s.poll(gw.url, { timeout: 5000 });
    expect(later.map((r) => [r.offset, r.attempt])).toEqual([[1, 2]]);
    expect(Date.now() - started).toBeGreaterThan(800);
  });

  it('redelivers a record not acked within ack.timeout.ms, and fences the ack of the old delivery', async () => {
    const topic = await createTopic();
    await produceNumbers(gw.url, topic, 1);
    const s = await session(topic, { 'ack.timeout.ms': 800 });
    const [first] = await s.poll(gw.url, { timeout: 3000 });
    expect(first!.attempt).toBe(1);

    const [second] = await s.poll(gw.url, { timeout: 5000 });
    expect(second).toMatchObject({ offset: 0, attempt: 2 });
    // The first delivery's ack no longer counts; the latest one's does.
    expect(await s.ack(gw.url, [first!])).toEqual({ acked: 0, fenced: 1 });
    expect(await s.ack(gw.url, [second!])).toEqual({ acked: 1, fenced: 0 });
    expect(await s.poll(gw.url, { timeout: 1500 })).toEqual([]);
    expect(await s.committed(gw.url, topic, [0])).toEqual([1]);
  });

  it('writes a record to the dead-letter topic after max.attempts, with its origin, and never delivers it again', async () => {
    const topic = await createTopic();
    await createTopic({ name: `${topic}.dlq` }); // the gateway never creates it
    await produceNumbers(gw.url, topic, 2);
    const s = await session(topic, { 'max.attempts': 2 });
    for (let attempt = 1; attempt <= 2; attempt += 1) {
      const records = await s.poll(gw.url, { timeout: 3000 });
      const poison = records.find((r) => r.offset === 0)!;
      expect(poison.attempt).toBe(attempt);
      await s.nack(gw.url, [poison], { error: `boom ${attempt}` });
      const good = records.find((r) => r.offset === 1);
      if (good) await s.ack(gw.url, [good]);
    }

    expect(await s.poll(gw.url, { timeout: 1500 })).toEqual([]);
    const [dead] = await readTopic(`${topic}.dlq`, { count: 1 });
    const headers = Object.fromEntries(
      dead!.headers.flatMap((h) => Object.entries(h).map(([k, v]) => [k, v.toString()])),
    );
    expect(JSON.parse(dead!.value!.toString())).toEqual({ i: 0 });
    expect(headers).toMatchObject({
      'kgw-origin-topic': topic,
      'kgw-origin-partition': '0',
      'kgw-origin-offset': '0',
      'kgw-attempts': '2',
      'kgw-last-error': 'boom 2',
    });
    // Dead-lettered counts as acked: the group's offset moved past it.
    expect(await s.committed(gw.url, topic, [0])).toEqual([2]);
  });

  it('keeps a record dead while its <topic>.dlq is missing, and writes it once when the topic appears', async () => {
    const topic = await createTopic();
    await produceNumbers(gw.url, topic, 2);
    const s = await session(topic, { 'max.attempts': 1 });
    const records = await s.poll(gw.url, { timeout: 3000 });
    expect(records.map((r) => r.offset)).toEqual([0, 1]);
    await s.nack(gw.url, [records[0]!], { error: 'poison' });
    await s.ack(gw.url, [records[1]!]);
    // The dead-letter write fails (no topic, and the gateway creates none): the record is not
    // delivered again, and the group's offset stays below it.
    expect(await s.poll(gw.url, { timeout: 1500 })).toEqual([]);
    const [held] = await s.committed(gw.url, topic, [0]);
    expect(held).toBeLessThan(1);

    await createTopic({ name: `${topic}.dlq` });
    // Retried (every 5 s) by the next poll that finds it due: written, then committed past.
    await eventually(
      async () => {
        expect(await s.poll(gw.url, { timeout: 0 })).toEqual([]);
        expect(await s.committed(gw.url, topic, [0])).toEqual([2]);
      },
      { timeoutMs: 20_000, intervalMs: 500 },
    );
    const dead = await readTopic(`${topic}.dlq`, { count: 0, untilEnd: true });
    expect(dead.map((r) => JSON.parse(r.value!.toString()) as unknown)).toEqual([{ i: 0 }]);
  }, 40_000);

  it('hands out nothing more from a partition whose in-flight window is full until acks arrive', async () => {
    const small = await startGateway({ KGW_MAX_IN_FLIGHT_PER_PARTITION: '5' });
    const topic = await createTopic();
    await produceNumbers(small.url, topic, 20);
    const s = await RestConsumer.create(small.url, uniqueName('g'));
    await s.subscribe(small.url, [topic]);
    const first = await s.poll(small.url, { timeout: 3000 });
    expect(first).toHaveLength(5);
    expect(await s.poll(small.url, { timeout: 300 })).toEqual([]);
    await s.ack(small.url, first.slice(0, 2));
    expect((await s.poll(small.url, { timeout: 3000 })).map((r) => r.offset)).toEqual([5, 6]);
  });
});
