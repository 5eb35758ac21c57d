/**
 * A Map bounded by the summed `size` of its values that drops the oldest
 * insertions first. Eviction reads the insertion order from its own queue:
 * taking the oldest key from the Map's iterator would walk every entry deleted
 * before it (V8 keeps them as holes until the table is rebuilt), which made a
 * full cache's every insert cost time proportional to what it had evicted.
 */
export class ByteBoundedCache<K, V extends { readonly size: number }> {
  readonly #maxBytes: number;
  readonly #entries = new Map<K, V>();
  /** Keys oldest first; those before #head were consumed. */
  #order: K[] = [];
  #head = 0;
  #bytes = 0;

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  get(key: K): V | undefined {
    return this.#entries.get(key);
  }

  has(key: K): boolean {
    return this.#entries.has(key);
  }

  /** Adds a value (a key already present keeps its value and age); evicts the oldest past the bound. */
  add(key: K, value: V): void {
    if (this.#entries.has(key)) return;
    this.#entries.set(key, value);
    this.#order.push(key);
    this.#bytes += value.size;
    while (this.#bytes > this.#maxBytes && this.#head < this.#order.length) {
      const oldest = this.#order[this.#head]!;
      this.#head += 1;
      const old = this.#entries.get(oldest);
      if (old === undefined) continue;
      this.#entries.delete(oldest);
      this.#bytes -= old.size;
    }
    // The queue holds at most about twice the live keys.
    if (this.#head > 1024 && this.#head * 2 > this.#order.length) {
      this.#order = this.#order.slice(this.#head);
      this.#head = 0;
    }
  }

  clear(): void {
    this.#entries.clear();
    this.#order = [];
    this.#head = 0;
    this.#bytes = 0;
  }

  get bytes(): number {
    return this.#bytes;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Keys queued for eviction order (live and already evicted), for tests of the bound. */
  get queued(): number {
    return this.#order.length - this.#head;
  }
}
