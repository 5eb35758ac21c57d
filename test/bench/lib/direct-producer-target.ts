import Kafka from 'node-rdkafka';
import type { LoadTarget, SendDone } from './load-target.js';

/** How often delivery reports are collected while records are in flight (as the gateway does). */
const BUSY_POLL_MS = 1;

/**
 * The ceiling: a plain node-rdkafka producer with the gateway's idempotent
 * producer settings at their defaults (gateway/src/kafka/producer.ts), copied
 * here rather than imported so the baseline does not move when the gateway does.
 */
export function gatewayLikeProducer(brokers: string): Kafka.Producer {
  const queueMaxMessages = 100_000; // KGW_PRODUCE_QUEUE_MAX_MESSAGES default
  const queueMaxBytes = 67_108_864; // KGW_PRODUCE_QUEUE_MAX_BYTES default
  const maxRecordBytes = 1_000_000; // KGW_MAX_RECORD_BYTES default
  const deliveryTimeoutMs = 10_000; // KGW_PRODUCE_TIMEOUT_MS default
  return new Kafka.Producer(
    {
      'metadata.broker.list': brokers,
      'client.id': 'kgw-bench-direct',
      dr_cb: true,
      'enable.idempotence': true,
      'linger.ms': 5, // KGW_PRODUCER_LINGER_MS default
      'queue.buffering.max.messages': queueMaxMessages * 2,
      'queue.buffering.max.kbytes': Math.ceil((queueMaxBytes * 2) / 1024),
      'message.max.bytes': Math.max(1_000_000, maxRecordBytes + 64 * 1024),
      'socket.keepalive.enable': true,
      'socket.connection.setup.timeout.ms': 5000,
      'reconnect.backoff.max.ms': 2000,
    },
    {
      acks: -1,
      'message.timeout.ms': deliveryTimeoutMs,
      'request.timeout.ms': Math.min(5000, deliveryTimeoutMs),
    },
  );
}

/**
 * Produces 1 record per send straight to librdkafka, rotating over the
 * partitions like the gateway's round-robin balancer does on one broker, and
 * polls for delivery reports every 1 ms while anything is in flight.
 */
export class DirectProducerTarget implements LoadTarget {
  readonly name = 'direct';
  readonly recordsPerSend = 1;
  readonly #producer: Kafka.Producer;
  readonly #topic: string;
  readonly #partitions: number;
  readonly #value: Buffer;
  #nextPartition = 0;
  #inFlight = 0;
  #poller: NodeJS.Timeout | undefined;
  #closed: Promise<void> | undefined;

  private constructor(producer: Kafka.Producer, topic: string, partitions: number, value: Buffer) {
    this.#producer = producer;
    this.#topic = topic;
    this.#partitions = partitions;
    this.#value = value;
    producer.on('delivery-report', (err, report) => {
      this.#inFlight -= 1;
      if (this.#inFlight === 0) this.#stopPolling();
      const done = report.opaque as SendDone;
      if (err) done(0, 1, 0, `librdkafka ${err.code}: ${err.message}`);
      else done(1, 0, 0);
    });
  }

  /** Connects a gateway-like producer for `topic`. */
  static async connect(
    brokers: string,
    topic: string,
    partitions: number,
    value: Buffer,
  ): Promise<DirectProducerTarget> {
    const producer = gatewayLikeProducer(brokers);
    await new Promise<void>((resolve, reject) =>
      producer.connect({ timeout: 10_000, allTopics: false }, (err) =>
        err ? reject(err) : resolve(),
      ),
    );
    return new DirectProducerTarget(producer, topic, partitions, value);
  }

  async begin(): Promise<void> {}

  send(done: SendDone): void {
    const partition = this.#nextPartition;
    this.#nextPartition = (partition + 1) % this.#partitions;
    try {
      this.#producer.produce(this.#topic, partition, this.#value, undefined, null, done);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      setImmediate(() => done(0, 1, 0, `produce threw: ${reason}`));
      return;
    }
    this.#inFlight += 1;
    this.#poller ??= setInterval(() => this.#producer.poll(), BUSY_POLL_MS);
  }

  async end(): Promise<void> {}

  close(): Promise<void> {
    this.#closed ??= new Promise<void>((resolve) => {
      this.#producer.flush(5000, () => {
        this.#stopPolling();
        this.#producer.disconnect(5000, () => resolve());
      });
    });
    return this.#closed;
  }

  #stopPolling(): void {
    clearInterval(this.#poller);
    this.#poller = undefined;
  }
}
