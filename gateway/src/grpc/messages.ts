import { MAX_EXTEND_MS, type DeliveredRecord, type RecordRef } from '../core/consume-types.js';
import type { DeliveryMode, RecordInput, RecordOutcome } from '../core/produce-types.js';
import type { SessionOptions } from '../core/session-service.js';
import { errorMessage } from './grpc-errors.js';
import { GatewayError } from '../errors.js';

/** Shapes of the proto messages as @grpc/proto-loader hands them over (camelCase, longs as numbers, enums as strings). */
export interface ProtoHeader {
  name: string;
  value: Buffer;
}

export interface ProtoRecord {
  key?: Buffer | null;
  value?: Buffer | null;
  partition?: number | null;
  headers?: ProtoHeader[];
  timestampMs?: number | null;
}

export interface ProtoRecordRef {
  topic: string;
  partition: number;
  offset: number;
  attempt?: number;
}

export interface ProtoConsumerOptions {
  mode?: string;
  autoOffsetReset?: string;
  autoCommit?: boolean;
  ackTimeoutMs?: number;
  maxAttempts?: number;
  deadLetterTopic?: string;
  leaseTimeoutMs?: number;
  ackDurability?: string;
}

export function deliveryMode(value: string | undefined): DeliveryMode {
  return value === 'DELIVERY_MODE_FAST' ? 'fast' : 'idempotent';
}

export function recordInput(r: ProtoRecord | undefined): RecordInput {
  const record: { -readonly [K in keyof RecordInput]: RecordInput[K] } = {
    key: r?.key ?? null,
    value: r?.value ?? null,
  };
  if (r?.partition !== undefined && r.partition !== null) record.partition = r.partition;
  if (r?.headers?.length) record.headers = r.headers.map((h) => ({ name: h.name, value: h.value }));
  if (r?.timestampMs !== undefined && r.timestampMs !== null) record.timestamp = r.timestampMs;
  return record;
}

export function recordResult(o: RecordOutcome): Record<string, unknown> {
  return o.ok
    ? { partition: o.partition, offset: o.offset, timestampMs: o.timestamp }
    : { partition: o.partition ?? -1, offset: -1, error: errorMessage(o.code, o.message) };
}

export function consumedRecord(d: DeliveredRecord): Record<string, unknown> {
  const { record } = d;
  return {
    topic: record.topic,
    partition: record.partition,
    offset: record.offset,
    ...(record.key === null ? {} : { key: record.key }),
    ...(record.value === null ? {} : { value: record.value }),
    headers: record.headers.map((h) => ({ name: h.name, value: h.value })),
    timestampMs: record.timestamp,
    attempt: d.attempt,
  };
}

export function recordRefs(refs: ProtoRecordRef[] | undefined): RecordRef[] {
  return (refs ?? []).map((r) => ({
    topic: r.topic,
    partition: r.partition,
    offset: r.offset,
    ...(r.attempt ? { attempt: r.attempt } : {}),
  }));
}

/** Session settings from the proto, with the REST defaults for what is unset. */
export function sessionOptions(
  options: ProtoConsumerOptions | undefined,
  defaults: {
    ackTimeoutMs: number;
    maxAttempts: number;
    requestTimeoutMs: number;
    leaseTimeoutMs: number;
  },
  name?: string,
): SessionOptions {
  return {
    ...(name ? { name } : {}),
    format: 'binary',
    mode: options?.mode === 'shared' ? 'shared' : 'ordered',
    autoOffsetReset: options?.autoOffsetReset === 'earliest' ? 'earliest' : 'latest',
    autoCommit: options?.autoCommit ?? false,
    ackTimeoutMs: options?.ackTimeoutMs || defaults.ackTimeoutMs,
    maxAttempts: options?.maxAttempts || defaults.maxAttempts,
    deadLetterTopic: options?.deadLetterTopic || null,
    requestTimeoutMs: defaults.requestTimeoutMs,
    leaseTimeoutMs: options?.leaseTimeoutMs || defaults.leaseTimeoutMs,
    ...(options?.ackDurability === 'redis' ? { ackDurability: 'redis' as const } : {}),
  };
}

/** extend_ms of an Extend request, checked: 1 ms to MAX_EXTEND_MS. */
export function extendMs(value: number): number {
  if (!Number.isInteger(value) || value < 1 || value > MAX_EXTEND_MS) {
    throw new GatewayError(
      'KGW_INVALID_REQUEST',
      `extend_ms must be an integer from 1 to ${MAX_EXTEND_MS}`,
    );
  }
  return value;
}
