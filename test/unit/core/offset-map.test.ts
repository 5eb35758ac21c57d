import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeOffsetMap,
  encodeOffsetMap,
  maxSpanFor,
} from '../../../gateway/src/core/offset-map.js';

describe('offset map in commit metadata', () => {
  it('is empty when nothing is resolved above the committed offset', () => {
    expect(encodeOffsetMap(10, 10, [])).toBe('');
    expect(decodeOffsetMap(10, '')).toEqual({ next: 10, unresolved: [] });
  });

  it('encodes out-of-order acks compactly: offset 0 unresolved, 1..9 acked', () => {
    const metadata = encodeOffsetMap(0, 10, [0]);
    expect(metadata.length).toBeLessThanOrEqual(12);
    expect(decodeOffsetMap(0, metadata)).toEqual({ next: 10, unresolved: [0] });
  });

  it('uses runs for a few gaps in a wide span', () => {
    const metadata = encodeOffsetMap(0, 20_000, [0, 1, 2, 15_000]);
    expect(metadata).toBe('kgw1:ffk:r:0.3,bkl.1');
    expect(decodeOffsetMap(0, metadata)).toEqual({ next: 20_000, unresolved: [0, 1, 2, 15_000] });
  });

  it('switches to a bitmap when alternating gaps make runs longer', () => {
    const unresolved = Array.from({ length: 500 }, (_, i) => 1000 + 2 * i);
    const metadata = encodeOffsetMap(1000, 2000, unresolved);
    expect(metadata.startsWith('kgw1:rs:b:')).toBe(true);
    expect(decodeOffsetMap(1000, metadata)).toEqual({ next: 2000, unresolved });
  });

  it('ignores metadata another client wrote', () => {
    expect(decodeOffsetMap(5, 'some consumer metadata')).toEqual({ next: 5, unresolved: [] });
    expect(decodeOffsetMap(5, 'kgw1:zz:q:1')).toEqual({ next: 5, unresolved: [] });
    expect(decodeOffsetMap(5, 'kgw1:3:r:!.?')).toEqual({ next: 5, unresolved: [] });
  });

  it('round-trips any set within the span and always fits the limit (worst case included)', () => {
    const limit = 4096;
    const span = maxSpanFor(limit);
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 40 }),
        fc.integer({ min: 1, max: span }),
        fc.array(fc.nat(), { maxLength: 2000 }),
        (committed, width, picks) => {
          const set = new Set([0, ...picks.map((p) => p % width)]);
          const unresolved = [...set].sort((a, b) => a - b).map((i) => committed + i);
          const metadata = encodeOffsetMap(committed, committed + width, unresolved);
          expect(metadata.length).toBeLessThanOrEqual(limit);
          expect(decodeOffsetMap(committed, metadata)).toEqual({
            next: committed + width,
            unresolved,
          });
        },
      ),
      { seed: 42, numRuns: 300 },
    );
    // Every other offset unresolved across the widest span: the bitmap's worst case.
    const worst = Array.from({ length: span / 2 }, (_, i) => 2 * i);
    expect(encodeOffsetMap(0, span, worst).length).toBeLessThanOrEqual(limit);
  });
});
