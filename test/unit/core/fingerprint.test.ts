import { describe, expect, it } from 'vitest';
import { produceFingerprint } from '../../../gateway/src/core/fingerprint.js';
import type { ProduceCommand } from '../../../gateway/src/core/produce-types.js';

const base: ProduceCommand = {
  topic: 't',
  delivery: 'idempotent',
  records: [{ key: Buffer.from('k'), value: Buffer.from('v') }],
};

describe('produceFingerprint', () => {
  it('is stable for the same request and ignores the Idempotency-Key itself', () => {
    expect(produceFingerprint(base)).toBe(produceFingerprint({ ...base, idempotencyKey: 'x' }));
  });

  it.each<[string, ProduceCommand]>([
    ['topic', { ...base, topic: 'u' }],
    ['delivery mode', { ...base, delivery: 'fast' }],
    ['value', { ...base, records: [{ key: Buffer.from('k'), value: Buffer.from('w') }] }],
    [
      'key vs value boundary',
      { ...base, records: [{ key: Buffer.from('kv'), value: Buffer.from('') }] },
    ],
    ['null vs empty value', { ...base, records: [{ key: Buffer.from('k'), value: null }] }],
    [
      'partition',
      { ...base, records: [{ key: Buffer.from('k'), value: Buffer.from('v'), partition: 0 }] },
    ],
    [
      'timestamp',
      { ...base, records: [{ key: Buffer.from('k'), value: Buffer.from('v'), timestamp: 1 }] },
    ],
    [
      'headers',
      {
        ...base,
        records: [
          {
            key: Buffer.from('k'),
            value: Buffer.from('v'),
            headers: [{ name: 'h', value: Buffer.from('') }],
          },
        ],
      },
    ],
    ['record count', { ...base, records: [...base.records, ...base.records] }],
  ])('changes with the %s', (_what, other) => {
    expect(produceFingerprint(other)).not.toBe(produceFingerprint(base));
  });
});
