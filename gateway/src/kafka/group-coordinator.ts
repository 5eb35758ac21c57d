import { GatewayError } from '../errors.js';
import { BrokerPool, type BrokerPoolOptions } from './broker-pool.js';
import type { BrokerConnection } from './protocol/broker-connection.js';
import {
  DESCRIBE_GROUPS,
  decodeDescribeGroupsResponse,
  encodeDescribeGroupsRequest,
} from './protocol/describe-groups.js';
import { KafkaErrorCode, ProtocolError, checkKafkaCode } from './protocol/errors.js';
import {
  FIND_COORDINATOR,
  decodeFindCoordinatorResponse,
  encodeFindCoordinatorRequest,
} from './protocol/find-coordinator.js';
import {
  OFFSET_COMMIT,
  decodeOffsetCommitResponse,
  encodeOffsetCommitRequest,
  type OffsetCommitPartition,
} from './protocol/offset-commit.js';
import {
  OFFSET_FETCH,
  decodeOffsetFetchResponse,
  encodeOffsetFetchRequest,
  type OffsetFetchPartitionResult,
} from './protocol/offset-fetch.js';
import { firstPartitionError, translateGroupError } from './protocol/translate-error.js';

export interface CommitEntry {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly metadata: string;
}

export interface CommittedEntry {
  readonly topic: string;
  readonly partition: number;
  /** -1 when the group has none */
  readonly offset: number;
  readonly metadata: string;
}

export interface GroupMemberInfo {
  readonly memberId: string;
  readonly clientId: string;
  readonly clientHost: string;
}

export interface GroupDescription {
  readonly state: string;
  readonly protocolType: string;
  /** The assignor of a consumer group ('range', 'cooperative-sticky'…); '' when none. */
  readonly protocol: string;
  readonly members: readonly GroupMemberInfo[];
}

export type GroupCoordinatorOptions = BrokerPoolOptions;

/** Groups whose coordinator address is remembered; the oldest is forgotten past this. */
const MAX_CACHED_COORDINATORS = 10_000;

function key(topic: string, partition: number): string {
  return `${partition}:${topic}`;
}

/** Commits and reads a group's offsets (with metadata) and describes the group, without joining it. */
export class GroupCoordinatorClient {
  readonly #pool: BrokerPool;
  /** Group id → coordinator address; dropped whenever the coordinator seems to have moved. */
  readonly #coordinators = new Map<string, string>();

  constructor(options: GroupCoordinatorOptions) {
    this.#pool = new BrokerPool(options, 'group-coordinator');
  }

  /** Commits each entry's offset (the next offset to read) with its metadata string. */
  async commit(group: string, entries: readonly CommitEntry[]): Promise<void> {
    this.#checkGroup(group);
    for (const e of entries) {
      this.#checkPartition(e);
      if (!Number.isSafeInteger(e.offset) || e.offset < 0) {
        throw new GatewayError('KGW_INVALID_REQUEST', `offset ${e.offset} is not valid`);
      }
      // The wire format's int16 length caps metadata before the broker's own, smaller limit does.
      if (Buffer.byteLength(e.metadata, 'utf8') > 0x7fff) {
        throw new GatewayError('KGW_INVALID_REQUEST', 'the offset metadata is too long for Kafka');
      }
    }
    if (entries.length === 0) return;
    const byTopic = new Map<string, OffsetCommitPartition[]>();
    for (const e of entries) {
      const partitions = byTopic.get(e.topic) ?? [];
      partitions.push({ partition: e.partition, offset: e.offset, metadata: e.metadata });
      byTopic.set(e.topic, partitions);
    }
    const topics = [...byTopic].map(([topic, partitions]) => ({ topic, partitions }));
    await this.#call(group, 'commit offsets', async (broker, deadline) => {
      const results = await broker.request(
        OFFSET_COMMIT,
        (w, version) => encodeOffsetCommitRequest(w, version, group, topics),
        decodeOffsetCommitResponse,
        deadline,
      );
      const failed = firstPartitionError(OFFSET_COMMIT.name, results);
      if (failed) throw failed;
    });
  }

  /** The group's committed offsets and metadata, in the order of `tps`. */
  async committed(
    group: string,
    tps: ReadonlyArray<{ topic: string; partition: number }>,
  ): Promise<CommittedEntry[]> {
    this.#checkGroup(group);
    tps.forEach((tp) => this.#checkPartition(tp));
    if (tps.length === 0) return [];
    const byTopic = new Map<string, Set<number>>();
    for (const tp of tps) {
      byTopic.set(tp.topic, (byTopic.get(tp.topic) ?? new Set()).add(tp.partition));
    }
    const topics = [...byTopic].map(([topic, set]) => ({ topic, partitions: [...set] }));
    const result = await this.#fetchOffsets(group, topics);
    const found = new Map(result.map((p) => [key(p.topic, p.partition), p]));
    return tps.map(({ topic, partition }) => {
      const p = found.get(key(topic, partition));
      if (!p) {
        throw translateGroupError(
          new ProtocolError(`OffsetFetch left out topic '${topic}' partition ${partition}`),
          group,
          'read committed offsets',
        );
      }
      return { topic, partition, offset: p.offset < 0 ? -1 : p.offset, metadata: p.metadata ?? '' };
    });
  }

  /** Every partition the group has a committed offset for (OffsetFetch with no topic list, v2+). */
  async committedAll(group: string): Promise<CommittedEntry[]> {
    this.#checkGroup(group);
    const partitions = await this.#fetchOffsets(group, null);
    return partitions
      .filter((p) => p.offset >= 0)
      .map((p) => ({
        topic: p.topic,
        partition: p.partition,
        offset: p.offset,
        metadata: p.metadata ?? '',
      }))
      .sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
  }

  /**
   * The group's state and members; a group Kafka does not know is 'Dead' with no members.
   * Classic-protocol members only: DescribeGroups (v0-v4) shows a KIP-848 group
   * (group.protocol=consumer) as 'Dead' too; commit() still refuses such a group.
   */
  async describe(group: string): Promise<GroupDescription> {
    this.#checkGroup(group);
    return this.#call(group, 'describe the group', async (broker, deadline) => {
      const groups = await broker.request(
        DESCRIBE_GROUPS,
        (w, version) => encodeDescribeGroupsRequest(w, version, [group]),
        decodeDescribeGroupsResponse,
        deadline,
      );
      const described = groups.find((g) => g.groupId === group) ?? groups[0];
      if (!described) throw new ProtocolError('DescribeGroups answered no group');
      if (described.errorCode === KafkaErrorCode.GROUP_ID_NOT_FOUND) {
        return { state: 'Dead', protocolType: '', protocol: '', members: [] };
      }
      checkKafkaCode(DESCRIBE_GROUPS.name, described.errorCode, `group '${group}'`);
      return {
        state: described.state,
        protocolType: described.protocolType,
        protocol: described.protocol,
        members: described.members.map((m) => ({
          memberId: m.memberId,
          clientId: m.clientId,
          clientHost: m.clientHost,
        })),
      };
    });
  }

  /** OffsetFetch for these topics (null: every partition the group committed), errors raised. */
  #fetchOffsets(
    group: string,
    topics: Parameters<typeof encodeOffsetFetchRequest>[3],
  ): Promise<readonly OffsetFetchPartitionResult[]> {
    return this.#call(group, 'read committed offsets', async (broker, deadline) => {
      const response = await broker.request(
        OFFSET_FETCH,
        (w, version) => encodeOffsetFetchRequest(w, version, group, topics),
        decodeOffsetFetchResponse,
        deadline,
      );
      checkKafkaCode(OFFSET_FETCH.name, response.errorCode, `group '${group}'`);
      const failed = firstPartitionError(OFFSET_FETCH.name, response.partitions);
      if (failed) throw failed;
      return response.partitions;
    });
  }

  /** Stops taking calls, lets the ones in flight finish, then closes every connection. Idempotent. */
  close(): Promise<void> {
    return this.#pool.close();
  }

  /** Runs `work` against the group's coordinator, retrying while it moves, until timeoutMs. */
  #call<T>(
    group: string,
    action: string,
    work: (coordinator: BrokerConnection, deadline: number) => Promise<T>,
  ): Promise<T> {
    return this.#pool.run({
      action,
      where: `group '${group}'`,
      details: { group },
      attempt: async (deadline) => work(await this.#coordinator(group, deadline), deadline),
      onRetry: () => this.#coordinators.delete(group),
      translate: (err) => translateGroupError(err, group, action),
    });
  }

  /** The group's coordinator, found through the bootstrap brokers unless remembered. */
  async #coordinator(group: string, deadline: number): Promise<BrokerConnection> {
    const known = this.#coordinators.get(group);
    if (known !== undefined) return this.#pool.connection(known);
    const found = await this.#pool.bootstrap((broker) =>
      broker.request(
        FIND_COORDINATOR,
        (w) => encodeFindCoordinatorRequest(w, group),
        decodeFindCoordinatorResponse,
        deadline,
      ),
    );
    checkKafkaCode(FIND_COORDINATOR.name, found.errorCode, `group '${group}'`);
    const address = `${found.host}:${found.port}`;
    if (this.#coordinators.size >= MAX_CACHED_COORDINATORS) {
      this.#coordinators.delete(this.#coordinators.keys().next().value!);
    }
    this.#coordinators.set(group, address);
    return this.#pool.connection(address);
  }

  #checkGroup(group: string): void {
    if (group.length === 0) throw new GatewayError('KGW_INVALID_REQUEST', 'the group id is empty');
  }

  #checkPartition(tp: { topic: string; partition: number }): void {
    if (tp.topic.length === 0 || !Number.isInteger(tp.partition) || tp.partition < 0) {
      throw new GatewayError(
        'KGW_INVALID_REQUEST',
        `'${tp.topic}' partition ${tp.partition} is not a valid topic partition`,
      );
    }
  }
}
