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

/** One `max_records=1` poll carrying the ack of the record before it; the answer, parsed. */
async function pollFolding(
  url: string,
  timeoutMs: number,
  pending: ConsumedRecord | null,
): Promise<{ status: number; records: ConsumedRecord[]; took: number }> {
  const ack = pending
    ? `&ack=${pending.topic}:${pending.partition}:${pending.offset}:${pending.attempt}`
    : '';
  const started = Date.now();
  const res = await fetch(`${url}/records?max_records=1&timeout=${timeoutMs}${ack}`, {
    headers: { accept: JSON_V2 },
    signal: AbortSignal.timeout(30_000),
  });
  const records = (await res.json()) as ConsumedRecord[];
  return { status: res.status, records, took: Date.now() - started };
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
      const { status, records, took } = await pollFolding(s.path(gw.url), 8000, pending);
      expect(status).toBe(200);
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
      const { status, records } = await pollFolding(s.path(gw.url), 3000, pending);
      expect(status).toBe(200);
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

  it('gives back at once what its first read took when the session changed its subscription', async () => {
    const a = await createTopic({ partitions: 1 });
    const b = await createTopic({ partitions: 1 });
    const plain = await connectProducer();
    for (let i = 0; i < 5; i += 1) plain.produce(a, 0, Buffer.from(JSON.stringify({ i })));
    plain.produce(b, 0, Buffer.from(JSON.stringify({ i: 100 })));
    await done((ok, fail) => plain.flush(10_000, (err) => (err ? fail(err) : ok())));
    const gw = await startGateway();
    const group = uniqueName('resub');
    const s = await RestConsumer.create(gw.url, group, {
      mode: 'shared',
      'ack.timeout.ms': 60_000,
    });
    await s.subscribe(gw.url, [a]);
    // Two polls: the second one's first read takes topic a's next record with the session read.
    const first = await pollFolding(s.path(gw.url), 3000, null);
    const second = await pollFolding(s.path(gw.url), 3000, first.records[0]!);
    expect(second.records.map((r) => (r.value as { i: number }).i)).toEqual([1]);
    // Now on topic b: this poll's first read still takes from a (what the session read last);
    // the poll sees the new subscription and gives that record back, attempt not spent.
    await s.ack(gw.url, second.records);
    await s.subscribe(gw.url, [b]);
    const onB = await pollFolding(s.path(gw.url), 3000, null);
    expect(onB.records.map((r) => (r.value as { i: number }).i)).toEqual([100]);
    // Another session on a gets record 2 at once, first delivery (not after a 60 s ack timeout).
    const other = await RestConsumer.create(gw.url, group, { mode: 'shared' });
    await other.subscribe(gw.url, [a]);
    const next = await pollFolding(other.path(gw.url), 3000, null);
    expect(next.records.map((r) => [(r.value as { i: number }).i, r.attempt])).toEqual([[2, 1]]);
  }, 120_000);
});
