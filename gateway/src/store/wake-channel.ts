import { Redis, type RedisOptions } from 'ioredis';
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
  readonly #listeners = new Map<string, Set<WakeListener>>();
  readonly #logger: Logger;

  constructor(url: string, logger: Logger, security?: Pick<RedisOptions, 'tls'>) {
    this.#logger = logger.child({ component: 'wake-channel' });
    this.#subscriber = new Redis(url, {
      lazyConnect: true,
      connectTimeout: 2000,
      maxRetriesPerRequest: null,
      retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
      ...security,
    });
    this.#subscriber.on('error', (err) => this.#logger.debug({ err }, 'wake channel error'));
    this.#subscriber.on('message', (channel: string, message: string) =>
      this.#dispatch(channel, message),
    );
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
   * Calls `listener(at)` for messages on these channels until `stop()`. A
   * listener that takes `some` is one of interchangeable waiters: a partition
   * message naming `count` records wakes at most that many of them (those
   * waiting longest first); `all` listeners get every message. `ready` settles
   * once Redis confirmed the subscriptions; `fresh` says some were new (not
   * already held for another listener), so messages before `ready` are lost.
   */
  listen(
    channels: readonly string[],
    wake: (at: number) => void,
    takes: 'all' | 'some' = 'all',
  ): { stop: () => void; ready: Promise<void>; fresh: boolean } {
    const listener: WakeListener = { wake, some: takes === 'some' };
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
    return { stop, ready, fresh: subscribing.length > 0 };
  }

  close(): void {
    this.#listeners.clear();
    this.#subscriber.disconnect();
  }

  #dispatch(channel: string, message: string): void {
    const set = this.#listeners.get(channel);
    if (!set) return;
    const [atText, countText] = message.split(':');
    const at = Number(atText) || 0;
    let budget = countText === undefined ? Infinity : Number(countText);
    for (const listener of [...set]) {
      if (listener.some) {
        if (budget <= 0) continue;
        budget -= 1;
        // Round robin: the woken one goes to the back of the line.
        set.delete(listener);
        set.add(listener);
      }
      listener.wake(at);
    }
  }
}

interface WakeListener {
  readonly wake: (at: number) => void;
  readonly some: boolean;
}
