/**
 * Redis keys of the consume path. Every key of a group shares the hash tag
 * `{<group>}`, so the scripts that touch several of them run unchanged on
 * Redis Cluster. Group, instance and topic names are restricted to
 * [A-Za-z0-9._-], so they can neither break the tag nor the `:` separators.
 */
export const consumerKeys = {
  groups: (): string => 'kgw:groups',
  /** Groups with records out, scored by when that was last seen: the worker visits these every pass. */
  activeGroups: (): string => 'kgw:groups:active',
  sessions: (group: string): string => `kgw:{${group}}:sessions`,
  /**
   * A principal's consumer instances (`<group>/<id>` → when reserved), for its cap. Its own
   * hash tag; the name is URI-encoded, so no character of it can break the tag.
   */
  principalSessions: (principal: string): string =>
    `kgw:principal:{${encodeURIComponent(principal)}}:sessions`,
  subscription: (group: string, id: string): string => `kgw:{${group}}:sub:${id}`,
  seen: (group: string): string => `kgw:{${group}}:seen`,
  partitions: (group: string): string => `kgw:{${group}}:parts`,
  wake: (group: string): string => `kgw:{${group}}:wake`,
  /** Woken when records of one partition become deliverable again (nack, window freed). */
  partitionWake: (group: string, topic: string, partition: number): string =>
    `kgw:{${group}}:w:${topic}:${partition}`,
  /** Set while native Kafka consumers are members of the group. */
  inUse: (group: string): string => `kgw:{${group}}:in-use`,
  /** Held by the one worker doing the group's background duties. */
  sweepLock: (group: string): string => `kgw:{${group}}:sweep-lock`,
  /** Held by the one instance committing the group's offsets to Kafka. */
  commitLock: (group: string): string => `kgw:{${group}}:commit`,
  /** The five keys of one partition's state, in the order the scripts expect. */
  partition: (group: string, topic: string, partition: number): PartitionKeys => {
    const tp = `${topic}:${partition}`;
    return {
      state: `kgw:{${group}}:p:${tp}`,
      inFlight: `kgw:{${group}}:if:${tp}`,
      retry: `kgw:{${group}}:rt:${tp}`,
      dead: `kgw:{${group}}:dq:${tp}`,
      delivery: `kgw:{${group}}:dl:${tp}`,
    };
  },
};

/**
 * state: hash {next, lease, epoch, leaseExp, kc/km (offset and metadata last committed to Kafka)};
 * inFlight: zset offset → ack deadline; retry: zset offset → due time;
 * dead: zset offset → when it may be claimed for the dead-letter topic;
 * delivery: hash a:<offset> → attempts so far, h:<offset> → holder,
 * e:<offset> → last error, b:<offset> → token of the dead-letter writer.
 */
export interface PartitionKeys {
  readonly state: string;
  readonly inFlight: string;
  readonly retry: string;
  readonly dead: string;
  readonly delivery: string;
}

export function partitionKeyList(keys: PartitionKeys): string[] {
  return [keys.state, keys.inFlight, keys.retry, keys.dead, keys.delivery];
}
