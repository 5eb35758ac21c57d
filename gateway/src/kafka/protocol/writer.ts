/**
 * Writes Kafka's non-flexible primitive types (big-endian integers,
 * int16-length STRING, int32-length BYTES, int32-count ARRAY) into a growing
 * buffer. Flexible (compact, tagged) encodings are deliberately absent: this
 * client only speaks non-flexible API versions.
 */
export class RequestWriter {
  #buffer: Buffer;
  #length = 0;

  constructor(initialSize = 256) {
    this.#buffer = Buffer.allocUnsafe(initialSize);
  }

  get length(): number {
    return this.#length;
  }

  int8(value: number): this {
    this.#reserve(1).writeInt8(value, this.#length);
    this.#length += 1;
    return this;
  }

  boolean(value: boolean): this {
    return this.int8(value ? 1 : 0);
  }

  int16(value: number): this {
    this.#reserve(2).writeInt16BE(value, this.#length);
    this.#length += 2;
    return this;
  }

  int32(value: number): this {
    this.#reserve(4).writeInt32BE(value, this.#length);
    this.#length += 4;
    return this;
  }

  /** Numbers must be safe integers: a rounded offset would commit the wrong position. */
  int64(value: bigint | number): this {
    if (typeof value === 'number' && !Number.isSafeInteger(value)) {
      throw new RangeError(`int64 value ${value} is not a safe integer`);
    }
    this.#reserve(8).writeBigInt64BE(BigInt(value), this.#length);
    this.#length += 8;
    return this;
  }

  string(value: string): this {
    const size = Buffer.byteLength(value, 'utf8');
    if (size > 0x7fff) throw new RangeError(`STRING of ${size} bytes exceeds 32767`);
    this.int16(size);
    this.#reserve(size).write(value, this.#length, 'utf8');
    this.#length += size;
    return this;
  }

  nullableString(value: string | null): this {
    return value === null ? this.int16(-1) : this.string(value);
  }

  bytes(value: Uint8Array | null): this {
    if (value === null) return this.int32(-1);
    this.int32(value.length);
    this.#reserve(value.length).set(value, this.#length);
    this.#length += value.length;
    return this;
  }

  array<T>(items: readonly T[], writeItem: (writer: this, item: T) => void): this {
    this.int32(items.length);
    for (const item of items) writeItem(this, item);
    return this;
  }

  /** Overwrites an int32 already written, e.g. a size prefix known only at the end. */
  patchInt32(offset: number, value: number): this {
    this.#buffer.writeInt32BE(value, offset);
    return this;
  }

  /** The bytes written so far (a view, not a copy). */
  toBuffer(): Buffer {
    return this.#buffer.subarray(0, this.#length);
  }

  #reserve(size: number): Buffer {
    const needed = this.#length + size;
    if (needed > this.#buffer.length) {
      const grown = Buffer.allocUnsafe(Math.max(needed, this.#buffer.length * 2));
      this.#buffer.copy(grown, 0, 0, this.#length);
      this.#buffer = grown;
    }
    return this.#buffer;
  }
}
