import Kafka from 'node-rdkafka';
import type { Logger } from '../observability/logger.js';
import { librdkafkaSecurity, oauthTokens, type KafkaSecurity } from './client-security.js';
import { LazyConnection } from './lazy-connection.js';
import { GatewayError } from '../errors.js';
import { translateKafkaError } from './translate-error.js';
import { disconnectWithin } from './disconnect.js';

export interface BrokerInfo {
  readonly id: number;
  readonly host: string;
  readonly port: number;
}

export interface PartitionInfo {
  readonly id: number;
  readonly leader: number;
  readonly replicas: readonly number[];
  readonly isrs: readonly number[];
}

export interface TopicInfo {
  readonly name: string;
  readonly partitions: readonly PartitionInfo[];
}

export interface ClusterMetadata {
  readonly brokers: readonly BrokerInfo[];
  readonly topics: readonly TopicInfo[];
}

/** How long a broker connection failure librdkafka logged explains a failing request. */
const BROKER_FAILURE_TTL_MS = 60_000;
/** librdkafka logs why a broker connection failed at severity 3 (error) with facility FAIL. */
const FAIL_SEVERITY = 4;

/** Pass to fetch() to list every topic. */
export const ALL_TOPICS = Symbol('all topics');

export interface MetadataClientOptions {
  readonly brokers: readonly string[];
  readonly clientId: string;
  readonly logger: Logger;
  readonly security?: KafkaSecurity;
}

/**
 * Reads cluster metadata through one long-lived librdkafka handle. It connects
 * lazily and reconnects on the next call after a failure, so the gateway can
 * boot while Kafka is down and report it through /readyz.
 */
export class KafkaMetadataClient {
  readonly #client: Kafka.Producer;
  readonly #logger: Logger;
  readonly #connection: LazyConnection;
  #closed = false;
  #brokerFailure: { message: string; at: number } | undefined;

  constructor(options: MetadataClientOptions) {
    this.#logger = options.logger.child({ component: 'kafka-metadata' });
    this.#client = new Kafka.Producer({
      'metadata.broker.list': options.brokers.join(','),
      'client.id': `${options.clientId}-metadata`,
      // Asking for an unknown topic's metadata must not create it (producers default to true).
      'allow.auto.create.topics': false,
      'socket.connection.setup.timeout.ms': 5000,
      'reconnect.backoff.max.ms': 2000,
      // Without this librdkafka retries an unreachable bootstrap forever in the background.
      'topic.metadata.refresh.interval.ms': 30_000,
      ...librdkafkaSecurity(options.security),
    });
    this.#client.on('event.error', (err) => {
      this.#logger.debug({ err }, 'librdkafka reported an error');
    });
    // A refused login or an untrusted certificate reaches us only as a log line (no error
    // event before the connect attempt gives up): keep the latest for the failure's message.
    this.#client.on('event.log', (line: { severity: number; fac: string; message: string }) => {
      if (line.fac !== 'FAIL' || line.severity > FAIL_SEVERITY) return;
      const message = line.message.replace(/^\[thrd:[^\]]*\]: /, '');
      if (!this.#brokerFailure) this.#logger.warn({ reason: message }, 'Kafka connection failed');
      this.#brokerFailure = { message, at: Date.now() };
    });
    this.#connection = new LazyConnection(this.#client, oauthTokens(options.security));
  }

  /**
   * Brokers plus the named topic (none when omitted; every topic when
   * `topic` is ALL_TOPICS), failing after timeoutMs.
   */
  async fetch(timeoutMs: number, topic?: string | typeof ALL_TOPICS): Promise<ClusterMetadata> {
    if (this.#closed) throw translateKafkaError(new Error('client closed'), 'read metadata');
    try {
      return await this.#fetch(timeoutMs, topic);
    } catch (err) {
      throw this.#explained(err);
    }
  }

  /**
   * A refused login or TLS handshake shows up as a timeout or a transport
   * error on the request; the broker failure librdkafka logged says what is
   * wrong (wrong password, untrusted certificate), so it is added.
   */
  #explained(err: unknown): unknown {
    const failure = this.#brokerFailure;
    if (!failure || Date.now() - failure.at > BROKER_FAILURE_TTL_MS) return err;
    const base = err instanceof GatewayError ? err : translateKafkaError(err, 'read metadata');
    return new GatewayError(base.code, `${base.message}; last broker failure: ${failure.message}`, {
      cause: err,
    });
  }

  async #fetch(timeoutMs: number, topic?: string | typeof ALL_TOPICS): Promise<ClusterMetadata> {
    await this.#connection.ensure(timeoutMs);
    const raw = await new Promise<Kafka.Metadata>((resolve, reject) => {
      this.#client.getMetadata(
        topic === ALL_TOPICS
          ? { timeout: timeoutMs, allTopics: true }
          : // Only the named topic (or just the brokers), never the whole cluster by accident.
            { timeout: timeoutMs, allTopics: false, ...(topic === undefined ? {} : { topic }) },
        (err, data) => {
          if (err) {
            reject(translateKafkaError(err, 'read metadata'));
            return;
          }
          this.#brokerFailure = undefined;
          resolve(data);
        },
      );
    });
    return {
      brokers: raw.brokers.map(({ id, host, port }) => ({ id, host, port })),
      topics: raw.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => ({
          id: p.id,
          leader: p.leader,
          replicas: p.replicas,
          isrs: p.isrs,
        })),
      })),
    };
  }

  /** Low and high watermark (first offset, next offset to be written) of a partition. */
  async watermarks(
    topic: string,
    partition: number,
    timeoutMs: number,
  ): Promise<{ low: number; high: number }> {
    await this.#connection.ensure(timeoutMs);
    return new Promise((resolve, reject) =>
      this.#client.queryWatermarkOffsets(topic, partition, timeoutMs, (err, offsets) =>
        err
          ? reject(translateKafkaError(err, 'read watermarks'))
          : resolve({ low: offsets.lowOffset, high: offsets.highOffset }),
      ),
    );
  }

  /** Disconnects; safe to call more than once. */
  async close(timeoutMs: number): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await disconnectWithin(this.#client, timeoutMs);
  }
}
