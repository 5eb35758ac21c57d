import { LeaderRotationStrategy, nextAfter } from './strategy.js';

/** Rotates across a topic's leader brokers in id order, then across each broker's partitions. */
export class RoundRobinStrategy extends LeaderRotationStrategy {
  readonly name = 'round-robin';

  protected chooseBroker(brokers: readonly number[], last: number | undefined): number {
    return nextAfter(brokers, last);
  }
}
