import type { ErrorCode } from '../errors.js';
import type { DeliveryMode } from '../kafka/producer.js';

export type { DeliveryMode };

/** A record header; values are bytes (REST carries them base64-encoded). */
export interface HeaderInput {
  readonly name: string;
  readonly value: Buffer;
}

/** One record as a transport decoded it. */
export interface RecordInput {
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  /** An explicit partition; otherwise the key's murmur2 partition, otherwise the balancer's pick. */
  readonly partition?: number;
  readonly headers?: readonly HeaderInput[];
  /** Milliseconds since the epoch. */
  readonly timestamp?: number;
}

export interface ProduceCommand {
  readonly topic: string;
  readonly records: readonly RecordInput[];
  readonly delivery: DeliveryMode;
  readonly idempotencyKey?: string;
  /**
   * What an explicit partition the topic lacks does: fail the whole request
   * (Confluent v2, default) or only that record (streams, where each record
   * has its own result).
   */
  readonly unknownPartition?: 'request' | 'record';
  /** Carried into every record's headers so a trace can follow the message through Kafka; not part of the fingerprint. */
  readonly context?: TraceContext;
}

export interface TraceContext {
  /** W3C trace context of the request. */
  readonly traceparent?: string;
  readonly requestId?: string;
}

export type RecordOutcome =
  | {
      readonly ok: true;
      readonly partition: number;
      readonly offset: number;
      readonly timestamp: number;
    }
  | {
      readonly ok: false;
      readonly partition: number | null;
      readonly code: ErrorCode;
      readonly message: string;
    };

/** The outcome of every record, in request order. Stored as-is for Idempotency-Key replays. */
export interface ProduceResult {
  readonly topic: string;
  readonly outcomes: readonly RecordOutcome[];
  /** True when this is a stored result replayed for a repeated Idempotency-Key. */
  readonly replayed: boolean;
}
