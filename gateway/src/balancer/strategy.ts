/**
 * The balancer's view of a topic and the contract every partition-picking
 * strategy implements, plus the rotation both built-in strategies share.
 */

/** A partition as the balancer sees it: its id and its leader broker (-1 when leaderless). */
export interface PartitionView {
  readonly id: number;
  readonly leader: number;
}

/** A topic as the balancer sees it: its name and current partition → leader layout. */
export interface TopicView {
  readonly name: string;
  readonly partitions: readonly PartitionView[];
}

/**
 * Picks a partition for a record with neither key nor explicit partition.
 *
 * `pick` returns a partition id whose leader is >= 0. When no partition has a
 * leader it returns the lowest partition id overall: librdkafka queues the
 * record until a leader appears, so refusing here would only fail a record the
 * client could still deliver. It throws a RangeError for a topic with no partitions.
 */
export interface BalancerStrategy {
  readonly name: string;
  pick(topic: TopicView): number;
}

/** Produce requests this instance has in flight per broker id. */
export interface InFlightView {
  inFlight(brokerId: number): number;
}

/** Smallest id after `last` in an ascending list, wrapping to the first; the first when `last` is unset. */
export function nextAfter(sorted: readonly number[], last: number | undefined): number {
  if (last !== undefined) {
    for (const id of sorted) if (id > last) return id;
  }
  return sorted[0];
}

interface RotationState {
  lastBroker: number | undefined;
  readonly lastPartition: Map<number, number>;
}

/**
 * Base of the built-in strategies: groups a topic's partitions by leader,
 * lets the subclass choose a broker, then rotates across that broker's partitions.
 *
 * Rotation remembers the last broker and partition ids picked, not list
 * positions, and moves to the next larger id. So when leaders move or
 * partitions are added between calls, the sequence carries on from where it was
 * and every broker and partition is still reached in turn; none is skipped forever.
 */
export abstract class LeaderRotationStrategy implements BalancerStrategy {
  abstract readonly name: string;
  // Keyed by topic name; bounded by the topics this instance produces to.
  readonly #state = new Map<string, RotationState>();

  /** Chooses one of `brokers` (ascending, non-empty); `last` is the broker chosen last time for this topic. */
  protected abstract chooseBroker(brokers: readonly number[], last: number | undefined): number;

  pick(topic: TopicView): number {
    const byLeader = groupByLeader(topic);
    if (byLeader.size === 0) return lowestPartition(topic);

    let state = this.#state.get(topic.name);
    if (state === undefined) {
      state = { lastBroker: undefined, lastPartition: new Map() };
      this.#state.set(topic.name, state);
    }
    const brokers = [...byLeader.keys()].sort(ascending);
    const broker = this.chooseBroker(brokers, state.lastBroker);
    const partition = nextAfter(byLeader.get(broker)!, state.lastPartition.get(broker));
    state.lastBroker = broker;
    state.lastPartition.set(broker, partition);
    return partition;
  }
}

function ascending(a: number, b: number): number {
  return a - b;
}

/** Leader broker id → its partition ids ascending; leaderless partitions left out. */
function groupByLeader(topic: TopicView): Map<number, number[]> {
  const byLeader = new Map<number, number[]>();
  for (const { id, leader } of topic.partitions) {
    if (leader < 0) continue;
    const ids = byLeader.get(leader);
    if (ids === undefined) byLeader.set(leader, [id]);
    else ids.push(id);
  }
  for (const ids of byLeader.values()) ids.sort(ascending);
  return byLeader;
}

function lowestPartition(topic: TopicView): number {
  if (topic.partitions.length === 0) {
    throw new RangeError(`topic ${topic.name} has no partitions`);
  }
  return Math.min(...topic.partitions.map((p) => p.id));
}
