import type { InFlightView } from './strategy.js';

/** Counts produce requests in flight per broker id, for least-connections balancing. */
export class InFlightTracker implements InFlightView {
  // Brokers at zero are deleted so the map only holds busy brokers.
  readonly #counts = new Map<number, number>();

  begin(brokerId: number): void {
    this.#counts.set(brokerId, this.inFlight(brokerId) + 1);
  }

  /** Ends one request; never goes below zero, so a duplicate `end` cannot skew later picks. */
  end(brokerId: number): void {
    const count = this.inFlight(brokerId);
    if (count <= 1) this.#counts.delete(brokerId);
    else this.#counts.set(brokerId, count - 1);
  }

  inFlight(brokerId: number): number {
    return this.#counts.get(brokerId) ?? 0;
  }

  /** A copy, so callers (metrics, logs) cannot change or observe later counts. */
  snapshot(): ReadonlyMap<number, number> {
    return new Map(this.#counts);
  }
}
