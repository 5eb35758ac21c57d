import { Redis } from 'ioredis';
import type { Logger } from '../observability/logger.js';
import { consumerKeys } from './consumer-keys.js';

/**
 * Redis pub/sub that wakes waiting long-polls of a group on any instance when
 * records come back (nack, ack timeout) or leases move. One subscriber
 * connection per process; a group's channel is subscribed only while a
 * long-poll of that group waits here.
 */
export class WakeChannel {
  readonly #subscriber: Redis;
  readonly #listeners = new Map<string, Set<() => void>>();
  readonly #logger: Logger;

  constructor(url: string, logger: Logger) {
    this.#logger = logger.child({ component: 'wake-channel' });
    this.#subscriber = new Redis(url, {
      lazyConnect: true,
      connectTimeout: 2000,
      maxRetriesPerRequest: null,
      retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
    });
    this.#subscriber.on('error', (err) => this.#logger.debug({ err }, 'wake channel error'));
    this.#subscriber.on('message', (channel: string) => {
      for (const listener of this.#listeners.get(channel) ?? []) listener();
    });
  }

  start(): void {
    this.#subscriber
      .connect()
      .catch((err: unknown) => this.#logger.debug({ err }, 'wake channel not connected yet'));
  }

  /** Calls `listener` whenever the group is woken; returns the unsubscribe function. */
  listen(group: string, listener: () => void): () => void {
    const channel = consumerKeys.wake(group);
    let set = this.#listeners.get(channel);
    if (!set) {
      set = new Set();
      this.#listeners.set(channel, set);
      // Missing a wake-up only delays a poll until its next timer; never fail it.
      this.#subscriber.subscribe(channel).catch(() => undefined);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.#listeners.get(channel) === set) {
        this.#listeners.delete(channel);
        this.#subscriber.unsubscribe(channel).catch(() => undefined);
      }
    };
  }

  close(): void {
    this.#listeners.clear();
    this.#subscriber.disconnect();
  }
}
