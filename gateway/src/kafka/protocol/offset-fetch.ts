import type { ApiSpec } from './api-versions.js';
import { ProtocolError } from './errors.js';
import type { ResponseReader } from './reader.js';
import type { RequestWriter } from './writer.js';

/** v0 is gone from Kafka 4 (KIP-896); v6+ are flexible. */
export const OFFSET_FETCH: ApiSpec = { key: 9, name: 'OffsetFetch', minVersion: 1, maxVersion: 5 };

export interface OffsetFetchTopic {
  readonly topic: string;
  readonly partitions: readonly number[];
}

export interface OffsetFetchPartitionResult {
  readonly topic: string;
  readonly partition: number;
  /** -1 when the group has no committed offset. */
  readonly offset: number;
  readonly metadata: string | null;
  readonly errorCode: number;
}

export interface OffsetFetchResult {
  /** Group-level error; v1 has none (0), it puts such errors on every partition instead. */
  readonly errorCode: number;
  readonly partitions: readonly OffsetFetchPartitionResult[];
}

/** `topics` null asks for every partition the group has committed (v2+). */
export function encodeOffsetFetchRequest(
  writer: RequestWriter,
  version: number,
  group: string,
  topics: readonly OffsetFetchTopic[] | null,
): void {
  writer.string(group);
  if (topics === null) {
    if (version < 2) throw new ProtocolError('OffsetFetch v1 cannot ask for every partition');
    writer.int32(-1);
    return;
  }
  writer.array(topics, (w, t) => {
    w.string(t.topic).array(t.partitions, (pw, p) => pw.int32(p));
  });
}

export function decodeOffsetFetchResponse(
  reader: ResponseReader,
  version: number,
): OffsetFetchResult {
  if (version >= 3) reader.int32(); // throttle_time_ms
  const partitions = reader
    .array((r) => {
      const topic = r.string();
      return r.array((pr) => {
        const partition = pr.int32();
        const offset = pr.int64Number();
        if (version >= 5) pr.int32(); // committed_leader_epoch
        return { topic, partition, offset, metadata: pr.nullableString(), errorCode: pr.int16() };
      });
    })
    .flat();
  const errorCode = version >= 2 ? reader.int16() : 0;
  return { errorCode, partitions };
}
