import Kafka from 'node-rdkafka';
import type { Config } from '../config/schema.js';
import { GatewayError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import {
  kafkaSecurity,
  librdkafkaSecurity,
  oauthTokens,
  type KafkaSecurity,
} from './client-security.js';
import { LazyConnection } from './lazy-connection.js';
import { translateProduceError } from './translate-error.js';
import { disconnectWithin } from './disconnect.js';

export const DELIVERY_MODES = ['idempotent', 'fast'] as const;
export type DeliveryMode = (typeof DELIVERY_MODES)[number];

/** One record, ready for librdkafka: partition already chosen, bytes already encoded. */
export interface OutgoingRecord {
  readonly topic: string;
  readonly partition: number;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: readonly Kafka.MessageHeader[];
  /** Milliseconds since the epoch; undefined lets the producer stamp it. */
  readonly timestamp: number | undefined;
  /** key + value + header bytes, for the queue budget. */
  readonly size: number;
}

export interface Delivered {
  readonly partition: number;
  readonly offset: number;
  readonly timestamp: number;
}

export interface ProducerOptions {
  readonly brokers: readonly string[];
  readonly clientId: string;
  readonly mode: DeliveryMode;
  readonly logger: Logger;
  readonly deliveryTimeoutMs: number;
  readonly lingerMs: number;
  readonly queueMaxMessages: number;
  readonly queueMaxBytes: number;
  readonly maxRecordBytes: number;
  readonly security?: KafkaSecurity;
  /** librdkafka statistics JSON, every statsIntervalMs (0: off). */
  readonly onStats?: (json: string) => void;
  readonly statsIntervalMs?: number;
}

/** The producer options that come from the gateway's configuration (shared by the gateway and the worker). */
export function producerSettings(
  config: Config,
): Pick<
  ProducerOptions,
  | 'brokers'
  | 'deliveryTimeoutMs'
  | 'lingerMs'
  | 'queueMaxMessages'
  | 'queueMaxBytes'
  | 'maxRecordBytes'
  | 'security'
> {
  return {
    brokers: config.kafkaBrokers,
    security: kafkaSecurity(config),
    deliveryTimeoutMs: config.produceTimeoutMs,
    lingerMs: config.producerLingerMs,
    queueMaxMessages: config.produceQueueMaxMessages,
    queueMaxBytes: config.produceQueueMaxBytes,
    maxRecordBytes: config.maxRecordBytes,
  };
}

/** librdkafka's request.timeout.ms for a producer: how long a produce request already sent may still be answered. */
export function produceRequestTimeoutMs(deliveryTimeoutMs: number): number {
  return Math.min(5000, deliveryTimeoutMs);
}

interface Pending {
  readonly resolve: (delivered: Delivered) => void;
  readonly reject: (err: GatewayError) => void;
  readonly size: number;
}

/** How often delivery reports are collected while records are in flight. */
const BUSY_POLL_MS = 1;

/**
 * One librdkafka producer for one delivery mode. It keeps its own count of
 * records and bytes awaiting delivery, so requests are refused up front (429)
 * instead of librdkafka throwing halfway through a batch, and it polls for
 * delivery reports only while something is in flight.
 */
export class KafkaProducer {
  readonly mode: DeliveryMode;
  readonly #options: ProducerOptions;
  readonly #logger: Logger;
  readonly #client: Kafka.Producer;
  readonly #connection: LazyConnection;
  #queuedMessages = 0;
  #queuedBytes = 0;
  #poller: NodeJS.Timeout | undefined;
  #idlePoller: NodeJS.Timeout | undefined;
  #closed: Promise<void> | undefined;

  constructor(options: ProducerOptions) {
    this.mode = options.mode;
    this.#options = options;
    this.#logger = options.logger.child({ component: 'kafka-producer', delivery: options.mode });
    const idempotent = options.mode === 'idempotent';
    this.#client = new Kafka.Producer(
      {
        'metadata.broker.list': options.brokers.join(','),
        'client.id': `${options.clientId}-${options.mode}`,
        dr_cb: true,
        // Never let a write (or its metadata request) create a topic, whatever the brokers allow.
        'allow.auto.create.topics': false,
        'enable.idempotence': idempotent,
        'linger.ms': options.lingerMs,
        // Our own budget (hasRoom) is the real bound; librdkafka's is a backstop above it.
        'queue.buffering.max.messages': Math.min(options.queueMaxMessages * 2, 2_147_483_647),
        'queue.buffering.max.kbytes': Math.min(
          Math.ceil((options.queueMaxBytes * 2) / 1024),
          2_147_483_647,
        ),
        'message.max.bytes': Math.max(1_000_000, options.maxRecordBytes + 64 * 1024),
        'socket.keepalive.enable': true,
        'socket.connection.setup.timeout.ms': 5000,
        'reconnect.backoff.max.ms': 2000,
        ...librdkafkaSecurity(options.security),
        ...(options.onStats ? { 'statistics.interval.ms': options.statsIntervalMs ?? 15_000 } : {}),
      },
      {
        // Both modes wait for every in-sync replica: `fast` only drops idempotence (a retry may
        // duplicate); acks=1 answered 2xx for records a leader lost when it died.
        acks: -1,
        // Below the HTTP deadline, so every record gets a report before the request gives up.
        'message.timeout.ms': options.deliveryTimeoutMs,
        'request.timeout.ms': produceRequestTimeoutMs(options.deliveryTimeoutMs),
      },
    );
    this.#client.on('delivery-report', (err, report) => this.#onReport(err, report));
    this.#client.on('event.error', (err) => {
      this.#logger.warn({ err, kafkaCode: err.code }, 'librdkafka reported an error');
    });
    if (options.onStats) {
      const onStats = options.onStats;
      this.#client.on('event.stats', (event) => onStats(event.message));
      // Statistics, like delivery reports, only arrive through polling: poll slowly while idle too.
      this.#idlePoller = setInterval(() => {
        if (this.#client.isConnected()) this.#client.poll();
      }, 1000);
      this.#idlePoller.unref();
    }
    this.#connection = new LazyConnection(this.#client, oauthTokens(options.security));
  }

  /** Records and bytes handed to librdkafka and not yet reported. */
  get queued(): { readonly messages: number; readonly bytes: number } {
    return { messages: this.#queuedMessages, bytes: this.#queuedBytes };
  }

  /** Whether a batch of this size could ever fit, even in an empty queue. */
  fitsAtAll(messages: number, bytes: number): boolean {
    return messages <= this.#options.queueMaxMessages && bytes <= this.#options.queueMaxBytes;
  }

  /** Whether a batch of this size fits in the queue budget right now. */
  hasRoom(messages: number, bytes: number): boolean {
    const { queueMaxMessages, queueMaxBytes } = this.#options;
    return (
      this.#queuedMessages + messages <= queueMaxMessages &&
      this.#queuedBytes + bytes <= queueMaxBytes
    );
  }

  /** Connects if needed (shared attempt; retried by the next call after a failure). */
  ready(timeoutMs: number): Promise<void> {
    if (this.#closed)
      return Promise.reject(new GatewayError('KGW_SHUTTING_DOWN', 'the producer is closing'));
    return this.#connection.ensure(timeoutMs);
  }

  /**
   * Hands one record to librdkafka and resolves with its partition and offset
   * once the delivery report arrives. Never throws: a synchronous librdkafka
   * failure (full queue, oversized record) becomes a rejected promise.
   */
  send(record: OutgoingRecord): Promise<Delivered> {
    return new Promise<Delivered>((resolve, reject) => {
      const pending: Pending = { resolve, reject, size: record.size };
      try {
        this.#client.produce(
          record.topic,
          record.partition,
          record.value,
          record.key ?? undefined,
          record.timestamp ?? null,
          pending,
          record.headers as Kafka.MessageHeader[],
        );
      } catch (err) {
        reject(translateProduceError(err));
        return;
      }
      this.#queuedMessages += 1;
      this.#queuedBytes += record.size;
      this.#startPolling();
    });
  }

  #onReport(err: Kafka.LibrdKafkaError | null, report: Kafka.DeliveryReport): void {
    const pending = report.opaque as Pending | undefined;
    if (!pending) return;
    this.#queuedMessages -= 1;
    this.#queuedBytes -= pending.size;
    if (this.#queuedMessages === 0) this.#stopPolling();
    if (err) {
      pending.reject(translateProduceError(err));
    } else {
      pending.resolve({
        partition: report.partition,
        offset: report.offset,
        timestamp: report.timestamp ?? Date.now(),
      });
    }
  }

  #startPolling(): void {
    if (this.#poller) return;
    this.#poller = setInterval(() => {
      try {
        this.#client.poll();
      } catch (err) {
        this.#logger.debug({ err }, 'poll failed (client disconnected)');
      }
    }, BUSY_POLL_MS);
  }

  #stopPolling(): void {
    clearInterval(this.#poller);
    this.#poller = undefined;
  }

  /** Waits for queued records (up to timeoutMs), then disconnects; idempotent. */
  close(timeoutMs: number): Promise<void> {
    clearInterval(this.#idlePoller);
    this.#closed ??= this.#close(timeoutMs);
    return this.#closed;
  }

  async #close(timeoutMs: number): Promise<void> {
    if (!this.#client.isConnected()) return;
    await new Promise<void>((resolve) => {
      this.#client.flush(timeoutMs, (err) => {
        if (err)
          this.#logger.warn(
            { err, queued: this.queued },
            'flush did not finish; undelivered records fail',
          );
        resolve();
      });
    });
    this.#client.poll();
    await disconnectWithin(this.#client, 2000);
    this.#stopPolling();
  }
}
