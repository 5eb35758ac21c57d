import { ProtocolError } from './errors.js';

/**
 * Reads Kafka's non-flexible primitive types from one response. Every read is
 * bounds-checked so a short or corrupt frame surfaces as a ProtocolError
 * instead of a RangeError from deep inside Buffer.
 */
export class ResponseReader {
  readonly #buffer: Buffer;
  #offset: number;

  constructor(buffer: Buffer, offset = 0) {
    this.#buffer = buffer;
    this.#offset = offset;
  }

  get remaining(): number {
    return this.#buffer.length - this.#offset;
  }

  int8(): number {
    return this.#take(1).readInt8(this.#offset - 1);
  }

  boolean(): boolean {
    return this.int8() !== 0;
  }

  int16(): number {
    return this.#take(2).readInt16BE(this.#offset - 2);
  }

  int32(): number {
    return this.#take(4).readInt32BE(this.#offset - 4);
  }

  int64(): bigint {
    return this.#take(8).readBigInt64BE(this.#offset - 8);
  }

  /** An int64 that must fit a JS number exactly (offsets do, in practice). */
  int64Number(): number {
    const value = this.int64();
    if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw new ProtocolError(`int64 ${value} does not fit a safe integer`);
    }
    return Number(value);
  }

  string(): string {
    const value = this.nullableString();
    if (value === null) throw new ProtocolError('null where a STRING was expected');
    return value;
  }

  nullableString(): string | null {
    const size = this.int16();
    if (size < 0) return null;
    const start = this.#offset;
    return this.#take(size).toString('utf8', start, start + size);
  }

  /** BYTES as a copy, so a kept value does not pin the whole response buffer. */
  bytes(): Buffer | null {
    const size = this.int32();
    if (size < 0) return null;
    const start = this.#offset;
    return Buffer.from(this.#take(size).subarray(start, start + size));
  }

  /** Skips BYTES whose content is not needed. */
  skipBytes(): void {
    const size = this.int32();
    if (size > 0) this.#take(size);
  }

  /** A null array (count -1) reads as empty: no API used here gives null a distinct meaning. */
  array<T>(readItem: (reader: this) => T): T[] {
    const count = this.int32();
    if (count > this.remaining) throw new ProtocolError(`ARRAY count ${count} exceeds the frame`);
    const items: T[] = [];
    for (let i = 0; i < count; i += 1) items.push(readItem(this));
    return items;
  }

  /** Advances past `size` bytes and returns the buffer to read them from. */
  #take(size: number): Buffer {
    if (this.#offset + size > this.#buffer.length) {
      throw new ProtocolError(
        `response ended early: needed ${size} bytes at ${this.#offset} of ${this.#buffer.length}`,
      );
    }
    this.#offset += size;
    return this.#buffer;
  }
}
