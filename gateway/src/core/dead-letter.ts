import { randomUUID } from 'node:crypto';
import type { MessageHeader } from 'node-rdkafka';
import type { KafkaMetadataClient } from '../kafka/metadata-client.js';
import type { KafkaProducer } from '../kafka/producer.js';
import type { RecordFetcher } from '../kafka/record-fetcher.js';
import type { TopicMetadataCache } from '../kafka/topic-metadata-cache.js';
import type { Logger } from '../observability/logger.js';
import type { PartitionLedger, TopicPartition } from '../store/partition-ledger.js';
import { readPayloads } from './consume/payloads.js';

/** Headers a dead-lettered record carries, besides its own. */
export const DLQ_HEADERS = {
  topic: 'kgw-origin-topic',
  partition: 'kgw-origin-partition',
  offset: 'kgw-origin-offset',
  attempts: 'kgw-attempts',
  error: 'kgw-last-error',
} as const;

export interface DeadLetterDeps {
  readonly ledger: PartitionLedger;
  readonly fetcher: RecordFetcher;
  readonly producer: KafkaProducer;
  readonly metadata: TopicMetadataCache;
  readonly metadataClient: KafkaMetadataClient;
  readonly logger: Logger;
  readonly kafkaTimeoutMs: number;
  /** How long one writer holds its claim: longer than a produce can take. */
  readonly claimMs: number;
  /** After a failed write, when the records may be claimed again. */
  readonly retryMs: number;
  readonly onDeadLettered?: (topic: string, count: number) => void;
  readonly onFailed?: (topic: string, count: number) => void;
  readonly onSkipped?: (topic: string, reason: string, count: number) => void;
}

/**
 * Writes records past their delivery limit to the dead-letter topic exactly
 * once per claim: the ledger hands each dead record to one writer at a time
 * (a claim with a token and a deadline), the write uses the idempotent
 * producer, and only the claim's owner resolves them afterwards. A failed
 * write gives the records back after retryMs for whoever claims next; it never
 * blocks the session's other records. A writer that dies mid-write leaves its
 * claim to expire, and the next writer may then write those records a second
 * time: the one duplicate this allows.
 */
export class DeadLetterWriter {
  readonly #deps: DeadLetterDeps;
  readonly #running = new Map<string, Promise<number>>();

  constructor(deps: DeadLetterDeps) {
    this.#deps = deps;
  }

  static topicFor(origin: string, configured: string | null): string {
    return configured ?? `${origin}.dlq`;
  }

  /** Buries what is due on the partition; at most one run per partition in this process at a time. */
  buryDue(group: string, tp: TopicPartition, dlqTopic: string): Promise<number> {
    const key = `${group}\u0000${tp.topic}\u0000${tp.partition}`;
    let run = this.#running.get(key);
    if (!run) {
      run = this.#bury(group, tp, dlqTopic).finally(() => this.#running.delete(key));
      this.#running.set(key, run);
    }
    return run;
  }

  /** Waits for runs in progress (shutdown). */
  async idle(): Promise<void> {
    await Promise.allSettled([...this.#running.values()]);
  }

  async #bury(group: string, tp: TopicPartition, dlqTopic: string): Promise<number> {
    const { ledger, logger } = this.#deps;
    const token = randomUUID();
    const dead = await ledger.buryClaim(group, tp, token, Date.now() + this.#deps.claimMs, 500);
    if (dead.length === 0) return 0;
    const offsets = dead.map((d) => d.offset);
    try {
      const written = await this.#write(tp, dlqTopic, dead);
      await ledger.buryEnd(group, tp, token, offsets, null);
      if (written > 0) this.#deps.onDeadLettered?.(tp.topic, written);
      logger.info({ group, ...tp, offsets, dlqTopic }, 'records dead-lettered');
      return written;
    } catch (err) {
      this.#deps.onFailed?.(tp.topic, dead.length);
      logger.warn(
        { err, group, ...tp, offsets, dlqTopic },
        'dead-letter write failed; retried later',
      );
      await ledger
        .buryEnd(group, tp, token, offsets, Date.now() + this.#deps.retryMs)
        .catch(() => undefined);
      return 0;
    }
  }

  async #write(
    tp: TopicPartition,
    dlqTopic: string,
    dead: ReadonlyArray<{ offset: number; attempts: number; lastError: string }>,
  ): Promise<number> {
    const { fetcher, producer, metadata, metadataClient, kafkaTimeoutMs } = this.#deps;
    // The gateway never creates topics: a missing dead-letter topic (deleted after the
    // subscription, or a pattern's new topic) is a failed write, retried after retryMs,
    // and the records stay dead (the group's commit waits below them) until it exists.
    if ((await metadata.topic(dlqTopic)) === null)
      throw new Error(
        `dead-letter topic '${dlqTopic}' does not exist (the gateway never creates it)`,
      );
    const offsets = dead.map((d) => d.offset);
    const { records, gone } = await readPayloads(
      fetcher,
      metadataClient,
      kafkaTimeoutMs,
      tp,
      offsets,
    );
    const unread = offsets.filter((o) => !records.has(o) && !gone.includes(o));
    if (unread.length > 0) throw new Error(`records ${unread.join(',')} could not be read in time`);
    if (gone.length > 0) this.#deps.onSkipped?.(tp.topic, 'gone', gone.length);
    await producer.ready(kafkaTimeoutMs);
    await Promise.all(
      dead.map(async (d) => {
        const record = records.get(d.offset);
        if (!record) return; // Kafka no longer has it: nothing to keep
        const headers: MessageHeader[] = [
          ...record.headers.map((h) => ({ [h.name]: h.value })),
          { [DLQ_HEADERS.topic]: Buffer.from(tp.topic) },
          { [DLQ_HEADERS.partition]: Buffer.from(String(tp.partition)) },
          { [DLQ_HEADERS.offset]: Buffer.from(String(d.offset)) },
          { [DLQ_HEADERS.attempts]: Buffer.from(String(d.attempts)) },
          { [DLQ_HEADERS.error]: Buffer.from(d.lastError) },
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
    return records.size;
  }
}
