import { Redis } from 'ioredis';
import type { Logger } from '../observability/logger.js';
import { consumerKeys } from './consumer-keys.js';

/**
 * Redis pub/sub that wakes waiting long-polls on any instance: a group's
 * channel (leases, seeks, sessions) and one channel per partition (records
 * deliverable again: nacks, a window that freed). A message carries the time
 * from which the records are deliverable, so a delayed nack sets a timer
 * instead of waking anyone early. One subscriber connection per process; a
 * channel is subscribed only while a long-poll waits on it here.
 */
export class WakeChannel {
  readonly #subscriber: Redis;
  readonly #listeners = new Map<string, Set<(at: number) => void>>();
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
    this.#subscriber.on('message', (channel: string, message: string) => {
      const at = Number(message) || 0;
      for (const listener of this.#listeners.get(channel) ?? []) listener(at);
    });
  }

  start(): void {
    this.#subscriber
      .connect()
      .catch((err: unknown) => this.#logger.debug({ err }, 'wake channel not connected yet'));
  }

  /** The channels a poll of this group reading these partitions listens on. */
  static channels(
    group: string,
    tps: ReadonlyArray<{ topic: string; partition: number }>,
  ): string[] {
    return [
      consumerKeys.wake(group),
      ...tps.map((tp) => consumerKeys.partitionWake(group, tp.topic, tp.partition)),
    ];
  }

  /**
   * Calls `listener(at)` for every message on these channels until the returned
   * function is called. Subscribing is asynchronous; the returned promise-like
   * `ready` settles once Redis confirmed it, so a caller can subscribe before it
   * reads state and miss nothing published after that read.
   */
  listen(
    channels: readonly string[],
    listener: (at: number) => void,
  ): { stop: () => void; ready: Promise<void> } {
    const subscribing: Promise<unknown>[] = [];
    for (const channel of channels) {
      let set = this.#listeners.get(channel);
      if (!set) {
        set = new Set();
        this.#listeners.set(channel, set);
        // Missing a wake-up only delays a poll until its next timer; never fail it.
        subscribing.push(this.#subscriber.subscribe(channel).catch(() => undefined));
      }
      set.add(listener);
    }
    const stop = (): void => {
      for (const channel of channels) {
        const set = this.#listeners.get(channel);
        if (!set) continue;
        set.delete(listener);
        if (set.size === 0) {
          this.#listeners.delete(channel);
          this.#subscriber.unsubscribe(channel).catch(() => undefined);
        }
      }
    };
    const ready =
      subscribing.length === 0 || this.#subscriber.status !== 'ready'
        ? Promise.resolve()
        : Promise.all(subscribing).then(() => undefined);
    return { stop, ready };
  }

  close(): void {
    this.#listeners.clear();
    this.#subscriber.disconnect();
  }
}
