/** p50 / p99 / max of a set of latency samples, in milliseconds. */
export interface LatencySummary {
  readonly count: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

/**
 * Collects latency samples (ms) into a growable Float64Array and reports exact
 * nearest-rank percentiles; no histogram, so nothing is rounded into buckets.
 */
export class LatencySamples {
  #values: Float64Array;
  #count = 0;

  constructor(expected = 1024) {
    this.#values = new Float64Array(Math.max(16, expected));
  }

  get count(): number {
    return this.#count;
  }

  add(ms: number): void {
    if (this.#count === this.#values.length) {
      const grown = new Float64Array(this.#values.length * 2);
      grown.set(this.#values);
      this.#values = grown;
    }
    this.#values[this.#count] = ms;
    this.#count += 1;
  }

  /** Exact percentiles over every sample added so far; NaN when there are none. */
  summary(): LatencySummary {
    const sorted = this.#values.slice(0, this.#count).sort();
    return {
      count: this.#count,
      p50: percentile(sorted, 0.5),
      p99: percentile(sorted, 0.99),
      max: this.#count === 0 ? NaN : sorted[this.#count - 1]!,
    };
  }
}

/** Nearest-rank percentile (q in 0..1) of an ascending array; NaN when empty. */
export function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil(q * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}
