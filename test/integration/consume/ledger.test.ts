// The consume ledger's promises, each under the race or fault that threatens it,
// through real gateways, Kafka and redis-server.
import { pino } from 'pino';
import { afterAll, afterEach, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../../../gateway/src/config/load-config.js';
import { GroupCoordinatorClient } from '../../../gateway/src/kafka/group-coordinator.js';
import { createLogger } from '../../../gateway/src/observability/logger.js';
import { buildWorker, type Worker } from '../../../workers/src/worker.js';
import { deleteRecordsBefore } from '../../support/delete-records.js';
import { eventually } from '../../support/eventually.js';
import { closeAllGateways, startGateway } from '../../support/gateway-in-process.js';
import {
  brokers,
  closeAllClients,
  createTopic,
  readTopic,
  uniqueName,
} from '../../support/kafka.js';
import { RedisServer } from '../../support/redis-server.js';
import { RestConsumer, produceNumbers, type ConsumedRecord } from '../../support/rest-consumer.js';

const shared = { mode: 'shared' };

describe('consume ledger', () => {
  const servers: RedisServer[] = [];
  const workers: Worker[] = [];
  afterEach(closeAllClients);
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.close()));
    await closeAllGateways();
    await Promise.all(servers.map((s) => s.stop()));
  });

  it('bounds in flight + waiting retries by the window: delayed nacks do not open it (I2)', async () => {
    const gw = await startGateway({ KGW_MAX_IN_FLIGHT_PER_PARTITION: '5' });
    const topic = await createTopic();
    await produceNumbers(gw.url, topic, 30);
    const s = await RestConsumer.create(gw.url, uniqueName('g'));
    await s.subscribe(gw.url, [topic]);
    const handedOut = new Set<number>();
    for (let i = 0; i < 8; i += 1) {
      const records = await s.poll(gw.url, { timeout: 300 });
      for (const r of records) handedOut.add(r.offset);
      if (records.length > 0) await s.nack(gw.url, records, { delay_ms: 600_000 });
    }
    expect([...handedOut].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4]);
  });

  it('writes a dead record to the dead-letter topic once, with six polls and a worker racing (I4)', async () => {
    const gw = await startGateway();
    const topic = await createTopic();
    const dlq = await createTopic({ prefix: 'dlq' });
    const group = uniqueName('wd');
    const config = loadConfig({
      KAFKA_BROKERS: inject('kafkaBrokers'),
      REDIS_URL: inject('redisUrl'),
    });
    const worker = buildWorker(config, pino({ level: 'silent' }), 100, (g) => g === group);
    workers.push(worker);
    worker.start();
    await produceNumbers(gw.url, topic, 1);
    const settings = { ...shared, 'max.attempts': 1, 'dead.letter.topic': dlq };
    const sessions = await Promise.all(
      Array.from({ length: 6 }, () => RestConsumer.create(gw.url, group, settings)),
    );
    await Promise.all(sessions.map((s) => s.subscribe(gw.url, [topic])));
    const [first] = await sessions[0]!.poll(gw.url, { timeout: 3000 });
    expect(first).toMatchObject({ offset: 0, attempt: 1 });
    await sessions[0]!.nack(gw.url, [first!], { error: 'poison' });
    // Six sessions poll at once while the worker sweeps every 100 ms.
    const polled = await Promise.all(sessions.map((s) => s.poll(gw.url, { timeout: 1500 })));
    expect(polled.flat()).toEqual([]);
    const written = await readTopic(dlq, { count: 2, timeoutMs: 4000 });
    expect(written).toHaveLength(1);
    expect(String(written[0]!.headers.find((h) => 'kgw-last-error' in h)?.['kgw-last-error'])).toBe(
      'poison',
    );
    expect(await sessions[0]!.committed(gw.url, topic, [0])).toEqual([1]);
  });

  it('keeps out-of-order acks through a Redis restarted empty: only the unacked record comes back (I5)', async () => {
    const redis = await RedisServer.start();
    servers.push(redis);
    const gw = await startGateway({ REDIS_URL: redis.url });
    const topic = await createTopic();
    await produceNumbers(gw.url, topic, 10);
    const group = uniqueName('g');
    const s = await RestConsumer.create(gw.url, group);
    await s.subscribe(gw.url, [topic]);
    const records = await s.poll(gw.url, { timeout: 3000, max_records: 10 });
    expect(records.map((r) => r.offset)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(await s.ack(gw.url, records.slice(1))).toEqual({ acked: 9, fenced: 0 });
    // Kafka's committed offset stays 0; the acks above it live in the commit's metadata.
    expect(await s.committed(gw.url, topic, [0])).toEqual([0]);

    await redis.stop();
    await redis.start();

    const again = await eventually(async () => RestConsumer.create(gw.url, group));
    await again.subscribe(gw.url, [topic]);
    const redelivered: ConsumedRecord[] = [];
    for (let i = 0; i < 4; i += 1)
      redelivered.push(...(await again.poll(gw.url, { timeout: 500 })));
    expect(redelivered.map((r) => r.offset)).toEqual([0]);
    expect(await again.ack(gw.url, redelivered)).toEqual({ acked: 1, fenced: 0 });
    expect(await again.committed(gw.url, topic, [0])).toEqual([10]);
  });

  it('spends no attempt on a long-poll whose client left: the record goes to the next poll at once', async () => {
    const gw = await startGateway();
    const topic = await createTopic();
    const group = uniqueName('g');
    const [a, b] = await Promise.all([
      RestConsumer.create(gw.url, group, shared),
      RestConsumer.create(gw.url, group, shared),
    ]);
    await a.subscribe(gw.url, [topic]);
    await b.subscribe(gw.url, [topic]);
    const left = new AbortController();
    const abandoned = fetch(
      `${gw.url}/consumers/${group}/instances/${a.id}/records?timeout=10000`,
      {
        headers: { accept: 'application/vnd.kafka.json.v2+json' },
        signal: left.signal,
      },
    ).catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 300));
    left.abort();
    await abandoned;
    await new Promise((resolve) => setTimeout(resolve, 100));
    await produceNumbers(gw.url, topic, 1);
    const got = await b.poll(gw.url, { timeout: 3000 });
    expect(got.map((r) => [r.offset, r.attempt])).toEqual([[0, 1]]);
  });

  it('never hands one record to two polls of the same session running at once (I1)', async () => {
    const gw = await startGateway();
    const topic = await createTopic({ partitions: 3 });
    const s = await RestConsumer.create(gw.url, uniqueName('g'), shared);
    await s.subscribe(gw.url, [topic]);
    const polls = [s.poll(gw.url, { timeout: 5000 }), s.poll(gw.url, { timeout: 5000 })];
    await produceNumbers(gw.url, topic, 300);
    const seen = (await Promise.all(polls)).flat();
    for (let i = 0; i < 20 && seen.length < 300; i += 1) {
      const more = await Promise.all([
        s.poll(gw.url, { timeout: 500 }),
        s.poll(gw.url, { timeout: 500 }),
      ]);
      seen.push(...more.flat());
    }
    const keys = seen.map((r) => `${r.partition}:${r.offset}`);
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys).toHaveLength(300);
    expect(seen.every((r) => r.attempt === 1)).toBe(true);
  });

  it("never moves Kafka's committed offset backward while sessions on two gateways ack (I3)", async () => {
    const [gw1, gw2] = await Promise.all([startGateway(), startGateway()]);
    const topic = await createTopic();
    await produceNumbers(gw1.url, topic, 400);
    const group = uniqueName('g');
    const coordinator = new GroupCoordinatorClient({
      brokers: brokers().split(','),
      clientId: 'ledger-test',
      timeoutMs: 5000,
      logger: createLogger('silent'),
    });
    const sessions = await Promise.all(
      [gw1, gw2, gw1, gw2].map(async (gw) => {
        const s = await RestConsumer.create(gw.url, group, shared);
        await s.subscribe(gw.url, [topic]);
        return { s, url: gw.url };
      }),
    );
    let done = false;
    const seen: number[] = [];
    const sampler = (async () => {
      while (!done) {
        const [c] = await coordinator.committed(group, [{ topic, partition: 0 }]);
        seen.push(c!.offset);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();
    let acked = 0;
    let fenced = 0;
    let polled = 0;
    await Promise.all(
      sessions.map(async ({ s, url }) => {
        const deadline = Date.now() + 30_000;
        while (polled < 400 && Date.now() < deadline) {
          const records = await s.poll(url, { timeout: 300, max_records: 7 });
          if (records.length === 0) continue;
          // Ack in reverse order, so each session's acks land out of offset order.
          const result = await s.ack(url, [...records].reverse());
          acked += result.acked;
          fenced += result.fenced;
          polled += records.length;
        }
      }),
    );
    done = true;
    await sampler;
    await coordinator.close();
    expect({ acked, fenced, polled }).toEqual({ acked: 400, fenced: 0, polled: 400 });
    for (let i = 1; i < seen.length; i += 1) expect(seen[i]).toBeGreaterThanOrEqual(seen[i - 1]!);
    expect(seen.length).toBeGreaterThan(10);
    expect(seen.at(-1)).toBe(400);
  });

  it('skips retries whose records retention deleted, so the partition commits past them (I4)', async () => {
    const gw = await startGateway();
    const topic = await createTopic();
    await produceNumbers(gw.url, topic, 10);
    const s = await RestConsumer.create(gw.url, uniqueName('g'));
    await s.subscribe(gw.url, [topic]);
    const records = await s.poll(gw.url, { timeout: 3000, max_records: 10 });
    expect(records).toHaveLength(10);
    await s.ack(gw.url, records.slice(5));
    await s.nack(gw.url, records.slice(0, 5), { delay_ms: 1500 });
    expect(await deleteRecordsBefore(topic, 0, 5)).toBe(5);
    // The retries come due on another gateway (whose cache never saw them), Kafka no longer
    // has them: skipped, counted, committed past.
    const other = await startGateway();
    await eventually(async () => expect((await fetch(`${other.url}/readyz`)).status).toBe(200));
    expect(await s.poll(other.url, { timeout: 3000 })).toEqual([]);
    await eventually(async () => expect(await s.committed(gw.url, topic, [0])).toEqual([10]));
    const metrics = await (await fetch(`${other.url}/metrics`)).text();
    expect(metrics).toMatch(
      new RegExp(`kgw_consume_records_skipped_total\\{topic="${topic}",reason="gone"\\} 5`),
    );
  });

  it('extends the ack deadline of a held record, fenced like an ack', async () => {
    const gw = await startGateway();
    const topic = await createTopic();
    await produceNumbers(gw.url, topic, 1);
    const s = await RestConsumer.create(gw.url, uniqueName('g'), { 'ack.timeout.ms': 800 });
    await s.subscribe(gw.url, [topic]);
    const [record] = await s.poll(gw.url, { timeout: 3000 });
    const ref = { topic, partition: 0, offset: 0 };
    const stale = await s.raw('POST', gw.url, '/extensions', {
      records: [{ ...ref, attempt: 2 }],
      extend_ms: 5000,
    });
    expect(stale.body).toEqual({ extended: 0, fenced: 1 });
    const ok = await s.raw('POST', gw.url, '/extensions', {
      records: [{ ...ref, attempt: record!.attempt }],
      extend_ms: 5000,
    });
    expect(ok).toEqual({ status: 200, body: { extended: 1, fenced: 0 } });
    // Past the original 800 ms deadline, the record is still this session's.
    expect(await s.poll(gw.url, { timeout: 1500 })).toEqual([]);
    expect(await s.ack(gw.url, [record!])).toEqual({ acked: 1, fenced: 0 });
    const bad = await s.raw('POST', gw.url, '/extensions', { records: [ref], extend_ms: 0 });
    expect(bad.status).toBe(422);
    expect(bad.body).toMatchObject({ code: 'KGW_INVALID_REQUEST' });
  });

  it('takes an ack sent twice (a retry after an unknown outcome) as a no-op the second time', async () => {
    const gw = await startGateway();
    const topic = await createTopic();
    await produceNumbers(gw.url, topic, 3);
    const s = await RestConsumer.create(gw.url, uniqueName('g'), { 'ack.timeout.ms': 600 });
    await s.subscribe(gw.url, [topic]);
    const records = await s.poll(gw.url, { timeout: 3000 });
    expect(await s.ack(gw.url, records)).toEqual({ acked: 3, fenced: 0 });
    // The same ack again, as a client does after a 504: nothing changes, nothing comes back.
    expect(await s.ack(gw.url, records)).toEqual({ acked: 0, fenced: 3 });
    expect(await s.committed(gw.url, topic, [0])).toEqual([3]);
    await new Promise((resolve) => setTimeout(resolve, 800));
    expect(await s.poll(gw.url, { timeout: 500 })).toEqual([]);
  });
});
