import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../../gateway/src/errors.js';
import { decodeV3Record } from '../../../gateway/src/http/v3-records.js';

describe('decodeV3Record', () => {
  it('decodes JSON, BINARY and STRING data, headers, partition and timestamp', () => {
    const { record, keyType, valueType } = decodeV3Record({
      partition_id: 2,
      headers: [{ name: 'h', value: Buffer.from('v').toString('base64') }],
      key: { type: 'BINARY', data: Buffer.from([1, 2]).toString('base64') },
      value: { data: { x: [1] } },
      timestamp: '2026-01-01T00:00:00Z',
    });
    expect(record).toEqual({
      key: Buffer.from([1, 2]),
      value: Buffer.from('{"x":[1]}'),
      partition: 2,
      headers: [{ name: 'h', value: Buffer.from('v') }],
      timestamp: Date.parse('2026-01-01T00:00:00Z'),
    });
    expect([keyType, valueType]).toEqual(['BINARY', 'JSON']);
    expect(decodeV3Record({ value: { type: 'STRING', data: 'hé' } }).record.value).toEqual(
      Buffer.from('hé'),
    );
    expect(decodeV3Record({}).record).toEqual({ key: null, value: null });
  });

  it.each([
    [[], /JSON object/],
    [{ nope: 1 }, /unknown record field 'nope'/],
    [{ value: 'x' }, /value must be an object/],
    [{ value: { type: 'AVRO', data: 1 } }, /JSON, BINARY or STRING/],
    [{ value: { type: 'BINARY', data: 'a b' } }, /base64/],
    [{ value: { type: 'STRING', data: 5 } }, /must be a string/],
    [{ value: { data: 1, schema_id: 3 } }, /schemas are not supported/],
    [{ partition_id: -1 }, /non-negative integer/],
    [{ partition_id: 1.5 }, /non-negative integer/],
    [{ timestamp: 'yesterday' }, /ISO 8601/],
    [{ headers: {} }, /headers must be an array/],
    [{ headers: [{ value: 'AA==' }] }, /headers\[0\]\.name/],
  ])('rejects %j with a 422 naming the field', (raw, reason) => {
    let caught: unknown;
    try {
      decodeV3Record(raw);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(GatewayError);
    expect((caught as GatewayError).code).toBe('KGW_INVALID_REQUEST');
    expect((caught as GatewayError).message).toMatch(reason);
  });
});
