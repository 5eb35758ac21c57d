import { randomUUID } from 'node:crypto';
import Kafka from 'node-rdkafka';
import { inject } from 'vitest';
import { eventually } from './eventually.js';

/** A name no other test uses: every test gets its own topics and groups. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID()}`;
}

export function brokers(): string {
  return inject('kafkaBrokers');
}

const openClients = new Set<() => Promise<void>>();

/** Registers a client so closeAllClients() disconnects it. */
function track(close: () => Promise<void>): () => Promise<void> {
  const once = async (): Promise<void> => {
    if (!openClients.delete(once)) return;
    await close();
  };
  openClients.add(once);
  return once;
}

/** Disconnects every client the helpers opened; call it in afterEach/afterAll. */
export async function closeAllClients(): Promise<void> {
  await Promise.all([...openClients].map((close) => close()));
}

function disconnect(client: Kafka.Producer | Kafka.KafkaConsumer): Promise<void> {
  return new Promise((resolve) => {
    if (!client.isConnected()) return resolve();
    client.disconnect(() => resolve());
  });
}

/** A connected plain node-rdkafka producer (not the gateway's), closed by closeAllClients(). */
export async function connectProducer(
  config: Kafka.ProducerGlobalConfig = {},
): Promise<Kafka.Producer> {
  const producer = new Kafka.Producer({
    'metadata.broker.list': brokers(),
    'client.id': 'kgw-test-producer',
    dr_cb: true,
    ...config,
  });
  track(() => disconnect(producer));
  await new Promise<void>((resolve, reject) =>
    producer.connect({ timeout: 10_000 }, (err) => (err ? reject(err) : resolve())),
  );
  producer.setPollInterval(20);
  return producer;
}

/** Creates a fresh topic through the admin client and waits until every partition has a leader. */
export async function createTopic(
  options: {
    partitions?: number;
    replicationFactor?: number;
    prefix?: string;
    /** The exact name (default: a unique one from prefix), e.g. `${topic}.dlq`. */
    name?: string;
    /** Topic configs, e.g. min.insync.replicas. */
    config?: Record<string, string>;
    /** Another cluster than the shared test stack (a test's private stack). */
    brokers?: string;
    /** librdkafka properties for that cluster, e.g. its security settings. */
    clientConfig?: Record<string, string>;
    /** false: return once created, without waiting to see it in metadata (ACLs may hide it). */
    awaitMetadata?: boolean;
  } = {},
): Promise<string> {
  const { partitions = 1, replicationFactor = 1, prefix = 'test', config } = options;
  const bootstrap = options.brokers ?? brokers();
  const topic = options.name ?? uniqueName(prefix);
  const admin = Kafka.AdminClient.create({
    'metadata.broker.list': bootstrap,
    'client.id': 'kgw-test-admin',
    ...options.clientConfig,
  });
  try {
    await new Promise<void>((resolve, reject) =>
      admin.createTopic(
        {
          topic,
          num_partitions: partitions,
          replication_factor: replicationFactor,
          ...(config ? { config } : {}),
        },
        15_000,
        (err) => (err ? reject(err) : resolve()),
      ),
    );
  } finally {
    admin.disconnect();
  }
  if (options.awaitMetadata === false) return topic;
  const producer = await connectProducer({
    'client.id': 'kgw-test-metadata',
    'metadata.broker.list': bootstrap,
    ...options.clientConfig,
  });
  await eventually(
    () =>
      new Promise<void>((resolve, reject) =>
        producer.getMetadata({ topic, timeout: 5000 }, (err, metadata) => {
          if (err) return reject(err);
          const found = metadata.topics.find((t) => t.name === topic);
          const ready =
            found?.partitions.length === partitions && found.partitions.every((p) => p.leader >= 0);
          return ready ? resolve() : reject(new Error(`topic ${topic} not ready yet`));
        }),
      ),
  );
  return topic;
}

export interface ReadRecord {
  readonly partition: number;
  readonly offset: number;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: ReadonlyArray<Record<string, Buffer>>;
}

/**
 * Reads a topic from the beginning with an independent consumer (its own
 * group, assigned partitions, nothing committed) until `count` records arrived
 * or `timeoutMs` passed; returns what it saw, ordered by partition and offset.
 */
export async function readTopic(
  topic: string,
  {
    count,
    timeoutMs = 15_000,
    untilEnd = false,
  }: {
    count: number;
    timeoutMs?: number;
    /** Read every record written before the call (up to the high watermarks), or throw at timeoutMs. */
    untilEnd?: boolean;
  },
): Promise<ReadRecord[]> {
  const consumer = new Kafka.KafkaConsumer(
    {
      'metadata.broker.list': brokers(),
      'group.id': uniqueName('kgw-test-reader'),
      'client.id': 'kgw-test-reader',
      'enable.auto.commit': false,
    },
    { 'auto.offset.reset': 'earliest' },
  );
  const close = track(() => disconnect(consumer));
  await new Promise<void>((resolve, reject) =>
    consumer.connect({ timeout: 10_000, topic }, (err) => (err ? reject(err) : resolve())),
  );
  const metadata = await new Promise<Kafka.Metadata>((resolve, reject) =>
    consumer.getMetadata({ topic, timeout: 5000 }, (err, data) =>
      err ? reject(err) : resolve(data),
    ),
  );
  const partitions = metadata.topics.find((t) => t.name === topic)?.partitions ?? [];
  // The next offset to be written in each partition: reading is done once each is reached.
  const ends = untilEnd
    ? await Promise.all(
        partitions.map(
          (p) =>
            new Promise<number>((resolve, reject) =>
              consumer.queryWatermarkOffsets(topic, p.id, 5000, (err, marks) =>
                err ? reject(err) : resolve(marks.highOffset),
              ),
            ),
        ),
      )
    : [];
  const next = new Map<number, number>(partitions.map((p) => [p.id, 0]));
  const reachedEnd = (): boolean => partitions.every((p, i) => next.get(p.id)! >= ends[i]!);
  consumer.assign(partitions.map((p) => ({ topic, partition: p.id, offset: 0 })));
  consumer.setDefaultConsumeTimeout(100);

  const records: ReadRecord[] = [];
  const deadline = Date.now() + timeoutMs;
  while ((untilEnd ? !reachedEnd() : records.length < count) && Date.now() < deadline) {
    const batch = await new Promise<Kafka.Message[]>((resolve, reject) =>
      consumer.consume(100, (err, messages) => (err ? reject(err) : resolve(messages))),
    );
    for (const m of batch) {
      next.set(m.partition, m.offset + 1);
      records.push({
        partition: m.partition,
        offset: m.offset,
        key: m.key === undefined || m.key === null ? null : Buffer.from(m.key),
        value: m.value ?? null,
        headers: (m.headers ?? []) as Record<string, Buffer>[],
      });
    }
  }
  await close();
  if (untilEnd && !reachedEnd()) {
    throw new Error(
      `read ${records.length} records of ${topic} but not to its end in ${timeoutMs} ms`,
    );
  }
  return records.sort((a, b) => a.partition - b.partition || a.offset - b.offset);
}
