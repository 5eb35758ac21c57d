import { describe, expect, it } from 'vitest';
import { EndOffsets } from '../../../gateway/src/kafka/end-offsets.js';

function setup(high: number) {
  let now = 1_000;
  const queries: string[] = [];
  const ends = new EndOffsets({
    watermarks: async (topic, partition) => {
      queries.push(`${topic}/${partition}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
      return { low: 0, high };
    },
    timeoutMs: 100,
    maxAgeMs: 5000,
    maxEntries: 2,
    now: () => now,
  });
  return { ends, queries, advance: (ms: number) => (now += ms) };
}

describe('EndOffsets', () => {
  it('asks Kafka once for concurrent callers, then serves the answer while it is fresh', async () => {
    const { ends, queries, advance } = setup(40);
    const bounds = await Promise.all([ends.lowerBound('t', 0), ends.lowerBound('t', 0)]);
    expect(bounds).toEqual([40, 40]);
    advance(4_000);
    expect(await ends.lowerBound('t', 0)).toBe(40);
    expect(queries).toEqual(['t/0']);
    advance(2_000);
    await ends.lowerBound('t', 0);
    expect(queries).toEqual(['t/0', 't/0']);
  });

  it('takes delivery reports as fresh bounds and never moves a bound down', async () => {
    const { ends, queries } = setup(10);
    ends.observe('t', 1, 77);
    ends.observe('t', 1, 70);
    expect(await ends.lowerBound('t', 1)).toBe(77);
    expect(queries).toEqual([]);
  });

  it('forgets the least recently observed partition beyond maxEntries', async () => {
    const { ends, queries } = setup(5);
    ends.observe('t', 0, 1);
    ends.observe('t', 1, 1);
    ends.observe('t', 2, 1);
    expect(await ends.lowerBound('t', 2)).toBe(1);
    expect(await ends.lowerBound('t', 0)).toBe(5);
    expect(queries).toEqual(['t/0']);
  });
});
