import { isGatewayError } from '../errors.js';
import type { GroupClients } from '../kafka/group-clients.js';
import type { SessionStore } from '../store/session-store.js';
import type { PartitionStore, TopicPartition } from '../store/partition-store.js';

/**
 * Moves a group's Kafka committed offsets up to the lowest record not yet
 * acked (never down), so Kafka's own tools show the group's true lag.
 */
export class OffsetCommitter {
  readonly #partitions: PartitionStore;
  readonly #groups: GroupClients;

  readonly #sessions: SessionStore;

  constructor(partitions: PartitionStore, groups: GroupClients, sessions: SessionStore) {
    this.#partitions = partitions;
    this.#groups = groups;
    this.#sessions = sessions;
  }

  /** Commits the partitions whose lowest unacked offset moved; returns how many it committed. */
  async commit(group: string, tps: readonly TopicPartition[]): Promise<number> {
    if (tps.length === 0) return 0;
    const points = await this.#partitions.commitPoints(group, tps);
    const due = tps
      .map((tp, i) => ({ ...tp, offset: points[i]!.lowestUnacked, last: points[i]!.committed }))
      .filter((p) => p.offset >= 0 && p.offset > p.last);
    if (due.length === 0) return 0;
    try {
      await this.#groups.commit(group, due);
    } catch (err) {
      // Native consumers joined: stop serving the group so records are not consumed twice.
      if (isGatewayError(err) && err.code === 'KGW_GROUP_IN_USE')
        await this.#sessions.markGroupInUse(group, 60_000);
      throw err;
    }
    await Promise.all(due.map((p) => this.#partitions.markCommitted(group, p, p.offset)));
    return due.length;
  }
}
