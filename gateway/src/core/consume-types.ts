import type { FetchedRecord } from '../kafka/record-fetcher.js';

/** A record handed to a consumer session, with how often it was delivered (1 = first time). */
export interface DeliveredRecord {
  readonly record: FetchedRecord;
  readonly attempt: number;
}

export interface PollOptions {
  /** Long-poll timeout; undefined: the session's default (consumer.request.timeout.ms). */
  readonly timeoutMs?: number;
  /** Upper bound on the timeout, whichever it is (e.g. a gRPC deadline). */
  readonly maxTimeoutMs?: number;
  readonly maxRecords: number;
  readonly maxBytes: number;
}

/** A record named by an ack, nack or commit; `attempt` (optional) fences older deliveries. */
export interface RecordRef {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly attempt?: number;
}

/** Longest ack deadline extension one call may ask for (SQS's visibility timeout limit). */
export const MAX_EXTEND_MS = 12 * 3_600_000;
