import type { KafkaMetadataClient } from '../../kafka/metadata-client.js';
import type { FetchedRecord, RecordFetcher } from '../../kafka/record-fetcher.js';
import type { TopicPartition } from '../../store/partition-ledger.js';

/**
 * Payloads of records handed out again (retries, dead letters): Redis keeps
 * offsets only, so they are read from Kafka by offset (cache first). `gone`
 * are offsets Kafka no longer has: passed over by a fetch (compaction) or below
 * the log start (retention). They can never be delivered, and the caller
 * resolves them as skipped so the partition's commit point moves on (I4).
 */
export async function readPayloads(
  fetcher: RecordFetcher,
  metadataClient: KafkaMetadataClient,
  kafkaTimeoutMs: number,
  tp: TopicPartition,
  offsets: readonly number[],
): Promise<{ records: Map<number, FetchedRecord>; gone: number[] }> {
  if (offsets.length === 0) return { records: new Map(), gone: [] };
  const { records, gone } = await fetcher.readOffsets(tp.topic, tp.partition, offsets);
  const unread = offsets.filter((o) => !records.has(o) && !gone.includes(o));
  if (unread.length > 0) {
    const { low } = await metadataClient.watermarks(tp.topic, tp.partition, kafkaTimeoutMs);
    for (const o of unread) if (o < low) gone.push(o);
  }
  return { records, gone };
}
