import Kafka from 'node-rdkafka';

/** Records asked for per consume(n) call while draining. */
const DRAIN_BATCH = 1000;
/** How often the draining consumer commits its position (asynchronously). */
const DRAIN_COMMIT_EVERY_MS = 1000;

/** A plain consumer in group `group` that never subscribes: partitions are assigned by hand. */
function directConsumer(brokers: string, group: string): Kafka.KafkaConsumer {
  return new Kafka.KafkaConsumer(
    {
      'metadata.broker.list': brokers,
      'client.id': 'kgw-bench-direct-consumer',
      'group.id': group,
      'enable.auto.commit': false,
      // The gateway's fetchers wait at most this long on the broker for new data.
      'fetch.wait.max.ms': 100,
    },
    { 'auto.offset.reset': 'earliest' },
  );
}

function connect(consumer: Kafka.KafkaConsumer): Promise<void> {
  return new Promise((resolve, reject) =>
    consumer.connect({ timeout: 10_000 }, (err) => (err ? reject(err) : resolve())),
  );
}

function disconnect(consumer: Kafka.KafkaConsumer): Promise<void> {
  if (!consumer.isConnected()) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, 5000);
    consumer.disconnect(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** What draining a topic directly measured. */
export interface DirectDrainResult {
  readonly records: number;
  readonly seconds: number;
  readonly complete: boolean;
}

/**
 * The ceiling: a node-rdkafka consumer assigned every partition from offset 0
 * reads with consume(1000) until it has `counts[p]` records of each
 * partition, committing asynchronously once a second and synchronously at the
 * end. Timed from assign() to the final commit.
 */
export async function drainDirect(options: {
  readonly brokers: string;
  readonly topic: string;
  readonly group: string;
  /** Records in each partition (offsets 0 … counts[p] - 1). */
  readonly counts: readonly number[];
  readonly timeoutMs: number;
  /** Called when the clock starts and stops (CPU and Redis windows). */
  readonly onStart?: () => void | Promise<void>;
  readonly onStop?: () => void | Promise<void>;
}): Promise<DirectDrainResult> {
  const { topic, counts } = options;
  const consumer = directConsumer(options.brokers, options.group);
  await connect(consumer);
  try {
    const total = counts.reduce((a, b) => a + b, 0);
    const next = counts.map(() => 0);
    let records = 0;
    consumer.setDefaultConsumeTimeout(100);
    await options.onStart?.();
    const started = performance.now();
    const deadline = started + options.timeoutMs;
    consumer.assign(counts.map((_, partition) => ({ topic, partition, offset: 0 })));
    let lastCommit = started;
    while (records < total && performance.now() < deadline) {
      const batch = await new Promise<Kafka.Message[]>((resolve, reject) =>
        consumer.consume(DRAIN_BATCH, (err, messages) => (err ? reject(err) : resolve(messages))),
      );
      for (const m of batch) {
        if (m.offset >= next[m.partition]!) {
          records += m.offset - next[m.partition]! + 1;
          next[m.partition] = m.offset + 1;
        }
      }
      if (performance.now() - lastCommit >= DRAIN_COMMIT_EVERY_MS) {
        consumer.commit(next.map((offset, partition) => ({ topic, partition, offset })));
        lastCommit = performance.now();
      }
    }
    consumer.commitSync(next.map((offset, partition) => ({ topic, partition, offset })));
    const seconds = (performance.now() - started) / 1000;
    await options.onStop?.();
    return { records, seconds, complete: records >= total };
  } finally {
    await disconnect(consumer);
  }
}

/**
 * Reads a fresh topic from offset 0 in flowing mode (one callback per record
 * as soon as librdkafka has it), for the end-to-end latency baseline.
 */
export class DirectTailConsumer {
  readonly #consumer: Kafka.KafkaConsumer;

  private constructor(consumer: Kafka.KafkaConsumer) {
    this.#consumer = consumer;
  }

  static async start(options: {
    readonly brokers: string;
    readonly topic: string;
    readonly group: string;
    readonly partitions: number;
    readonly onRecord: (value: Buffer) => void;
  }): Promise<DirectTailConsumer> {
    const consumer = directConsumer(options.brokers, options.group);
    await connect(consumer);
    consumer.assign(
      Array.from({ length: options.partitions }, (_, partition) => ({
        topic: options.topic,
        partition,
        offset: 0,
      })),
    );
    consumer.setDefaultConsumeTimeout(100);
    // After an empty read the loop retries at once instead of sleeping (default 500 ms).
    consumer.setDefaultConsumeLoopTimeoutDelay(1);
    consumer.on('data', (message) => {
      if (message.value) options.onRecord(message.value);
    });
    consumer.consume();
    return new DirectTailConsumer(consumer);
  }

  async stop(): Promise<void> {
    await disconnect(this.#consumer);
  }
}
