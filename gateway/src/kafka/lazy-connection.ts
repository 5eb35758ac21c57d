import type Kafka from 'node-rdkafka';
import { translateKafkaError } from './translate-error.js';

/** The part of a node-rdkafka client that connecting needs. */
export interface Connectable {
  isConnected(): boolean;
  connect(options: Kafka.MetadataOptions, cb: (err: Kafka.LibrdKafkaError | null) => void): unknown;
}

/**
 * Connects a client on first use and shares one attempt among concurrent
 * callers; a failed attempt is retried by the next call, so the gateway can
 * boot while Kafka is down.
 */
export class LazyConnection {
  readonly #client: Connectable;
  #connecting: Promise<void> | undefined;

  constructor(client: Connectable) {
    this.#client = client;
  }

  ensure(timeoutMs: number): Promise<void> {
    if (this.#client.isConnected()) return Promise.resolve();
    this.#connecting ??= new Promise<void>((resolve, reject) => {
      // allTopics: false — the connect-time metadata request names no topic.
      this.#client.connect({ timeout: timeoutMs, allTopics: false }, (err) => {
        this.#connecting = undefined;
        if (err) reject(translateKafkaError(err, 'connect'));
        else resolve();
      });
    });
    return this.#connecting;
  }
}
