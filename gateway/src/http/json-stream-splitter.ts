import { exceedsJsonDepth, MAX_JSON_DEPTH } from '../util/json-depth.js';

/** One top-level JSON object cut from a stream, or why the stream cannot go on. */
export type SplitItem =
  { readonly value: unknown } | { readonly error: string; readonly fatal: boolean };

const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

function isWhitespace(byte: number): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
}

/**
 * Cuts a byte stream of concatenated JSON objects (whitespace between them
 * optional) into parsed values, without buffering more than one object. Used
 * by v3 streaming produce, where one request body carries many records.
 */
export class JsonStreamSplitter {
  readonly #maxObjectBytes: number;
  #parts: Buffer[] = [];
  #size = 0;
  #depth = 0;
  #inString = false;
  #escaped = false;
  #failed = false;

  constructor(maxObjectBytes: number) {
    this.#maxObjectBytes = maxObjectBytes;
  }

  /** Feeds a chunk; returns every object it completed. After a fatal item, nothing more is returned. */
  push(chunk: Buffer): SplitItem[] {
    const items: SplitItem[] = [];
    if (this.#failed) return items;
    let start = -1; // where the current object begins within this chunk
    for (let i = 0; i < chunk.length; i += 1) {
      const byte = chunk[i]!;
      if (this.#depth === 0) {
        if (isWhitespace(byte)) continue;
        if (byte !== OPEN_BRACE) {
          return this.#fail(items, 'the body must be a sequence of JSON objects');
        }
        start = i;
        this.#depth = 1;
        continue;
      }
      if (start === -1) start = 0;
      if (this.#inString) {
        if (this.#escaped) this.#escaped = false;
        else if (byte === BACKSLASH) this.#escaped = true;
        else if (byte === QUOTE) this.#inString = false;
        continue;
      }
      if (byte === QUOTE) this.#inString = true;
      else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) this.#depth += 1;
      else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) {
        this.#depth -= 1;
        if (this.#depth === 0) {
          const piece = chunk.subarray(start, i + 1);
          if (this.#size + piece.length > this.#maxObjectBytes) {
            return this.#fail(items, `a record is larger than ${this.#maxObjectBytes} bytes`);
          }
          this.#parts.push(piece);
          items.push(this.#parse());
          start = -1;
        }
      }
    }
    if (this.#depth > 0 && start !== -1) {
      const piece = chunk.subarray(start);
      this.#size += piece.length;
      if (this.#size > this.#maxObjectBytes)
        return this.#fail(items, `a record is larger than ${this.#maxObjectBytes} bytes`);
      this.#parts.push(piece);
    }
    return items;
  }

  /** Call at the end of the stream: reports a truncated last object. */
  end(): SplitItem[] {
    if (this.#failed || this.#depth === 0) return [];
    return this.#fail([], 'the body ended inside a JSON object');
  }

  #parse(): SplitItem {
    const text = Buffer.concat(this.#parts).toString('utf8');
    this.#parts = [];
    this.#size = 0;
    if (exceedsJsonDepth(text))
      return {
        error: `a record nests arrays or objects deeper than ${MAX_JSON_DEPTH} levels`,
        fatal: false,
      };
    try {
      return { value: JSON.parse(text) as unknown };
    } catch {
      // Braces balanced but the text is not JSON (e.g. a bare word inside): this record fails, the stream goes on.
      return { error: 'a record is not valid JSON', fatal: false };
    }
  }

  #fail(items: SplitItem[], error: string): SplitItem[] {
    this.#failed = true;
    this.#parts = [];
    items.push({ error, fatal: true });
    return items;
  }
}
