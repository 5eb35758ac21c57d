import type { ApiSpec } from './api-versions.js';
import type { ResponseReader } from './reader.js';
import type { RequestWriter } from './writer.js';

/** v0-v1 are gone from Kafka 4 (KIP-896); v8+ are flexible. */
export const OFFSET_COMMIT: ApiSpec = {
  key: 8,
  name: 'OffsetCommit',
  minVersion: 2,
  maxVersion: 7,
};

export interface OffsetCommitPartition {
  readonly partition: number;
  readonly offset: number;
  readonly metadata: string;
}

export interface OffsetCommitTopic {
  readonly topic: string;
  readonly partitions: readonly OffsetCommitPartition[];
}

export interface OffsetCommitPartitionResult {
  readonly topic: string;
  readonly partition: number;
  readonly errorCode: number;
}

/**
 * A commit from outside the group: generation -1 and an empty member id are
 * what the coordinator accepts only while the group has no members, which is
 * exactly the guard the gateway wants.
 */
export function encodeOffsetCommitRequest(
  writer: RequestWriter,
  version: number,
  group: string,
  topics: readonly OffsetCommitTopic[],
): void {
  writer.string(group).int32(-1).string('');
  if (version >= 7) writer.nullableString(null); // group_instance_id
  if (version <= 4) writer.int64(-1); // retention_time_ms: -1 keeps the broker's setting
  writer.array(topics, (w, t) => {
    w.string(t.topic).array(t.partitions, (pw, p) => {
      pw.int32(p.partition).int64(p.offset);
      if (version >= 6) pw.int32(-1); // committed_leader_epoch: unknown
      pw.nullableString(p.metadata);
    });
  });
}

/** Errors are per partition only: OffsetCommit has no top-level error code. */
export function decodeOffsetCommitResponse(
  reader: ResponseReader,
  version: number,
): OffsetCommitPartitionResult[] {
  if (version >= 3) reader.int32(); // throttle_time_ms
  return reader
    .array((r) => {
      const topic = r.string();
      return r.array((pr) => ({ topic, partition: pr.int32(), errorCode: pr.int16() }));
    })
    .flat();
}
