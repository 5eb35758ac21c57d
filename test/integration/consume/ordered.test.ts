import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  closeAllGateways,
  startGateway,
  type RunningGateway,
} from '../../support/gateway-in-process.js';
import { closeAllClients, createTopic, uniqueName } from '../../support/kafka.js';
import { RestConsumer, produceNumbers, type ConsumedRecord } from '../../support/rest-consumer.js';

function partitionsOf(records: ConsumedRecord[]): number[] {
  return [...new Set(records.map((r) => r.partition))].sort();
}

function inOrder(records: ConsumedRecord[]): boolean {
  const last = new Map<number, number>();
  for (const r of records) {
    if ((last.get(r.partition) ?? -1) >= r.offset) return false;
    last.set(r.partition, r.offset);
  }
  return true;
}

describe('ordered mode: partition leases', () => {
  let gw: RunningGateway;
  beforeAll(async () => {
    gw = await startGateway();
  });
  afterEach(closeAllClients);
  afterAll(closeAllGateways);

  it('splits partitions between live sessions, keeps per-partition order, and moves a silent session’s partitions to the other', async () => {
    const topic = await createTopic({ partitions: 4 });
    await produceNumbers(gw.url, topic, 40);
    const group = uniqueName('g');
    const settings = { 'lease.timeout.ms': 1500, 'ack.timeout.ms': 60_000 };
    const s1 = await RestConsumer.create(gw.url, group, settings);
    const s2 = await RestConsumer.create(gw.url, group, settings);
    await s1.subscribe(gw.url, [topic]);
    await s2.subscribe(gw.url, [topic]);

    const got1 = await s1.poll(gw.url, { timeout: 3000, max_records: 40 });
    const got2 = await s2.poll(gw.url, { timeout: 3000, max_records: 40 });
    // Two live sessions, four partitions: two each, no overlap.
    expect(partitionsOf(got1)).toHaveLength(2);
    expect(partitionsOf(got2)).toHaveLength(2);
    expect(partitionsOf([...got1, ...got2])).toEqual([0, 1, 2, 3]);
    await s1.ack(gw.url, got1);
    // s2 keeps its records unacked and goes silent.

    const s1All: ConsumedRecord[] = [...got1];
    const deadline = Date.now() + 20_000;
    while (
      new Set(s1All.map((r) => `${r.partition}:${r.offset}`)).size < 40 &&
      Date.now() < deadline
    ) {
      const records = await s1.poll(gw.url, { timeout: 500, max_records: 50 });
      s1All.push(...records);
      if (records.length > 0) await s1.ack(gw.url, records);
    }

    // s1 now holds all four partitions and got every record, s2's unacked ones again (from the committed offset).
    expect(partitionsOf(s1All)).toEqual([0, 1, 2, 3]);
    expect(new Set(s1All.map((r) => `${r.partition}:${r.offset}`)).size).toBe(40);
    for (const r of got2) {
      const again = s1All.find(
        (x) => x.partition === r.partition && x.offset === r.offset && x !== r,
      );
      expect(again, `s2's record ${r.partition}:${r.offset}`).toBeDefined();
    }
    // Per-partition order holds for what s1 received before the takeover, and after it.
    const before = s1All.slice(0, got1.length);
    expect(inOrder(before)).toBe(true);
    expect(
      inOrder(s1All.slice(got1.length).filter((r) => partitionsOf(got1).includes(r.partition))),
    ).toBe(true);
    // s2 lost its leases: its late ack is fenced.
    expect((await s2.ack(gw.url, got2)).fenced).toBe(got2.length);
  });

  it('hands any record to any session in shared mode, still in offset order per partition', async () => {
    const topic = await createTopic({ partitions: 1 });
    await produceNumbers(gw.url, topic, 10);
    const group = uniqueName('g');
    const s1 = await RestConsumer.create(gw.url, group, { mode: 'shared' });
    const s2 = await RestConsumer.create(gw.url, group, { mode: 'shared' });
    await s1.subscribe(gw.url, [topic]);
    await s2.subscribe(gw.url, [topic]);
    const a = await s1.poll(gw.url, { timeout: 3000, max_records: 3 });
    const b = await s2.poll(gw.url, { timeout: 3000, max_records: 3 });
    expect(a.map((r) => r.offset)).toEqual([0, 1, 2]);
    expect(b.map((r) => r.offset)).toEqual([3, 4, 5]);
  });
});
