import { randomBytes, randomUUID } from 'node:crypto';
import Kafka from 'node-rdkafka';
import { Agent } from 'undici';
import { type ConsumedRecord, GatewaySession, mapLimited } from './lib/gateway-session.js';
import { benchTopicName, createTopic, deleteTopics } from './lib/kafka-topics.js';
import { LatencySamples } from './lib/latency-samples.js';
import { formatCount, formatMs, markdownTable } from './lib/markdown-table.js';
import { residentBytes } from './lib/proc-stats.js';
import type { BenchContext, Scenario } from './lib/scenario.js';
import { sleep } from './lib/timing.js';
import { fillTopic } from './lib/topic-filler.js';

const VALUE_BYTES = 1024;
const PARTITIONS = 6;
const RECORDS = 60_000;
const WARMUP_MS = 2000;
const WINDOW_MS = 8000;
const POLL_TIMEOUT_MS = 1000;

/** How a record-at-a-time client confirms the record it was given. */
type Confirm = 'ack' | 'offsets' | 'folded';

interface GatewayCase {
  readonly label: string;
  readonly clients: number;
  readonly mode: 'ordered' | 'shared';
  readonly confirm: Confirm;
  readonly durability?: 'redis';
}

const GATEWAY_CASES: readonly GatewayCase[] = [
  { label: '1 client, ordered, poll 1 + ack', clients: 1, mode: 'ordered', confirm: 'ack' },
  { label: '1 client, shared, poll 1 + ack', clients: 1, mode: 'shared', confirm: 'ack' },
  {
    label: '1 client, ordered, poll 1 + `POST …/offsets`',
    clients: 1,
    mode: 'ordered',
    confirm: 'offsets',
  },
  {
    label: '1 client, shared, ack folded into the next poll',
    clients: 1,
    mode: 'shared',
    confirm: 'folded',
  },
  { label: '8 clients, shared, poll 1 + ack', clients: 8, mode: 'shared', confirm: 'ack' },
  { label: '8 clients, ordered, poll 1 + ack', clients: 8, mode: 'ordered', confirm: 'ack' },
  {
    label: '8 clients, shared, ack folded into the next poll',
    clients: 8,
    mode: 'shared',
    confirm: 'folded',
  },
  {
    label: '1 client, shared, poll 1 + ack, `redis` durability',
    clients: 1,
    mode: 'shared',
    confirm: 'ack',
    durability: 'redis',
  },
  {
    label: '1 client, shared, folded, `redis` durability',
    clients: 1,
    mode: 'shared',
    confirm: 'folded',
    durability: 'redis',
  },
  {
    label: '8 clients, shared, poll 1 + ack, `redis` durability',
    clients: 8,
    mode: 'shared',
    confirm: 'ack',
    durability: 'redis',
  },
  {
    label: '8 clients, shared, folded, `redis` durability',
    clients: 8,
    mode: 'shared',
    confirm: 'folded',
    durability: 'redis',
  },
];

const DESCRIPTION = `
A task-queue worker: take one record, confirm it, take the next. A topic with
${PARTITIONS} partitions is pre-filled with ${formatCount(RECORDS)} records of ${VALUE_BYTES} bytes; each case
reads it from the start in a fresh group for ${WARMUP_MS / 1000} s unmeasured, then counts the
records confirmed in the next ${WINDOW_MS / 1000} s. Clients run in the load generator's process,
each in a loop: **gateway** \`GET …/records?max_records=1\` (binary format) and then
\`POST …/acks\` naming the record and its attempt, or Confluent's \`POST …/offsets\`, or
(**folded**) the ack carried by the next poll (\`GET …/records?max_records=1&ack=<topic>:<partition>:<offset>:<attempt>\`);
**direct** a node-rdkafka \`KafkaConsumer\` per client in the same group
(subscribed; \`consume(1)\`, then \`commitMessageSync\` of that record, so a record
counts once Kafka holds its commit, as a gateway ack does with the default
durability; the \`redis\` cases create their sessions with \`ack.durability: redis\`, whose acks
answer once Redis has them). The direct clients share the load generator's event loop, so
their synchronous commits run one at a time: with 8 clients the direct figure
is a floor. Every case counts records delivered twice (duplicates); the gateway's
resident memory (VmRSS) is read before the first case and after the last.
`;

export const recordsScenario: Scenario = {
  name: 'records',
  title: 'Record-at-a-time consumers',
  description: DESCRIPTION,
  async run(context: BenchContext): Promise<string> {
    const { stack, gateway, cleanups, log } = context;
    const topic = benchTopicName('records');
    await createTopic(stack.kafkaBrokers, topic, PARTITIONS);
    cleanups.add(`delete topic ${topic}`, () => deleteTopics(stack.kafkaBrokers, [topic]));
    log(`pre-filling ${topic} with ${formatCount(RECORDS)} records`);
    await fillTopic(stack.kafkaBrokers, topic, PARTITIONS, RECORDS, randomBytes(VALUE_BYTES));
    const agent = new Agent({ connections: 64, pipelining: 1 });
    cleanups.add('close the records agent', () => agent.close());

    const rssBefore = residentBytes(gateway.pid);
    const rows: string[][] = [];
    const direct = new Map<number, number>();
    for (const clients of [1, 8]) {
      log(`direct, ${clients} client(s): consume(1) + commitMessageSync`);
      const r = await directCase(stack.kafkaBrokers, topic, clients);
      direct.set(clients, r.rate);
      rows.push([
        `direct node-rdkafka, ${clients} client${clients > 1 ? 's' : ''}, consume(1) + commit`,
        formatCount(r.rate),
        '100%',
        'n/a',
        'n/a',
        String(r.duplicates),
      ]);
      log(`direct ${clients}: ${formatCount(r.rate)} records/s`);
    }
    for (const c of GATEWAY_CASES) {
      log(`gateway: ${c.label}`);
      const r = await gatewayCase(agent, gateway.url, topic, c);
      const base = direct.get(c.clients)!;
      rows.push([
        `gateway, ${c.label}`,
        formatCount(r.rate),
        `${((r.rate / base) * 100).toFixed(0)}%`,
        `${formatMs(r.pollMs.p50)} / ${formatMs(r.pollMs.p99)}`,
        c.confirm === 'folded'
          ? 'n/a'
          : `${formatMs(r.confirmMs.p50)} / ${formatMs(r.confirmMs.p99)}`,
        `${r.duplicates} (${r.emptyPolls} empty polls)`,
      ]);
      log(`${c.label}: ${formatCount(r.rate)} records/s`);
    }
    await sleep(2000);
    const rssAfter = residentBytes(gateway.pid);
    const mib = (b: number | undefined): string =>
      b === undefined ? 'n/a' : (b / 2 ** 20).toFixed(1);
    return [
      markdownTable(
        [
          { header: 'case' },
          { header: 'records/s', align: 'right' },
          { header: 'vs direct (same clients)', align: 'right' },
          { header: 'poll p50 / p99 ms', align: 'right' },
          { header: 'confirm p50 / p99 ms', align: 'right' },
          { header: 'duplicates', align: 'right' },
        ],
        rows,
      ),
      '',
      `Gateway VmRSS before the first case / after the last: ${mib(rssBefore)} / ${mib(rssAfter)} MiB.`,
    ].join('\n');
  },
};

interface CaseResult {
  readonly rate: number;
  readonly duplicates: number;
  readonly emptyPolls: number;
  readonly pollMs: ReturnType<LatencySamples['summary']>;
  readonly confirmMs: ReturnType<LatencySamples['summary']>;
}

/** Marks records seen by partition and offset; counts the second sighting of any. */
class Seen {
  readonly #seen = new Map<string, true>();
  duplicates = 0;

  add(partition: number, offset: number): void {
    const key = `${partition}:${offset}`;
    if (this.#seen.has(key)) this.duplicates += 1;
    else this.#seen.set(key, true);
  }
}

async function gatewayCase(
  agent: Agent,
  origin: string,
  topic: string,
  c: GatewayCase,
): Promise<CaseResult> {
  const group = `bench-records-${randomUUID()}`;
  const sessions = await mapLimited(
    Array.from({ length: c.clients }, (_, i) => i),
    c.clients,
    async (i) => {
      const s = await GatewaySession.create(agent, origin, group, `w${i}`, {
        mode: c.mode,
        autoOffsetReset: 'earliest',
        ...(c.durability ? { ackDurability: c.durability } : {}),
      });
      await s.subscribe([topic]);
      return s;
    },
  );
  const seen = new Seen();
  const pollMs = new LatencySamples(8192);
  const confirmMs = new LatencySamples(8192);
  let counting = false;
  let confirmed = 0;
  let emptyPolls = 0;
  const started = performance.now();
  const end = started + WARMUP_MS + WINDOW_MS;
  const loop = async (s: GatewaySession): Promise<void> => {
    let pending: ConsumedRecord | null = null;
    while (performance.now() < end) {
      const t0 = performance.now();
      const records: ConsumedRecord[] =
        c.confirm === 'folded'
          ? await s.poll(POLL_TIMEOUT_MS, 1, pending ? [pending] : [])
          : await s.poll(POLL_TIMEOUT_MS, 1);
      if (pending && counting) confirmed += 1;
      pending = null;
      if (counting) pollMs.add(performance.now() - t0);
      const r = records[0];
      if (!r) {
        emptyPolls += counting ? 1 : 0;
        continue;
      }
      if (counting) seen.add(r.partition, r.offset);
      if (c.confirm === 'folded') {
        pending = r;
        continue;
      }
      const t1 = performance.now();
      if (c.confirm === 'ack') await s.ack([r]);
      else await s.commitOffsets([r]);
      if (counting) {
        confirmMs.add(performance.now() - t1);
        confirmed += 1;
      }
    }
    if (pending) await s.ack([pending]);
  };
  let windowStart = 0;
  const timer = setTimeout(() => {
    counting = true;
    windowStart = performance.now();
  }, WARMUP_MS);
  await Promise.all(sessions.map(loop));
  clearTimeout(timer);
  const seconds = (performance.now() - windowStart) / 1000;
  await mapLimited(sessions, sessions.length, (s) => s.delete());
  return {
    rate: confirmed / seconds,
    duplicates: seen.duplicates,
    emptyPolls,
    pollMs: pollMs.summary(),
    confirmMs: confirmMs.summary(),
  };
}

async function directCase(
  brokers: string,
  topic: string,
  clients: number,
): Promise<{ rate: number; duplicates: number }> {
  const group = `bench-records-direct-${randomUUID()}`;
  const consumers = await Promise.all(
    Array.from({ length: clients }, async (_, i) => {
      const consumer = new Kafka.KafkaConsumer(
        {
          'metadata.broker.list': brokers,
          'client.id': `kgw-bench-records-${i}`,
          'group.id': group,
          'enable.auto.commit': false,
          'fetch.wait.max.ms': 100,
        },
        { 'auto.offset.reset': 'earliest' },
      );
      await new Promise<void>((resolve, reject) =>
        consumer.connect({ timeout: 10_000 }, (err) => (err ? reject(err) : resolve())),
      );
      consumer.setDefaultConsumeTimeout(100);
      consumer.subscribe([topic]);
      return consumer;
    }),
  );
  const seen = new Seen();
  let counting = false;
  let confirmed = 0;
  const end = performance.now() + WARMUP_MS + WINDOW_MS;
  const loop = async (consumer: Kafka.KafkaConsumer): Promise<void> => {
    while (performance.now() < end) {
      const [m] = await new Promise<Kafka.Message[]>((resolve, reject) =>
        consumer.consume(1, (err, messages) => (err ? reject(err) : resolve(messages))),
      );
      if (!m) continue;
      try {
        consumer.commitMessageSync(m);
      } catch {
        continue; // a rebalance took the partition: the record comes again elsewhere
      }
      if (counting) {
        seen.add(m.partition, m.offset);
        confirmed += 1;
      }
    }
  };
  let windowStart = 0;
  const timer = setTimeout(() => {
    counting = true;
    windowStart = performance.now();
  }, WARMUP_MS);
  try {
    await Promise.all(consumers.map(loop));
  } finally {
    clearTimeout(timer);
    await Promise.all(
      consumers.map(
        (consumer) =>
          new Promise<void>((resolve) => {
            const t = setTimeout(resolve, 5000);
            consumer.disconnect(() => {
              clearTimeout(t);
              resolve();
            });
          }),
      ),
    );
  }
  const seconds = (performance.now() - windowStart) / 1000;
  return { rate: confirmed / seconds, duplicates: seen.duplicates };
}
