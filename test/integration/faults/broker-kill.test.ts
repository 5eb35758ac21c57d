// A partition leader SIGKILLed mid-load (3 brokers, RF 3, min ISR 2): every
// record answered 2xx is in Kafka, for both delivery modes; the idempotent
// mode also writes each exactly once (fast may duplicate on retry).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import Kafka from 'node-rdkafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../../support/eventually.js';
import { killAllGateways, spawnGateway } from '../../support/gateway-process.js';
import { closeAllClients, createTopic, uniqueName } from '../../support/kafka.js';
import { privateStack, stopPrivateStack, type StackEnv } from '../../support/stack.js';
import { recordReport } from '../../support/fault-report.js';

// Starts three broker JVMs (about 10 s and 1 GiB); KGW_QUICK=1 skips it for a fast run.
const quick = process.env.KGW_QUICK === '1';

describe.skipIf(quick)('produce under a leader SIGKILL (skipped when KGW_QUICK=1)', () => {
  let runDir = '';
  let env: StackEnv;

  beforeAll(async () => {
    ({ runDir, env } = await privateStack('kgw-fast-', '--brokers', '3'));
  });

  afterAll(async () => {
    await killAllGateways();
    await closeAllClients();
    await stopPrivateStack(runDir);
  });

  it('loses no acknowledged record in either mode, and the idempotent mode writes none twice', async () => {
    const topic = await createTopic({
      brokers: env.kafkaBrokers,
      prefix: 'fast',
      partitions: 2,
      replicationFactor: 3,
      config: { 'min.insync.replicas': '2' },
    });
    // No client of this worker stays connected to the broker about to be killed.
    await closeAllClients();
    // Its own process: librdkafka clients that talked to the killed broker never live in the
    // test worker, whose exit they could otherwise take down with them.
    const gw = await spawnGateway({ KAFKA_BROKERS: env.kafkaBrokers, REDIS_URL: env.redisUrl });
    const leader = await leaderOf(env.kafkaBrokers, topic, 0);

    const acked = { idempotent: new Set<number>(), fast: new Set<number>() };
    const failed = { idempotent: 0, fast: 0 };
    // Values are unique across both modes: idempotent counts up from 1, fast from 10^9.
    const next = { idempotent: 0, fast: 1e9 };
    const stopAt = Date.now() + 12_000;
    const load = async (mode: 'idempotent' | 'fast'): Promise<void> => {
      while (Date.now() < stopAt) {
        const values = Array.from({ length: 50 }, () => (next[mode] += 1));
        const res = await fetch(`${gw.url}/topics/${topic}?delivery=${mode}`, {
          method: 'POST',
          headers: { 'content-type': 'application/vnd.kafka.json.v2+json' },
          body: JSON.stringify({ records: values.map((v) => ({ value: v })) }),
          signal: AbortSignal.timeout(30_000),
        }).catch(() => undefined);
        if (!res) {
          failed[mode] += 1;
          continue;
        }
        const body = (await res.json()) as { offsets?: { error_code?: number | null }[] };
        if (res.status !== 200 || !body.offsets) {
          failed[mode] += 1;
          continue;
        }
        body.offsets.forEach((o, i) => {
          if (!o.error_code) acked[mode].add(values[i]!);
        });
      }
    };
    const loads = Promise.all([load('fast'), load('fast'), load('idempotent'), load('idempotent')]);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const pid = Number((await readFile(join(runDir, `kafka-${leader}.pid`), 'utf8')).split(' ')[0]);
    process.kill(pid, 'SIGKILL');
    await loads;

    const found = await readAll(env.kafkaBrokers, topic);
    for (const mode of ['idempotent', 'fast'] as const) {
      const lost = [...acked[mode]].filter((v) => !found.has(v));
      let duplicates = 0;
      for (const [v, n] of found) if ((mode === 'fast') === v > 1e9) duplicates += n - 1;
      recordReport(`broker SIGKILL (partition leader, RF 3, min ISR 2), delivery=${mode}`, {
        acked: acked[mode].size,
        'requests failed': failed[mode],
        'found in Kafka': [...found.keys()].filter((v) => (mode === 'fast') === v > 1e9).length,
        duplicates,
        lost: lost.length,
      });
      // Enough load that the kill lands mid-stream (hundreds of requests in flight over 12 s).
      expect(acked[mode].size).toBeGreaterThan(300);
      expect(lost).toEqual([]);
      if (mode === 'idempotent') expect(duplicates).toBe(0);
    }
  }, 120_000);
});

async function leaderOf(brokers: string, topic: string, partition: number): Promise<number> {
  const producer = new Kafka.Producer({ 'metadata.broker.list': brokers });
  try {
    await new Promise<void>((resolve, reject) =>
      producer.connect({ timeout: 10_000 }, (err) => (err ? reject(err) : resolve())),
    );
    for (;;) {
      const metadata = await new Promise<Kafka.Metadata>((resolve, reject) =>
        producer.getMetadata({ topic, timeout: 5000 }, (err, data) =>
          err ? reject(err) : resolve(data),
        ),
      );
      const leader = metadata.topics
        .find((t) => t.name === topic)
        ?.partitions.find((p) => p.id === partition)?.leader;
      if (leader !== undefined && leader >= 0) return leader;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  } finally {
    await new Promise<void>((resolve) => producer.disconnect(() => resolve()));
  }
}

/** How often each JSON number value is in the topic, read by a plain consumer from the beginning. */
async function readAll(brokers: string, topic: string): Promise<Map<number, number>> {
  const consumer = new Kafka.KafkaConsumer(
    {
      'metadata.broker.list': brokers,
      'group.id': uniqueName('reader'),
      'enable.auto.commit': false,
    },
    { 'auto.offset.reset': 'earliest' },
  );
  consumer.on('event.error', () => undefined); // the killed broker, reported until it is forgotten
  await new Promise<void>((resolve, reject) =>
    consumer.connect({ timeout: 15_000 }, (err) => (err ? reject(err) : resolve())),
  );
  const found = new Map<number, number>();
  try {
    // A broker was just killed: until the controller fences it (broker.session.timeout.ms, 9 s)
    // it is still named leader, and a query times out; ask again, briefly, for up to a minute.
    const highs = await eventually(
      () =>
        Promise.all(
          [0, 1].map(
            (partition) =>
              new Promise<number>((resolve, reject) =>
                consumer.queryWatermarkOffsets(topic, partition, 3000, (err, marks) =>
                  err ? reject(err) : resolve(marks.highOffset),
                ),
              ),
          ),
        ),
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    consumer.assign([0, 1].map((partition) => ({ topic, partition, offset: 0 })));
    consumer.setDefaultConsumeTimeout(500);
    const reached = [-1, -1];
    const deadline = Date.now() + 60_000;
    while (reached.some((r, p) => r < highs[p]! - 1) && Date.now() < deadline) {
      // Errors about the killed broker are transient here: keep reading until the deadline.
      const batch = await new Promise<Kafka.Message[]>((resolve) =>
        consumer.consume(1000, (err, messages) => resolve(err ? [] : messages)),
      );
      for (const m of batch) {
        reached[m.partition] = Math.max(reached[m.partition]!, m.offset);
        const v = Number(m.value!.toString());
        found.set(v, (found.get(v) ?? 0) + 1);
      }
    }
  } finally {
    await new Promise<void>((resolve) => consumer.disconnect(() => resolve()));
  }
  return found;
}
