/**
 * Partition selection for the produce path. Strategies are registered by name
 * (as grpc-js registers load balancers) so config can choose one.
 */
import { LeastConnectionsStrategy } from './least-connections.js';
import { RoundRobinStrategy } from './round-robin.js';
import type { BalancerStrategy, InFlightView } from './strategy.js';

export type { BalancerStrategy, InFlightView, PartitionView, TopicView } from './strategy.js';
export { InFlightTracker } from './in-flight-tracker.js';
export { keyPartition, murmur2, toPositive } from './murmur2.js';
export { LeastConnectionsStrategy } from './least-connections.js';
export { RoundRobinStrategy } from './round-robin.js';

export const STRATEGY_NAMES = ['round-robin', 'least-connections'] as const;
export type StrategyName = (typeof STRATEGY_NAMES)[number];

/** What a strategy may need; every strategy gets the same deps and takes what it uses. */
export interface StrategyDeps {
  readonly inFlight: InFlightView;
}

// A mapped type over StrategyName: adding a name without a factory fails to compile.
const FACTORIES: { readonly [N in StrategyName]: (deps: StrategyDeps) => BalancerStrategy } = {
  'round-robin': () => new RoundRobinStrategy(),
  'least-connections': (deps) => new LeastConnectionsStrategy(deps.inFlight),
};

/** True when `name` is a registered strategy name (for validating config). */
export function isStrategyName(name: string): name is StrategyName {
  return (STRATEGY_NAMES as readonly string[]).includes(name);
}

/** A fresh strategy instance by name; each holds its own rotation state. */
export function createStrategy(name: StrategyName, deps: StrategyDeps): BalancerStrategy {
  // Guards untyped callers; hasOwn so names like 'constructor' are not found on the prototype.
  if (!Object.hasOwn(FACTORIES, name)) {
    throw new RangeError(
      `unknown balancer strategy "${name}", expected one of: ${STRATEGY_NAMES.join(', ')}`,
    );
  }
  return FACTORIES[name](deps);
}
