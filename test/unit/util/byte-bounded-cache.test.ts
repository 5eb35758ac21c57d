import { describe, expect, it } from 'vitest';
import { ByteBoundedCache } from '../../../gateway/src/util/byte-bounded-cache.js';

const v = (size: number) => ({ size });

describe('ByteBoundedCache', () => {
  it('keeps the summed size within the bound, dropping the oldest first', () => {
    const cache = new ByteBoundedCache<string, { size: number }>(10);
    cache.add('a', v(4));
    cache.add('b', v(4));
    cache.add('c', v(4)); // 12 > 10: a goes
    expect([cache.has('a'), cache.has('b'), cache.has('c')]).toEqual([false, true, true]);
    expect(cache.bytes).toBe(8);
    cache.add('d', v(9)); // b and c go
    expect([cache.has('b'), cache.has('c'), cache.has('d')]).toEqual([false, false, true]);
    expect(cache.bytes).toBe(9);
  });

  it('keeps the first value and its age when a key is added again', () => {
    const cache = new ByteBoundedCache<string, { size: number; n?: number }>(10);
    cache.add('a', { size: 4, n: 1 });
    cache.add('b', v(4));
    cache.add('a', { size: 4, n: 2 });
    expect(cache.get('a')).toEqual({ size: 4, n: 1 });
    cache.add('c', v(4)); // a is still the oldest
    expect([cache.has('a'), cache.has('b'), cache.has('c')]).toEqual([false, true, true]);
  });

  it('takes a value larger than the bound by evicting everything, itself last', () => {
    const cache = new ByteBoundedCache<string, { size: number }>(10);
    cache.add('a', v(3));
    cache.add('huge', v(50));
    expect(cache.size).toBe(0);
    expect(cache.bytes).toBe(0);
  });

  it('stays bounded and fast over a million inserts into a full cache', () => {
    const cache = new ByteBoundedCache<number, { size: number }>(60_000);
    const started = performance.now();
    for (let i = 0; i < 1_000_000; i += 1) cache.add(i, v(1));
    const ms = performance.now() - started;
    expect(cache.size).toBe(60_000);
    expect(cache.has(999_999) && !cache.has(939_999)).toBe(true);
    // The eviction queue never holds much more than the live keys.
    expect(cache.queued).toBeLessThanOrEqual(2 * 60_000 + 1024);
    // Linear: a million inserts take well under a few seconds (the Map-iterator
    // eviction this replaces took 5 s for 200,000 on this machine).
    expect(ms).toBeLessThan(5000);
  });

  it('clears', () => {
    const cache = new ByteBoundedCache<string, { size: number }>(10);
    cache.add('a', v(4));
    cache.clear();
    expect([cache.size, cache.bytes, cache.queued, cache.has('a')]).toEqual([0, 0, 0, false]);
  });
});
