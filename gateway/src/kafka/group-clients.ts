import Kafka from 'node-rdkafka';
import { GatewayError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import { LazyConnection } from './lazy-connection.js';
import { translateKafkaError } from './translate-error.js';
import { disconnectWithin } from './disconnect.js';

export interface PartitionOffset {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
}

/** librdkafka codes that mean a real Kafka consumer is a member of the group. */
const GROUP_IN_USE: ReadonlySet<number> = new Set([
  Kafka.CODES.ERRORS.ERR_UNKNOWN_MEMBER_ID,
  Kafka.CODES.ERRORS.ERR_ILLEGAL_GENERATION,
  Kafka.CODES.ERRORS.ERR_REBALANCE_IN_PROGRESS,
  Kafka.CODES.ERRORS.ERR_FENCED_INSTANCE_ID,
]);

/** The group coordinator is moving or loading: worth asking again shortly. */
const COORDINATOR_BUSY: ReadonlySet<number> = new Set([
  Kafka.CODES.ERRORS.ERR_NOT_COORDINATOR,
  Kafka.CODES.ERRORS.ERR_COORDINATOR_LOAD_IN_PROGRESS,
  Kafka.CODES.ERRORS.ERR_COORDINATOR_NOT_AVAILABLE,
]);

interface GroupClient {
  readonly consumer: Kafka.KafkaConsumer;
  readonly connection: LazyConnection;
  queue: Promise<unknown>;
  lastUsed: number;
}

export interface GroupClientsOptions {
  readonly brokers: readonly string[];
  readonly clientId: string;
  readonly logger: Logger;
  /** Open per-group clients kept; the least recently used one is closed past this. */
  readonly maxClients: number;
  readonly timeoutMs: number;
}

/**
 * Commits and reads a group's offsets in Kafka without ever joining the group
 * (Kafka accepts offset commits for a group with no members), so Kafka's own
 * tools show the group's true lag. librdkafka binds group.id per client, so
 * there is one client per active group (not per session), bounded by an LRU.
 */
export class GroupClients {
  readonly #options: GroupClientsOptions;
  readonly #clients = new Map<string, GroupClient>();

  constructor(options: GroupClientsOptions) {
    this.#options = options;
  }

  /** Kafka's committed offsets (the next offset to read; -1001 when none). */
  async committed(
    group: string,
    partitions: ReadonlyArray<{ topic: string; partition: number }>,
  ): Promise<PartitionOffset[]> {
    return this.#run(group, async (client) => {
      const deadline = Date.now() + this.#options.timeoutMs;
      for (;;) {
        try {
          return await new Promise<PartitionOffset[]>((resolve, reject) =>
            client.consumer.committed([...partitions], this.#options.timeoutMs, (err, offsets) =>
              err
                ? reject(err)
                : resolve(
                    offsets.map((o) => ({
                      topic: o.topic,
                      partition: o.partition,
                      offset: o.offset ?? -1001,
                    })),
                  ),
            ),
          );
        } catch (err) {
          const code = (err as { code?: number }).code;
          if (code === undefined || !COORDINATOR_BUSY.has(code) || Date.now() > deadline) {
            throw translateKafkaError(err, 'read committed offsets');
          }
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
      }
    });
  }

  /** Commits offsets (each the next offset to read) and waits for Kafka's answer. */
  async commit(group: string, offsets: readonly PartitionOffset[]): Promise<void> {
    if (offsets.length === 0) return;
    await this.#run(group, async (client) => {
      const result = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          client.consumer.off('offset.commit', onCommit);
          reject(
            new GatewayError('KGW_TIMEOUT', `committing offsets of group '${group}' timed out`),
          );
        }, this.#options.timeoutMs);
        const onCommit = (
          err: Kafka.LibrdKafkaError | null,
          committed: Kafka.TopicPartitionOffset[],
        ): void => {
          clearTimeout(timer);
          client.consumer.off('offset.commit', onCommit);
          if (err || committed.some((c) => (c as { error?: unknown }).error)) {
            const code = err?.code;
            if (code !== undefined && GROUP_IN_USE.has(code)) {
              reject(
                new GatewayError(
                  'KGW_GROUP_IN_USE',
                  `group '${group}' has active Kafka consumers; the gateway will not commit for it`,
                  { cause: err },
                ),
              );
            } else
              reject(
                translateKafkaError(err ?? new Error('partition commit failed'), 'commit offsets'),
              );
          } else resolve();
        };
        client.consumer.on('offset.commit', onCommit);
      });
      client.consumer.commit(
        offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: o.offset })),
      );
      // The commit callback is served from the consumer queue: poll it until the answer arrives.
      let settled = false;
      void result.then(
        () => (settled = true),
        () => (settled = true),
      );
      while (!settled) {
        await new Promise<void>((resolve) => client.consumer.consume(1, () => resolve()));
      }
      return result;
    });
  }

  async #run<T>(group: string, work: (client: GroupClient) => Promise<T>): Promise<T> {
    const client = this.#client(group);
    const previous = client.queue;
    const next = previous.then(
      async () => {
        await client.connection.ensure(this.#options.timeoutMs);
        return work(client);
      },
      async () => {
        await client.connection.ensure(this.#options.timeoutMs);
        return work(client);
      },
    );
    client.queue = next.catch(() => undefined);
    client.lastUsed = Date.now();
    return next;
  }

  #client(group: string): GroupClient {
    let client = this.#clients.get(group);
    if (client) {
      // Re-insert: Map order is the LRU order.
      this.#clients.delete(group);
      this.#clients.set(group, client);
      return client;
    }
    const consumer = new Kafka.KafkaConsumer(
      {
        'metadata.broker.list': this.#options.brokers.join(','),
        'client.id': `${this.#options.clientId}-group`,
        'group.id': group,
        'enable.auto.commit': false,
        offset_commit_cb: true,
        'socket.connection.setup.timeout.ms': 5000,
      },
      {},
    );
    // Polled only to receive commit callbacks: short rounds, so a commit costs ~ one broker round trip.
    consumer.setDefaultConsumeTimeout(2);
    consumer.on('event.error', (err) =>
      this.#options.logger.debug({ err, group }, 'group client error'),
    );
    client = {
      consumer,
      connection: new LazyConnection(consumer),
      queue: Promise.resolve(),
      lastUsed: Date.now(),
    };
    this.#clients.set(group, client);
    while (this.#clients.size > this.#options.maxClients) {
      const [oldest, old] = this.#clients.entries().next().value as [string, GroupClient];
      this.#clients.delete(oldest);
      void old.queue.then(() => disconnectWithin(old.consumer, 3000));
    }
    return client;
  }

  async close(): Promise<void> {
    const all = [...this.#clients.values()];
    this.#clients.clear();
    await Promise.all(
      all.map(async (c) => {
        await c.queue;
        await disconnectWithin(c.consumer, 3000);
      }),
    );
  }
}
