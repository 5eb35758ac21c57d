import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { eventually } from '../../support/eventually.js';
import {
  killAllGateways,
  spawnGateway,
  type GatewayProcess,
} from '../../support/gateway-process.js';
import { closeAllClients, createTopic, uniqueName } from '../../support/kafka.js';
import { RestConsumer, produceNumbers, type ConsumedRecord } from '../../support/rest-consumer.js';

const key = (r: ConsumedRecord): string => `${r.partition}:${r.offset}`;

describe('two gateway processes serving the same sessions', () => {
  afterEach(closeAllClients);
  afterAll(killAllGateways);

  it('delivers 1,000 records across two sessions and two gateways exactly once, and commits the end offsets', async () => {
    const [a, b] = await Promise.all([spawnGateway(), spawnGateway()]);
    const topic = await createTopic({ partitions: 3 });
    await produceNumbers(a.url, topic, 1000);
    const group = uniqueName('g');
    const s1 = await RestConsumer.create(a.url, group);
    const s2 = await RestConsumer.create(b.url, group);
    await s1.subscribe(b.url, [topic]);
    await s2.subscribe(a.url, [topic]);

    const seen = new Map<string, ConsumedRecord>();
    const duplicates: string[] = [];
    const turns: [RestConsumer, GatewayProcess][] = [
      [s1, a],
      [s2, b],
      [s1, b],
      [s2, a],
    ];
    const deadline = Date.now() + 45_000;
    for (let turn = 0; seen.size < 1000 && Date.now() < deadline; turn += 1) {
      const [session, gateway] = turns[turn % turns.length]!;
      const records = await session.poll(gateway.url, { timeout: 300, max_records: 100 });
      for (const r of records) {
        if (seen.has(key(r))) duplicates.push(key(r));
        seen.set(key(r), r);
      }
      if (records.length > 0) expect((await session.ack(gateway.url, records)).fenced).toBe(0);
    }

    expect(duplicates).toEqual([]);
    expect(seen.size).toBe(1000);
    expect(new Set([...seen.values()].map((r) => (r.value as { i: number }).i)).size).toBe(1000);
    expect([...seen.values()].every((r) => r.attempt === 1)).toBe(true);
    // Kafka's own group offsets show no lag: committed == end offset on every partition.
    const perPartition = [0, 1, 2].map(
      (p) => [...seen.values()].filter((r) => r.partition === p).length,
    );
    await eventually(async () =>
      expect(await s1.committed(b.url, topic, [0, 1, 2])).toEqual(perPartition),
    );
  });

  it('loses nothing when a gateway is SIGKILLed mid-stream: unacked records come back through the other', async () => {
    const [a, b] = await Promise.all([spawnGateway(), spawnGateway()]);
    const topic = await createTopic({ partitions: 2 });
    await produceNumbers(b.url, topic, 200);
    const group = uniqueName('g');
    const settings = { mode: 'shared', 'ack.timeout.ms': 1500 };
    const s1 = await RestConsumer.create(a.url, group, settings);
    const s2 = await RestConsumer.create(b.url, group, settings);
    await s1.subscribe(a.url, [topic]);
    await s2.subscribe(b.url, [topic]);

    const handedOut = await s1.poll(a.url, { timeout: 2000, max_records: 50 });
    expect(handedOut.length).toBeGreaterThan(0);
    expect((await a.stop('SIGKILL')).signal).toBe('SIGKILL');

    const acked = new Map<string, ConsumedRecord>();
    const deadline = Date.now() + 30_000;
    while (acked.size < 200 && Date.now() < deadline) {
      const records = await s2.poll(b.url, { timeout: 1000, max_records: 100 });
      if (records.length > 0) await s2.ack(b.url, records);
      for (const r of records) acked.set(key(r), r);
    }

    expect(acked.size).toBe(200);
    for (const lost of handedOut) {
      const again = acked.get(key(lost));
      expect(again, `record ${key(lost)} handed out before the kill`).toBeDefined();
      expect(again!.attempt).toBe(2);
    }
  });
});
