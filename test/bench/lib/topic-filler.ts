import Kafka from 'node-rdkafka';

/** Records handed to librdkafka before waiting for delivery reports to catch up. */
const MAX_OUTSTANDING = 50_000;

function connect(producer: Kafka.Producer): Promise<void> {
  return new Promise((resolve, reject) =>
    producer.connect({ timeout: 10_000, allTopics: false }, (err) =>
      err ? reject(err) : resolve(),
    ),
  );
}

/**
 * Writes `count` copies of `value` to `topic`, record i to partition
 * i % partitions, with a plain throughput-tuned producer (acks=1, big
 * batches, no idempotence): set-up, not a measurement. Resolves with the
 * number of records each partition got (its high watermark on a fresh topic).
 */
export async function fillTopic(
  brokers: string,
  topic: string,
  partitions: number,
  count: number,
  value: Buffer,
): Promise<number[]> {
  const producer = new Kafka.Producer(
    {
      'metadata.broker.list': brokers,
      'client.id': 'kgw-bench-filler',
      dr_cb: true,
      'linger.ms': 20,
      'batch.size': 1_000_000,
      'queue.buffering.max.messages': MAX_OUTSTANDING * 2,
      'queue.buffering.max.kbytes': 512 * 1024,
    },
    { acks: 1 },
  );
  await connect(producer);
  const written = new Array<number>(partitions).fill(0);
  let outstanding = 0;
  let failure: Kafka.LibrdKafkaError | undefined;
  let caughtUp: (() => void) | undefined;
  producer.on('delivery-report', (err, report) => {
    outstanding -= 1;
    if (err) failure ??= err;
    else written[report.partition] = (written[report.partition] ?? 0) + 1;
    if (outstanding <= MAX_OUTSTANDING / 2) caughtUp?.();
  });
  const poller = setInterval(() => producer.poll(), 5);
  try {
    for (let i = 0; i < count; i += 1) {
      while (outstanding >= MAX_OUTSTANDING) {
        await new Promise<void>((resolve) => (caughtUp = resolve));
        caughtUp = undefined;
      }
      producer.produce(topic, i % partitions, value, null, null);
      outstanding += 1;
    }
    await new Promise<void>((resolve, reject) =>
      producer.flush(60_000, (err) => (err ? reject(err) : resolve())),
    );
    // flush() returns when the queue is empty; the last reports come with the next poll.
    for (let waited = 0; outstanding > 0 && waited < 5000; waited += 10) {
      producer.poll();
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  } finally {
    clearInterval(poller);
    await new Promise<void>((resolve) => producer.disconnect(5000, () => resolve()));
  }
  if (failure) throw new Error(`filling ${topic} failed: ${failure.message}`, { cause: failure });
  const total = written.reduce((a, b) => a + b, 0);
  if (total !== count) throw new Error(`filling ${topic}: ${total} of ${count} records written`);
  return written;
}
