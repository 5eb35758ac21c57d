import type { Access } from '../auth/access.js';
import { GatewayError } from '../errors.js';
import type { GroupListing } from '../kafka/admin-reads.js';
import type { CommittedEntry, GroupDescription } from '../kafka/group-coordinator.js';
import type { ClusterMetadata } from '../kafka/metadata-client.js';
import type { TopicMetadataCache } from '../kafka/topic-metadata-cache.js';

export interface GroupAdminDeps {
  readonly groups: {
    describe(group: string): Promise<GroupDescription>;
    committedAll(group: string): Promise<CommittedEntry[]>;
  };
  readonly cluster: { listGroups(brokers: readonly string[]): Promise<GroupListing[]> };
  readonly metadata: {
    fetch(timeoutMs: number): Promise<ClusterMetadata>;
    watermarks(
      topic: string,
      partition: number,
      timeoutMs: number,
    ): Promise<{ low: number; high: number }>;
  };
  readonly cache: TopicMetadataCache;
  readonly timeoutMs: number;
  /** When set, a group needs describe, and listings and lags show only what may be described. */
  readonly access?: Access;
}

export interface ConsumerGroupInfo {
  readonly groupId: string;
  /** Kafka's state name: Stable, Empty, PreparingRebalance, CompletingRebalance, Dead. */
  readonly state: string;
  /** A group that only commits offsets (no members joined through the group protocol). */
  readonly isSimple: boolean;
  readonly partitionAssignor: string;
  readonly members: GroupDescription['members'];
}

export interface PartitionLag {
  readonly topic: string;
  readonly partition: number;
  readonly committedOffset: number;
  readonly logEndOffset: number;
  readonly lag: number;
}

export interface LagSummary {
  /** The partition with the highest lag (the first such), absent without committed offsets. */
  readonly max: PartitionLag | undefined;
  readonly totalLag: number;
}

/** Groups described at once while listing: each is a DescribeGroups to its coordinator. */
const DESCRIBE_CONCURRENCY = 16;

/** Consumer groups: listing, state, and lag from committed offsets to the log end. */
export class GroupAdminService {
  readonly #deps: GroupAdminDeps;

  constructor(deps: GroupAdminDeps) {
    this.#deps = deps;
  }

  /** Every group of the cluster the principal may describe, with its state, sorted by id. */
  async list(): Promise<ConsumerGroupInfo[]> {
    const { brokers } = await this.#deps.metadata.fetch(this.#deps.timeoutMs);
    const listed = await this.#deps.cluster.listGroups(brokers.map((b) => `${b.host}:${b.port}`));
    const ids = listed.map((g) => g.groupId);
    const visible = this.#deps.access ? this.#deps.access.filter('describe', 'group', ids) : ids;
    const out: ConsumerGroupInfo[] = [];
    for (let i = 0; i < visible.length; i += DESCRIBE_CONCURRENCY) {
      const batch = visible.slice(i, i + DESCRIBE_CONCURRENCY);
      const described = await Promise.all(batch.map((g) => this.#deps.groups.describe(g)));
      batch.forEach((g, j) => out.push(info(g, described[j]!)));
    }
    return out;
  }

  /** One group; 404 KGW_CONSUMER_GROUP_NOT_FOUND when Kafka has neither members nor offsets for it. */
  async group(group: string): Promise<ConsumerGroupInfo> {
    this.#deps.access?.require('describe', 'group', group);
    const described = await this.#deps.groups.describe(group);
    if (described.state === 'Dead') {
      const committed = await this.#deps.groups.committedAll(group);
      if (committed.length === 0) throw notFound(group);
    }
    return info(group, described);
  }

  /**
   * Lag per partition the group has committed an offset for (topics the
   * principal may describe and that still exist), sorted by topic and partition.
   */
  async lags(group: string): Promise<PartitionLag[]> {
    this.#deps.access?.require('describe', 'group', group);
    const committed = await this.#committedOr404(group);
    const { access, cache, metadata, timeoutMs } = this.#deps;
    const topics = [...new Set(committed.map((c) => c.topic))];
    const existing = new Set<string>();
    await Promise.all(
      topics.map(async (t) => {
        if (access && !access.allowed('describe', 'topic', t)) return;
        if (await cache.topic(t)) existing.add(t);
      }),
    );
    return Promise.all(
      committed
        .filter((c) => existing.has(c.topic))
        .map(async (c) => {
          const { high } = await metadata.watermarks(c.topic, c.partition, timeoutMs);
          return {
            topic: c.topic,
            partition: c.partition,
            committedOffset: c.offset,
            logEndOffset: high,
            // A commit past the end (a log truncated by an unclean election) is no negative lag.
            lag: Math.max(0, high - c.offset),
          };
        }),
    );
  }

  async lagSummary(group: string): Promise<LagSummary> {
    const lags = await this.lags(group);
    let max: PartitionLag | undefined;
    let totalLag = 0;
    for (const lag of lags) {
      totalLag += lag.lag;
      if (!max || lag.lag > max.lag) max = lag;
    }
    return { max, totalLag };
  }

  async #committedOr404(group: string): Promise<CommittedEntry[]> {
    const committed = await this.#deps.groups.committedAll(group);
    if (committed.length > 0) return committed;
    const described = await this.#deps.groups.describe(group);
    if (described.state !== 'Dead') return committed;
    throw notFound(group);
  }
}

function notFound(group: string): GatewayError {
  return new GatewayError('KGW_CONSUMER_GROUP_NOT_FOUND', `consumer group '${group}' not found`, {
    details: { group },
  });
}

function info(groupId: string, d: GroupDescription): ConsumerGroupInfo {
  return {
    groupId,
    state: d.state,
    isSimple: d.protocolType === '',
    partitionAssignor: d.protocol,
    members: d.members,
  };
}
