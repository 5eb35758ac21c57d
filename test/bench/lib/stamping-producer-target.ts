import Kafka from 'node-rdkafka';
import type { LoadTarget, SendDone } from './load-target.js';

/** How often delivery reports are collected while records are in flight. */
const POLL_MS = 1;

/**
 * Produces one record per send whose value starts with the send time
 * (`performance.now()` of this process, a little-endian double), so a
 * consumer in the same process can tell how long the record took to reach it.
 * `linger.ms=0`: each record leaves at once, so the producer adds as little
 * as it can to the end-to-end time.
 */
export class StampingProducerTarget implements LoadTarget {
  readonly name = 'stamping producer';
  readonly recordsPerSend = 1;
  readonly #producer: Kafka.Producer;
  readonly #topic: string;
  readonly #partitions: number;
  readonly #template: Buffer;
  /** Send times of the records Kafka acknowledged. */
  readonly #delivered: number[] = [];
  #nextPartition = 0;
  #inFlight = 0;
  #poller: NodeJS.Timeout | undefined;
  #closed: Promise<void> | undefined;

  private constructor(producer: Kafka.Producer, topic: string, partitions: number, size: number) {
    this.#producer = producer;
    this.#topic = topic;
    this.#partitions = partitions;
    this.#template = Buffer.alloc(size, 0x61);
    producer.on('delivery-report', (err, report) => {
      this.#inFlight -= 1;
      if (this.#inFlight === 0) this.#stopPolling();
      const { done, sentAt } = report.opaque as { done: SendDone; sentAt: number };
      if (err) done(0, 1, 0, `librdkafka ${err.code}: ${err.message}`);
      else {
        this.#delivered.push(sentAt);
        done(1, 0, 0);
      }
    });
  }

  /** Records acknowledged by Kafka whose send time lies in [from, to). */
  deliveredBetween(from: number, to: number): number {
    return this.#delivered.filter((t) => t >= from && t < to).length;
  }

  static async connect(
    brokers: string,
    topic: string,
    partitions: number,
    valueBytes: number,
  ): Promise<StampingProducerTarget> {
    const producer = new Kafka.Producer(
      {
        'metadata.broker.list': brokers,
        'client.id': 'kgw-bench-stamping',
        dr_cb: true,
        'linger.ms': 0,
      },
      { acks: -1 },
    );
    await new Promise<void>((resolve, reject) =>
      producer.connect({ timeout: 10_000, allTopics: false }, (err) =>
        err ? reject(err) : resolve(),
      ),
    );
    return new StampingProducerTarget(producer, topic, partitions, valueBytes);
  }

  async begin(): Promise<void> {}

  send(done: SendDone): void {
    const partition = this.#nextPartition;
    this.#nextPartition = (partition + 1) % this.#partitions;
    const value = Buffer.from(this.#template);
    const sentAt = performance.now();
    value.writeDoubleLE(sentAt, 0);
    try {
      this.#producer.produce(this.#topic, partition, value, null, null, { done, sentAt });
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      setImmediate(() => done(0, 1, 0, `produce threw: ${reason}`));
      return;
    }
    this.#inFlight += 1;
    this.#poller ??= setInterval(() => this.#producer.poll(), POLL_MS);
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

/** The send time a StampingProducerTarget wrote into a value (raw bytes or base64). */
export function sendTimeOf(value: Buffer | string): number {
  // 12 base64 characters decode to the first 9 bytes, enough for the 8-byte stamp.
  const bytes = typeof value === 'string' ? Buffer.from(value.slice(0, 12), 'base64') : value;
  return bytes.length >= 8 ? bytes.readDoubleLE(0) : NaN;
}
