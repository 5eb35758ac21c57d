import { describe, expect, it } from 'vitest';
import {
  JsonStreamSplitter,
  type SplitItem,
} from '../../../gateway/src/http/json-stream-splitter.js';

function feed(splitter: JsonStreamSplitter, chunks: string[]): SplitItem[] {
  return [...chunks.flatMap((c) => splitter.push(Buffer.from(c))), ...splitter.end()];
}

describe('JsonStreamSplitter', () => {
  it('cuts concatenated objects with or without whitespace between them', () => {
    const items = feed(new JsonStreamSplitter(1000), ['{"a":1}{"b":2}\n  {"c":[1,{"d":3}]}\r\n']);
    expect(items).toEqual([
      { value: { a: 1 } },
      { value: { b: 2 } },
      { value: { c: [1, { d: 3 }] } },
    ]);
  });

  it('handles objects split at every byte, braces and quotes inside strings, escapes', () => {
    const text = '{"s":"}{\\"]["} {"u":"\\\\"}';
    const items = feed(new JsonStreamSplitter(1000), text.split(''));
    expect(items).toEqual([{ value: { s: '}{"][' } }, { value: { u: '\\' } }]);
  });

  it('reports a balanced but invalid object without stopping the stream', () => {
    const items = feed(new JsonStreamSplitter(1000), ['{bad} {"ok":true}']);
    expect(items).toEqual([
      { error: 'a record is not valid JSON', fatal: false },
      { value: { ok: true } },
    ]);
  });

  it.each([
    ['[1]', /sequence of JSON objects/],
    ['1', /sequence of JSON objects/],
    ['{"a":', /ended inside a JSON object/],
  ])('stops on %j', (text, reason) => {
    const items = feed(new JsonStreamSplitter(1000), [text]);
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ fatal: true });
    expect((items[0] as { error: string }).error).toMatch(reason);
  });

  it('refuses an object over the size limit, even across chunks, and returns nothing after', () => {
    const splitter = new JsonStreamSplitter(20);
    const items = feed(splitter, ['{"a":"0123456', '789012345678901"}', '{"b":1}']);
    expect(items).toEqual([{ error: 'a record is larger than 20 bytes', fatal: true }]);
  });
});
