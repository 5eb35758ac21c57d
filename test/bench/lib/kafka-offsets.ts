import Kafka from 'node-rdkafka';

/**
 * Kafka's committed offset of each partition of `topic` for `group` (NaN
 * where none), read by a consumer that never joins the group.
 */
export async function committedOffsets(
  brokers: string,
  group: string,
  topic: string,
  partitions: number,
): Promise<number[]> {
  const consumer = new Kafka.KafkaConsumer(
    {
      'metadata.broker.list': brokers,
      'client.id': 'kgw-bench-committed',
      'group.id': group,
      'enable.auto.commit': false,
    },
    {},
  );
  await new Promise<void>((resolve, reject) =>
    consumer.connect({ timeout: 10_000 }, (err) => (err ? reject(err) : resolve())),
  );
  try {
    const toppars = Array.from({ length: partitions }, (_, partition) => ({ topic, partition }));
    const offsets = await new Promise<Kafka.TopicPartitionOffset[]>((resolve, reject) =>
      consumer.committed(toppars, 10_000, (err, tps) => (err ? reject(err) : resolve(tps))),
    );
    return toppars.map(({ partition }) => {
      const offset = offsets.find((o) => o.partition === partition)?.offset;
      return offset === undefined || offset < 0 ? NaN : offset;
    });
  } finally {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 5000);
      consumer.disconnect(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}

/** Sum of the high watermarks of a topic's partitions: records written to a fresh topic. */
export async function topicRecordCount(
  brokers: string,
  topic: string,
  partitions: number,
): Promise<number> {
  const producer = new Kafka.Producer({
    'metadata.broker.list': brokers,
    'client.id': 'kgw-bench-watermarks',
  });
  await new Promise<void>((resolve, reject) =>
    producer.connect({ timeout: 10_000, allTopics: false }, (err) =>
      err ? reject(err) : resolve(),
    ),
  );
  try {
    const highs = await Promise.all(
      Array.from(
        { length: partitions },
        (_, partition) =>
          new Promise<number>((resolve, reject) =>
            producer.queryWatermarkOffsets(topic, partition, 10_000, (err, offsets) =>
              err ? reject(err) : resolve(offsets.highOffset),
            ),
          ),
      ),
    );
    return highs.reduce((a, b) => a + b, 0);
  } finally {
    await new Promise<void>((resolve) => producer.disconnect(5000, () => resolve()));
  }
}
