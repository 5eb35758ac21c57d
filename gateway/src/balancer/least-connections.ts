import type { InFlightView } from './strategy.js';
import { LeaderRotationStrategy, nextAfter } from './strategy.js';

/**
 * Sends to the leader broker with the fewest produce requests in flight from
 * this instance, so a slow broker gets less new work. Ties rotate in broker id
 * order, so equal load still spreads; partitions rotate within the broker.
 * Whoever sends the request calls `begin`/`end` on the tracker; this only reads it.
 */
export class LeastConnectionsStrategy extends LeaderRotationStrategy {
  readonly name = 'least-connections';
  readonly #inFlight: InFlightView;

  constructor(inFlight: InFlightView) {
    super();
    this.#inFlight = inFlight;
  }

  protected chooseBroker(brokers: readonly number[], last: number | undefined): number {
    let fewest = Infinity;
    let idlest: number[] = [];
    for (const broker of brokers) {
      const load = this.#inFlight.inFlight(broker);
      if (load < fewest) {
        fewest = load;
        idlest = [broker];
      } else if (load === fewest) {
        idlest.push(broker);
      }
    }
    return nextAfter(idlest, last);
  }
}
