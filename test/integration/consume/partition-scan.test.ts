// A one-record poll in shared mode reads partition states only until they
// offer enough records, and one that polled before takes its record in the
// same round trip as the session read (below what the gateway has fetched). When the partition it read first gives nothing (here:
// its offsets hold only an aborted transaction, so the high watermark promises
// records a read_committed fetch never returns), the poll still answers at
// once with a record of the other partition: it neither waits out its timeout
// nor skips records. (Whether the same attempt or the next one finds them is
// not observable from outside; both are quick.) Offsets a take claimed that
// the log lacks (transaction markers between records) are passed over: every
// record exactly once, in order, and the commit passes every record.
// Real gateway, Kafka, redis-server.
import type Kafka from 'node-rdkafka';
import { afterAll, describe, expect, it } from 'vitest';
import { closeAllGateways, startGateway } from '../../support/gateway-in-process.js';
import { closeAllClients, connectProducer, createTopic, uniqueName } from '../../support/kafka.js';
import { RestConsumer, type ConsumedRecord } from '../../support/rest-consumer.js';

const JSON_V2 = 'application/vnd.kafka.json.v2+json';

function done(cb: (resolve: () => void, reject: (err: unknown) => void) => void): Promise<void> {
  return new Promise<void>((resolve, reject) => cb(resolve, reject));
}

async function abortedOn(producer: Kafka.Producer, topic: string, partition: number, n: number) {
  await done((ok, fail) => producer.initTransactions(10_000, (err) => (err ? fail(err) : ok())));
  await done((ok, fail) => producer.beginTransaction((err) => (err ? fail(err) : ok())));
  for (let i = 0; i < n; i += 1)
    producer.produce(topic, partition, Buffer.from(JSON.stringify({ aborted: i })));
  await done((ok, fail) => producer.flush(10_000, (err) => (err ? fail(err) : ok())));
  await done((ok, fail) => producer.abortTransaction(10_000, (err) => (err ? fail(err) : ok())));
}

describe('partition scan of one-record polls', () => {
  afterAll(async () => {
    await closeAllGateways();
    await closeAllClients();
  });

  it('answers at once from another partition when the first one read gives nothing', async () => {
    const topic = await createTopic({ partitions: 2 });
    await abortedOn(await connectProducer({ 'transactional.id': uniqueName('tx') }), topic, 0, 5);
    const plain = await connectProducer();
    for (let i = 0; i < 12; i += 1) plain.produce(topic, 1, Buffer.from(JSON.stringify({ i })));
    await done((ok, fail) => plain.flush(10_000, (err) => (err ? fail(err) : ok())));

    const gw = await startGateway();
    const s = await RestConsumer.create(gw.url, uniqueName('scan'), { mode: 'shared' });
    await s.subscribe(gw.url, [topic]);
    const seen: number[] = [];
    let pending: ConsumedRecord | null = null;
    for (let n = 0; n < 12; n += 1) {
      const ack = pending
        ? `&ack=${pending.topic}:${pending.partition}:${pending.offset}:${pending.attempt}`
        : '';
      const started = Date.now();
      const res = await fetch(s.path(gw.url, `/records?max_records=1&timeout=8000${ack}`), {
        headers: { accept: JSON_V2 },
        signal: AbortSignal.timeout(30_000),
      });
      const records = (await res.json()) as ConsumedRecord[];
      const took = Date.now() - started;
      expect(res.status).toBe(200);
      expect(records, `poll ${n}`).toHaveLength(1);
      expect(took, `poll ${n} answered without waiting out its timeout`).toBeLessThan(3000);
      pending = records[0]!;
      expect(pending.partition).toBe(1);
      seen.push((pending.value as { i: number }).i);
    }
    expect(seen).toEqual(Array.from({ length: 12 }, (_, i) => i));
  }, 120_000);

  it('passes over transaction markers it took, delivering every record once', async () => {
    const topic = await createTopic({ partitions: 1 });
    const tx = await connectProducer({ 'transactional.id': uniqueName('tx') });
    await done((ok, fail) => tx.initTransactions(10_000, (err) => (err ? fail(err) : ok())));
    // Three committed transactions of 4 records: a marker after each (offsets 4, 9, 14).
    for (let t = 0; t < 3; t += 1) {
      await done((ok, fail) => tx.beginTransaction((err) => (err ? fail(err) : ok())));
      for (let i = 0; i < 4; i += 1)
        tx.produce(topic, 0, Buffer.from(JSON.stringify({ i: t * 4 + i })));
      await done((ok, fail) => tx.flush(10_000, (err) => (err ? fail(err) : ok())));
      await done((ok, fail) => tx.commitTransaction(10_000, (err) => (err ? fail(err) : ok())));
    }
    const gw = await startGateway();
    const s = await RestConsumer.create(gw.url, uniqueName('markers'), { mode: 'shared' });
    await s.subscribe(gw.url, [topic]);
    const seen: number[] = [];
    let pending: ConsumedRecord | null = null;
    for (let n = 0; n < 40 && seen.length < 12; n += 1) {
      const ack = pending
        ? `&ack=${pending.topic}:${pending.partition}:${pending.offset}:${pending.attempt}`
        : '';
      const res = await fetch(s.path(gw.url, `/records?max_records=1&timeout=3000${ack}`), {
        headers: { accept: JSON_V2 },
        signal: AbortSignal.timeout(30_000),
      });
      expect(res.status).toBe(200);
      const records = (await res.json()) as ConsumedRecord[];
      expect(records.length, `poll ${n}`).toBe(1);
      pending = records[0]!;
      expect(pending.attempt, 'first delivery').toBe(1);
      seen.push((pending.value as { i: number }).i);
    }
    expect(seen).toEqual(Array.from({ length: 12 }, (_, i) => i));
    const last = await fetch(
      s.path(
        gw.url,
        `/records?max_records=1&timeout=500&ack=${pending!.topic}:0:${pending!.offset}:${pending!.attempt}`,
      ),
      { headers: { accept: JSON_V2 }, signal: AbortSignal.timeout(30_000) },
    );
    expect(await last.json()).toEqual([]);
    // Kafka's committed offset is past every record (14; the trailing marker at 14 is
    // passed only once a record after it is read).
    expect(await s.committed(gw.url, topic, [0])).toEqual([14]);
  }, 120_000);
});
