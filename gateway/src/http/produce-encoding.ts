import type { RecordOutcome } from '../core/produce-types.js';
import { ERROR_CODES, GatewayError } from '../errors.js';

// One linear character-class scan plus a length check: the grouped form cost more than the decode itself.
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Decodes strict base64, or says which field is wrong (422 by default; v2 produce
 * asks for 400, KGW_MALFORMED_REQUEST, as Confluent's v2 answers it).
 */
export function decodeBase64(
  data: unknown,
  field: string,
  code: 'KGW_INVALID_REQUEST' | 'KGW_MALFORMED_REQUEST' = 'KGW_INVALID_REQUEST',
): Buffer {
  if (typeof data !== 'string' || data.length % 4 !== 0 || !BASE64.test(data)) {
    throw new GatewayError(code, `${field} must be a base64 string`);
  }
  return Buffer.from(data, 'base64');
}

/** A JSON-embedded key or value as bytes; null and absent stay null (a tombstone value). */
export function encodeJson(data: unknown): Buffer | null {
  return data === null || data === undefined ? null : Buffer.from(JSON.stringify(data));
}

/** When no record succeeded, the request as a whole fails with the first record's error. */
export function firstFailure(outcomes: readonly RecordOutcome[]): GatewayError | undefined {
  if (outcomes.some((o) => o.ok)) return undefined;
  const first = outcomes[0];
  return first && !first.ok ? new GatewayError(first.code, first.message) : undefined;
}

/** Confluent v2's per-record error_code: 2 when retrying may succeed, 1 when it will not. */
export function v2RecordErrorCode(outcome: Extract<RecordOutcome, { ok: false }>): number {
  return ERROR_CODES[outcome.code].retryable ? 2 : 1;
}
