import type { MessageHeader } from 'node-rdkafka';
import type { KafkaProducer } from '../kafka/producer.js';
import type { RecordFetcher } from '../kafka/record-fetcher.js';
import type { TopicAdmin } from '../kafka/topic-admin.js';
import type { TopicMetadataCache } from '../kafka/topic-metadata-cache.js';
import type { Logger } from '../observability/logger.js';
import type { PartitionStore, TopicPartition } from '../store/partition-store.js';

/** Headers a dead-lettered record carries, besides its own. */
export const DLQ_HEADERS = {
  topic: 'kgw-origin-topic',
  partition: 'kgw-origin-partition',
  offset: 'kgw-origin-offset',
  attempts: 'kgw-attempts',
  error: 'kgw-last-error',
} as const;

export interface DeadLetterDeps {
  readonly partitions: PartitionStore;
  readonly fetcher: RecordFetcher;
  readonly producer: KafkaProducer;
  readonly metadata: TopicMetadataCache;
  readonly admin: TopicAdmin;
  readonly logger: Logger;
  readonly onDeadLettered?: (topic: string, count: number) => void;
}

/**
 * Moves records past their delivery limit to the group's dead-letter topic
 * (created on first use), then forgets them so they count as acked. Writes
 * first, forgets second: a crash in between writes a duplicate to the DLQ,
 * never loses the record.
 */
export class DeadLetterWriter {
  readonly #deps: DeadLetterDeps;

  constructor(deps: DeadLetterDeps) {
    this.#deps = deps;
  }

  static topicFor(origin: string, configured: string | null): string {
    return configured ?? `${origin}.dlq`;
  }

  /** Returns the group's new lowest unacked offset for the partition. */
  async write(
    group: string,
    tp: TopicPartition,
    offsets: readonly number[],
    dlqTopic: string,
  ): Promise<number> {
    const { partitions, fetcher, producer, metadata, admin } = this.#deps;
    if ((await metadata.topic(dlqTopic)) === null) {
      await admin.ensure(dlqTopic, 1, 10_000);
      metadata.invalidate(dlqTopic);
    }
    const [records, info] = await Promise.all([
      fetcher.readOffsets(tp.topic, tp.partition, offsets),
      partitions.deliveryInfo(group, tp, offsets),
    ]);
    await producer.ready(5000);
    await Promise.all(
      offsets.map(async (offset, i) => {
        const record = records.get(offset);
        if (!record) return; // removed by retention or compaction: nothing to keep
        const headers: MessageHeader[] = [
          ...record.headers.map((h) => ({ [h.name]: h.value })),
          { [DLQ_HEADERS.topic]: Buffer.from(tp.topic) },
          { [DLQ_HEADERS.partition]: Buffer.from(String(tp.partition)) },
          { [DLQ_HEADERS.offset]: Buffer.from(String(offset)) },
          { [DLQ_HEADERS.attempts]: Buffer.from(String(info[i]!.deliveries)) },
          { [DLQ_HEADERS.error]: Buffer.from(info[i]!.lastError) },
        ];
        await producer.send({
          topic: dlqTopic,
          partition: -1, // librdkafka's partitioner: keyed records keep their key's partition
          key: record.key,
          value: record.value,
          headers,
          timestamp: undefined,
          size: record.size,
        });
      }),
    );
    this.#deps.onDeadLettered?.(tp.topic, offsets.length);
    this.#deps.logger.info({ group, ...tp, offsets, dlqTopic }, 'records dead-lettered');
    return partitions.bury(group, tp, offsets);
  }
}
