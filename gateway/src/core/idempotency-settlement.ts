import { GatewayError } from '../errors.js';
import type { WatermarkReader } from '../kafka/end-offsets.js';
import type { FetchedRecord } from '../kafka/record-fetcher.js';
import type { OutgoingRecord } from '../kafka/producer.js';
import type { IdempotencyTarget } from '../store/idempotency-store.js';

/** Reads up to maxRecords of a partition from an offset. */
export type PartitionReader = (
  topic: string,
  partition: number,
  offset: number,
  maxRecords: number,
) => Promise<readonly FetchedRecord[]>;

export interface SettlementSource {
  readonly read: PartitionReader;
  readonly watermarks: WatermarkReader;
  readonly timeoutMs: number;
}

/** Where a record of the request was found. */
export interface FoundRecord {
  readonly partition: number;
  readonly offset: number;
  readonly timestamp: number;
}

const BATCH = 500;

/**
 * Settles an Idempotency-Key whose earlier attempt may have written: reads
 * every partition that attempt targeted, from the offset recorded at its
 * claim up to today's end, for records carrying the key, and matches them to
 * the request's records by content (key, value, the caller's headers,
 * explicit timestamp). Returns, per request index, where the record already
 * is; indexes absent from the map were never written.
 *
 * Throws KGW_IDEMPOTENCY_UNVERIFIABLE when retention already deleted part of
 * the range and not every record was found: absence cannot be proven then.
 */
export async function findWritten(
  source: SettlementSource,
  topic: string,
  key: string,
  header: string,
  targets: readonly IdempotencyTarget[],
  records: readonly (OutgoingRecord | null)[],
  userHeaderCounts: readonly number[],
): Promise<Map<number, FoundRecord>> {
  const found = new Map<number, FoundRecord>();
  const keyBytes = Buffer.from(key);
  let evidenceLost = false;
  for (const target of targets) {
    const { low, high } = await source.watermarks(topic, target.partition, source.timeoutMs);
    if (low > target.from) evidenceLost = true;
    let offset = Math.max(target.from, low);
    while (offset < high) {
      const batch = await source.read(
        topic,
        target.partition,
        offset,
        Math.min(BATCH, high - offset),
      );
      if (batch.length === 0) {
        throw new GatewayError(
          'KGW_KAFKA_UNAVAILABLE',
          `could not read partition ${target.partition} of '${topic}' to settle the Idempotency-Key`,
        );
      }
      for (const r of batch) {
        if (r.offset >= high) break;
        const index = matchRecord(r, records, userHeaderCounts, found, keyBytes, header);
        if (index !== -1)
          found.set(index, { partition: r.partition, offset: r.offset, timestamp: r.timestamp });
      }
      offset = batch[batch.length - 1]!.offset + 1;
    }
  }
  const expected = records.filter((r) => r !== null).length;
  if (evidenceLost && found.size < expected) {
    throw new GatewayError(
      'KGW_IDEMPOTENCY_UNVERIFIABLE',
      'Kafka no longer holds the records an earlier attempt with this Idempotency-Key may have written; it cannot be told whether they were',
    );
  }
  return found;
}

/** The first unmatched request record this log record is a copy of, or -1. */
function matchRecord(
  r: FetchedRecord,
  records: readonly (OutgoingRecord | null)[],
  userHeaderCounts: readonly number[],
  taken: ReadonlyMap<number, FoundRecord>,
  keyBytes: Buffer,
  header: string,
): number {
  for (let i = 0; i < records.length; i += 1) {
    const want = records[i];
    if (!want || taken.has(i)) continue;
    const n = userHeaderCounts[i]!;
    // Our own headers follow the caller's: the key first, then trace context that differs per attempt.
    const mark = r.headers[n];
    if (!mark || mark.name !== header || !mark.value.equals(keyBytes)) continue;
    if (!sameBytes(r.key, want.key) || !sameBytes(r.value, want.value)) continue;
    if (want.timestamp !== undefined && r.timestamp !== want.timestamp) continue;
    if (!sameHeaders(r.headers, want.headers, n)) continue;
    return i;
  }
  return -1;
}

function sameBytes(a: Buffer | null, b: Buffer | null | undefined): boolean {
  const left = a ?? null;
  const right = b ?? null;
  if (left === null || right === null) return left === right;
  return left.equals(right);
}

function sameHeaders(
  found: FetchedRecord['headers'],
  sent: OutgoingRecord['headers'],
  count: number,
): boolean {
  for (let i = 0; i < count; i += 1) {
    const f = found[i];
    const entry = sent?.[i];
    if (!f || !entry) return false;
    const [name, value] = Object.entries(entry)[0] ?? [];
    if (f.name !== name) return false;
    const bytes = typeof value === 'string' ? Buffer.from(value) : (value as Buffer);
    if (!f.value.equals(bytes)) return false;
  }
  return true;
}
