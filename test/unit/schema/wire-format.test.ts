import { describe, expect, it } from 'vitest';
import { messageIndexes } from '../../../gateway/src/schema/wire-format.js';

// Confluent's protobuf message indexes are zigzag varints: n → 2n (n ≥ 0).
describe('messageIndexes', () => {
  it.each([
    ['the single byte 0: the first message', [0x00, 0xaa], [0], [0xaa]],
    ['count 1, index 2', [0x02, 0x04, 0xaa], [2], [0xaa]],
    ['count 2, indexes 1 then 0', [0x04, 0x02, 0x00], [1, 0], []],
    ['count 1, index 64 (two-byte varint)', [0x02, 0x80, 0x01, 0xaa], [64], [0xaa]],
  ])('%s', (_name, bytes, indexes, rest) => {
    const got = messageIndexes(Buffer.from(bytes));
    expect(got.indexes).toEqual(indexes);
    expect([...got.rest]).toEqual(rest);
  });

  it('refuses indexes that run past the end', () => {
    expect(() => messageIndexes(Buffer.from([0x04, 0x02]))).toThrow(/past the end/);
  });
});
