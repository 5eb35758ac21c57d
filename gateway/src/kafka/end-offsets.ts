/** Reads a partition's watermarks (first offset, next offset to be written). */
export type WatermarkReader = (
  topic: string,
  partition: number,
  timeoutMs: number,
) => Promise<{ low: number; high: number }>;

export interface EndOffsetsOptions {
  readonly watermarks: WatermarkReader;
  readonly timeoutMs: number;
  /** How old an observed end offset may be and still serve as a lower bound. */
  readonly maxAgeMs: number;
  /** Partitions remembered; the one first seen is forgotten first. */
  readonly maxEntries: number;
  readonly now?: () => number;
}

/**
 * Lower bounds of partitions' end offsets: any end offset seen before a write
 * is at or below where that write lands, so a recent one (from a delivery
 * report or a watermark query) bounds where to start looking for it. Keeps
 * the bounds fresh so that reading from one covers only a few seconds of the
 * partition's traffic; concurrent queries for one partition share a request.
 */
export class EndOffsets {
  readonly #options: EndOffsetsOptions;
  /** Insertion order: the first-seen partition is forgotten first. */
  readonly #seen = new Map<string, { offset: number; at: number }>();
  readonly #querying = new Map<string, Promise<number>>();

  constructor(options: EndOffsetsOptions) {
    this.#options = options;
  }

  #now(): number {
    return this.#options.now?.() ?? Date.now();
  }

  /** A record was written at `offset`: the end is past it. */
  observe(topic: string, partition: number, nextOffset: number): void {
    const key = `${topic}\u0000${partition}`;
    const at = this.#now();
    const prior = this.#seen.get(key);
    if (prior) {
      // Called for every delivered record: update in place, no allocation.
      if (nextOffset > prior.offset) prior.offset = nextOffset;
      prior.at = at;
      return;
    }
    this.#seen.set(key, { offset: nextOffset, at });
    if (this.#seen.size > this.#options.maxEntries) {
      const oldest = this.#seen.keys().next().value;
      if (oldest !== undefined) this.#seen.delete(oldest);
    }
  }

  /** An offset at or below where a record written from now on lands. */
  async lowerBound(topic: string, partition: number): Promise<number> {
    const key = `${topic}\u0000${partition}`;
    const seen = this.#seen.get(key);
    if (seen && this.#now() - seen.at <= this.#options.maxAgeMs) return seen.offset;
    let query = this.#querying.get(key);
    if (!query) {
      query = this.#options
        .watermarks(topic, partition, this.#options.timeoutMs)
        .then(({ high }) => {
          this.observe(topic, partition, high);
          return high;
        })
        .finally(() => this.#querying.delete(key));
      this.#querying.set(key, query);
    }
    return query;
  }
}
