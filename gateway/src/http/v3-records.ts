import type { HeaderInput, RecordInput } from '../core/produce-types.js';
import { GatewayError } from '../errors.js';
import { decodeBase64, encodeJson } from './produce-encoding.js';

/** Confluent v3 produce records: {partition_id, headers, key, value, timestamp} with typed key and value. */

export type DataType = 'JSON' | 'BINARY' | 'STRING';

interface V3Data {
  type?: DataType;
  data?: unknown;
}

export interface DecodedRecord {
  readonly record: RecordInput;
  readonly keyType: DataType;
  readonly valueType: DataType;
}

export function decodeV3Record(raw: unknown): DecodedRecord {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new GatewayError('KGW_INVALID_REQUEST', 'a record must be a JSON object');
  }
  const r = raw as Record<string, unknown>;
  for (const field of Object.keys(r)) {
    if (!['partition_id', 'headers', 'key', 'value', 'timestamp'].includes(field)) {
      throw new GatewayError('KGW_INVALID_REQUEST', `unknown record field '${field}'`);
    }
  }
  const key = decodeData(r.key, 'key');
  const value = decodeData(r.value, 'value');
  const record: { -readonly [K in keyof RecordInput]: RecordInput[K] } = {
    key: key.bytes,
    value: value.bytes,
  };
  if (r.partition_id !== undefined && r.partition_id !== null) {
    if (!Number.isInteger(r.partition_id) || (r.partition_id as number) < 0) {
      throw new GatewayError('KGW_INVALID_REQUEST', 'partition_id must be a non-negative integer');
    }
    record.partition = r.partition_id as number;
  }
  if (r.headers !== undefined) record.headers = decodeHeaders(r.headers);
  if (r.timestamp !== undefined && r.timestamp !== null) {
    const ms = typeof r.timestamp === 'string' ? Date.parse(r.timestamp) : NaN;
    if (Number.isNaN(ms) || ms < 0)
      throw new GatewayError('KGW_INVALID_REQUEST', 'timestamp must be an ISO 8601 date-time');
    record.timestamp = ms;
  }
  return { record, keyType: key.type, valueType: value.type };
}

function decodeData(raw: unknown, field: string): { bytes: Buffer | null; type: DataType } {
  if (raw === undefined || raw === null) return { bytes: null, type: 'JSON' };
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new GatewayError(
      'KGW_INVALID_REQUEST',
      `${field} must be an object like {"type":"JSON","data":…}`,
    );
  }
  const { type = 'JSON', data, ...rest } = raw as V3Data & Record<string, unknown>;
  if (Object.keys(rest).length > 0) {
    throw new GatewayError(
      'KGW_INVALID_REQUEST',
      `${field} supports only type and data (schemas are not supported)`,
    );
  }
  switch (type) {
    case 'JSON':
      return { bytes: encodeJson(data), type };
    case 'BINARY':
      return {
        bytes: data === null || data === undefined ? null : decodeBase64(data, `${field}.data`),
        type,
      };
    case 'STRING':
      if (data !== null && data !== undefined && typeof data !== 'string') {
        throw new GatewayError(
          'KGW_INVALID_REQUEST',
          `${field}.data must be a string for type STRING`,
        );
      }
      return { bytes: data === null || data === undefined ? null : Buffer.from(data), type };
    default:
      throw new GatewayError('KGW_INVALID_REQUEST', `${field}.type must be JSON, BINARY or STRING`);
  }
}

function decodeHeaders(raw: unknown): HeaderInput[] {
  if (!Array.isArray(raw))
    throw new GatewayError('KGW_INVALID_REQUEST', 'headers must be an array');
  return raw.map((h: unknown, i) => {
    const header = h as { name?: unknown; value?: unknown } | null;
    if (typeof header?.name !== 'string' || header.name === '') {
      throw new GatewayError(
        'KGW_INVALID_REQUEST',
        `headers[${i}].name must be a non-empty string`,
      );
    }
    const value =
      header.value === null || header.value === undefined
        ? Buffer.alloc(0)
        : decodeBase64(header.value, `headers[${i}].value`);
    return { name: header.name, value };
  });
}
