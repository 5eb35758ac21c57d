import { describe, expect, it } from 'vitest';
import { findWritten } from '../../../gateway/src/core/idempotency-settlement.js';
import type { FetchedRecord } from '../../../gateway/src/kafka/record-fetcher.js';
import type { OutgoingRecord } from '../../../gateway/src/kafka/producer.js';

const KEY = 'order-42';
const HEADER = 'idempotency-key';

function outgoing(
  partition: number,
  value: string,
  headers: Record<string, string>[] = [],
): OutgoingRecord {
  return {
    topic: 't',
    partition,
    key: null,
    value: Buffer.from(value),
    headers: [
      ...headers.map((h) => ({ ...h })),
      { [HEADER]: Buffer.from(KEY) },
      { traceparent: Buffer.from('00-a') },
    ],
    timestamp: undefined,
    size: value.length,
  };
}

function logRecord(
  partition: number,
  offset: number,
  value: string,
  headers: [string, string][] = [],
  key = KEY,
): FetchedRecord {
  return {
    topic: 't',
    partition,
    offset,
    key: null,
    value: Buffer.from(value),
    headers: [
      ...headers.map(([name, v]) => ({ name, value: Buffer.from(v) })),
      { name: HEADER, value: Buffer.from(key) },
      // Trace context of the first attempt differs from the retry's: not compared.
      { name: 'traceparent', value: Buffer.from('00-other') },
    ],
    timestamp: 1,
    size: value.length,
  };
}

function source(log: Record<number, FetchedRecord[]>, low = 0) {
  const reads: string[] = [];
  return {
    reads,
    source: {
      timeoutMs: 100,
      watermarks: async (_t: string, p: number) => ({
        low,
        high: (log[p]?.at(-1)?.offset ?? -1) + 1,
      }),
      read: async (_t: string, p: number, offset: number, max: number) => {
        reads.push(`${p}@${offset}`);
        return (log[p] ?? []).filter((r) => r.offset >= offset).slice(0, Math.min(max, 2));
      },
    },
  };
}

describe('findWritten (settling an Idempotency-Key from the log)', () => {
  it('finds the records an earlier attempt wrote, matched by content, from the recorded offsets', async () => {
    const { source: s, reads } = source({
      0: [logRecord(0, 5, 'a'), logRecord(0, 6, 'noise', [], 'other-key'), logRecord(0, 7, 'b')],
      1: [logRecord(1, 3, 'c', [['h', '1']])],
    });
    const found = await findWritten(
      s,
      't',
      KEY,
      HEADER,
      [
        { partition: 0, from: 5 },
        { partition: 1, from: 3 },
      ],
      [outgoing(2, 'a'), outgoing(2, 'b'), outgoing(2, 'c', [{ h: '1' }]), outgoing(2, 'd')],
      [0, 0, 1, 0],
    );
    expect([...found.entries()]).toEqual([
      [0, { partition: 0, offset: 5, timestamp: 1 }],
      [1, { partition: 0, offset: 7, timestamp: 1 }],
      [2, { partition: 1, offset: 3, timestamp: 1 }],
    ]);
    // Two records per read: offsets 5-6, then 7.
    expect(reads).toEqual(['0@5', '0@7', '1@3']);
  });

  it('does not take a record whose caller headers differ, nor one copy for two equal records', async () => {
    const { source: s } = source({ 0: [logRecord(0, 0, 'x', [['h', '2']]), logRecord(0, 1, 'y')] });
    const found = await findWritten(
      s,
      't',
      KEY,
      HEADER,
      [{ partition: 0, from: 0 }],
      [outgoing(0, 'x', [{ h: '1' }]), outgoing(0, 'y'), outgoing(0, 'y')],
      [1, 0, 0],
    );
    expect([...found.keys()]).toEqual([1]);
  });

  it('refuses to guess when retention deleted part of the range and a record is missing', async () => {
    const { source: s } = source({ 0: [logRecord(0, 9, 'late')] }, 8);
    await expect(
      findWritten(s, 't', KEY, HEADER, [{ partition: 0, from: 2 }], [outgoing(0, 'gone')], [0]),
    ).rejects.toMatchObject({ code: 'KGW_IDEMPOTENCY_UNVERIFIABLE' });
    // Everything found: no doubt left, whatever retention did.
    const found = await findWritten(
      s,
      't',
      KEY,
      HEADER,
      [{ partition: 0, from: 2 }],
      [outgoing(0, 'late')],
      [0],
    );
    expect(found.get(0)).toMatchObject({ offset: 9 });
  });
});
