import { GatewayError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import { brokerTlsOptions, type KafkaSecurity } from './client-security.js';
import { BrokerConnection } from './protocol/broker-connection.js';
import {
  DESCRIBE_GROUPS,
  decodeDescribeGroupsResponse,
  encodeDescribeGroupsRequest,
} from './protocol/describe-groups.js';
import {
  BrokerConnectionError,
  KafkaErrorCode,
  ProtocolError,
  checkKafkaCode,
} from './protocol/errors.js';
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
} from './protocol/offset-fetch.js';
import {
  firstPartitionError,
  isRetriable,
  translateGroupError,
} from './protocol/translate-error.js';

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
  readonly members: readonly GroupMemberInfo[];
}

export interface GroupCoordinatorOptions {
  readonly brokers: readonly string[];
  readonly clientId: string;
  readonly timeoutMs: number;
  readonly logger: Logger;
  readonly security?: KafkaSecurity;
}

/** A black-holed broker must not eat a whole call's budget before the next one is tried. */
const CONNECT_TIMEOUT_MS = 3000;
const RETRY_MIN_MS = 50;
const RETRY_MAX_MS = 200;
/** Groups whose coordinator address is remembered; the oldest is forgotten past this. */
const MAX_CACHED_COORDINATORS = 10_000;

function splitAddress(address: string): { host: string; port: number } {
  const colon = address.lastIndexOf(':');
  const port = Number(address.slice(colon + 1));
  if (colon <= 0 || !Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new GatewayError('KGW_CONFIG_INVALID', `broker address '${address}' is not host:port`);
  }
  return { host: address.slice(0, colon).replace(/^\[(.*)\]$/, '$1'), port };
}

function key(topic: string, partition: number): string {
  return `${partition}:${topic}`;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Commits and reads a group's offsets (with metadata) and describes the group, without joining it. */
export class GroupCoordinatorClient {
  readonly #options: GroupCoordinatorOptions;
  readonly #log: Logger;
  readonly #connections = new Map<string, BrokerConnection>();
  /** Group id → coordinator address; dropped whenever the coordinator seems to have moved. */
  readonly #coordinators = new Map<string, string>();
  readonly #inFlight = new Set<Promise<unknown>>();
  /** Index of the bootstrap broker that last answered, tried first next time. */
  #bootstrap = 0;
  #closing: Promise<void> | undefined;
  #closed = false;

  constructor(options: GroupCoordinatorOptions) {
    if (options.brokers.length === 0) {
      throw new GatewayError('KGW_CONFIG_INVALID', 'the group coordinator client needs a broker');
    }
    options.brokers.forEach(splitAddress);
    this.#options = options;
    this.#log = options.logger.child({ component: 'group-coordinator' });
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
    const result = await this.#call(group, 'read committed offsets', async (broker, deadline) => {
      const response = await broker.request(
        OFFSET_FETCH,
        (w) => encodeOffsetFetchRequest(w, group, topics),
        decodeOffsetFetchResponse,
        deadline,
      );
      checkKafkaCode(OFFSET_FETCH.name, response.errorCode, `group '${group}'`);
      const failed = firstPartitionError(OFFSET_FETCH.name, response.partitions);
      if (failed) throw failed;
      return response.partitions;
    });
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
        return { state: 'Dead', protocolType: '', members: [] };
      }
      checkKafkaCode(DESCRIBE_GROUPS.name, described.errorCode, `group '${group}'`);
      return {
        state: described.state,
        protocolType: described.protocolType,
        members: described.members.map((m) => ({
          memberId: m.memberId,
          clientId: m.clientId,
          clientHost: m.clientHost,
        })),
      };
    });
  }

  /**
   * Stops taking calls, lets the ones in flight finish (each is bounded by
   * timeoutMs), then closes every connection. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      let timer: NodeJS.Timeout | undefined;
      const bound = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, this.#options.timeoutMs + RETRY_MAX_MS);
      });
      await Promise.race([Promise.allSettled([...this.#inFlight]), bound]);
      clearTimeout(timer);
      this.#closed = true;
      for (const connection of this.#connections.values()) connection.close();
      this.#connections.clear();
    })();
    return this.#closing;
  }

  /** Runs `work` against the group's coordinator, retrying while it moves, until timeoutMs. */
  async #call<T>(
    group: string,
    action: string,
    work: (coordinator: BrokerConnection, deadline: number) => Promise<T>,
  ): Promise<T> {
    if (this.#closing) {
      throw new GatewayError('KGW_SHUTTING_DOWN', `cannot ${action}: the client is closing`);
    }
    const call = this.#retrying(group, action, work);
    const settled = call.then(
      () => undefined,
      () => undefined,
    );
    this.#inFlight.add(settled);
    void settled.then(() => this.#inFlight.delete(settled));
    return call;
  }

  async #retrying<T>(
    group: string,
    action: string,
    work: (coordinator: BrokerConnection, deadline: number) => Promise<T>,
  ): Promise<T> {
    const { timeoutMs } = this.#options;
    const deadline = Date.now() + timeoutMs;
    for (let attempt = 0; ; attempt += 1) {
      let failure: unknown;
      try {
        return await work(await this.#coordinator(group, deadline), deadline);
      } catch (err) {
        if (!isRetriable(err)) throw translateGroupError(err, group, action);
        failure = err;
      }
      this.#coordinators.delete(group);
      // Retry while a last attempt still has RETRY_MIN_MS to run; then report the timeout.
      const remaining = deadline - Date.now();
      if (remaining <= RETRY_MIN_MS) {
        throw new GatewayError(
          'KGW_TIMEOUT',
          `could not ${action} for group '${group}' within ${timeoutMs} ms: ${(failure as Error).message}`,
          { cause: failure, details: { group } },
        );
      }
      this.#log.debug({ err: failure, group, attempt }, 'group coordinator call will be retried');
      await sleep(Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** attempt, remaining - RETRY_MIN_MS));
    }
  }

  /** The group's coordinator, found through the bootstrap brokers unless remembered. */
  async #coordinator(group: string, deadline: number): Promise<BrokerConnection> {
    const known = this.#coordinators.get(group);
    if (known !== undefined) return this.#connection(known);
    const { brokers } = this.#options;
    let lastError: unknown;
    for (let i = 0; i < brokers.length; i += 1) {
      const index = (this.#bootstrap + i) % brokers.length;
      let found;
      try {
        found = await this.#connection(brokers[index]!).request(
          FIND_COORDINATOR,
          (w) => encodeFindCoordinatorRequest(w, group),
          decodeFindCoordinatorResponse,
          deadline,
        );
      } catch (err) {
        // A bootstrap broker that cannot be reached is skipped for the next one.
        if (!(err instanceof BrokerConnectionError)) throw err;
        lastError = err;
        continue;
      }
      this.#bootstrap = index;
      checkKafkaCode(FIND_COORDINATOR.name, found.errorCode, `group '${group}'`);
      const address = `${found.host}:${found.port}`;
      if (this.#coordinators.size >= MAX_CACHED_COORDINATORS) {
        this.#coordinators.delete(this.#coordinators.keys().next().value!);
      }
      this.#coordinators.set(group, address);
      return this.#connection(address);
    }
    throw lastError;
  }

  #connection(address: string): BrokerConnection {
    if (this.#closed) throw new GatewayError('KGW_SHUTTING_DOWN', 'the client is closed');
    let connection = this.#connections.get(address);
    if (!connection) {
      const { host, port } = splitAddress(address);
      const { tls, sasl } = this.#options.security ?? {};
      connection = new BrokerConnection({
        host,
        port,
        clientId: this.#options.clientId,
        connectTimeoutMs: CONNECT_TIMEOUT_MS,
        logger: this.#log,
        ...(tls ? { tls: brokerTlsOptions(tls, host) } : {}),
        ...(sasl ? { sasl } : {}),
      });
      this.#connections.set(address, connection);
    }
    return connection;
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
