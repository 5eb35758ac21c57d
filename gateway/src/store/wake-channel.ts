import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../observability/logger.js';
import { consumerKeys } from './consumer-keys.js';

/**
 * Redis pub/sub that wakes waiting long-polls on any instance: a group's
 * channel (leases, seeks, sessions) and one channel per partition (records
 * deliverable again: nacks, a window that freed). A message carries the time
 * from which the records are deliverable, so a delayed nack sets a timer
 * instead of waking anyone early. One subscriber connection per process; a
 * channel is subscribed while a long-poll waits on it here and for a while
 * after the last one left (LINGER_MS, at most MAX_IDLE channels), so a client
 * polling in a loop does not subscribe and unsubscribe for every poll.
 */
export class WakeChannel {
  readonly #subscriber: Redis;
  /** Subscribed channels and who listens; an empty set is an idle channel still subscribed. */
  readonly #listeners = new Map<string, Set<WakeListener>>();
  /** Idle channels → when they became idle, oldest first. */
  readonly #idle = new Map<string, number>();
  #sweeper: NodeJS.Timeout | undefined;
  readonly #logger: Logger;
  readonly #lingerMs: number;
  readonly #maxIdle: number;

  constructor(
    url: string,
    logger: Logger,
    security?: Pick<RedisOptions, 'tls'>,
    idle: { readonly lingerMs?: number; readonly maxIdle?: number } = {},
  ) {
    this.#lingerMs = idle.lingerMs ?? LINGER_MS;
    this.#maxIdle = idle.maxIdle ?? MAX_IDLE;
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
    /** The session the listener polls for: a membership message naming it wakes it (see memberMessage). */
    member = '',
  ): { stop: () => void; ready: Promise<void>; fresh: boolean } {
    const listener: WakeListener = { wake, some: takes === 'some', member };
    const subscribing: Promise<unknown>[] = [];
    for (const channel of channels) {
      let set = this.#listeners.get(channel);
      this.#idle.delete(channel);
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
        if (set.size === 0) this.#becameIdle(channel);
      }
    };
    const ready =
      subscribing.length === 0 || this.#subscriber.status !== 'ready'
        ? Promise.resolve()
        : Promise.all(subscribing).then(() => undefined);
    return { stop, ready, fresh: subscribing.length > 0 };
  }

  close(): void {
    clearInterval(this.#sweeper);
    this.#listeners.clear();
    this.#idle.clear();
    this.#subscriber.disconnect();
  }

  /** Channels subscribed now (waited on, or idle within the linger time). */
  get subscribed(): number {
    return this.#listeners.size;
  }

  #becameIdle(channel: string): void {
    this.#idle.delete(channel);
    this.#idle.set(channel, Date.now());
    while (this.#idle.size > this.#maxIdle)
      this.#unsubscribe(this.#idle.keys().next().value as string);
    this.#sweeper ??= setInterval(() => this.#sweep(), Math.max(10, this.#lingerMs / 2)).unref();
  }

  #sweep(): void {
    const before = Date.now() - this.#lingerMs;
    for (const [channel, since] of this.#idle) {
      if (since > before) break;
      this.#unsubscribe(channel);
    }
    if (this.#idle.size === 0) {
      clearInterval(this.#sweeper);
      this.#sweeper = undefined;
    }
  }

  #unsubscribe(channel: string): void {
    this.#idle.delete(channel);
    this.#listeners.delete(channel);
    this.#subscriber.unsubscribe(channel).catch(() => undefined);
  }

  #dispatch(channel: string, message: string): void {
    const set = this.#listeners.get(channel);
    if (!set) return;
    if (message.startsWith(MEMBER_PREFIX)) {
      // A session joined, changed or left: ordered-mode polls redistribute leases, so all
      // wake; shared-mode polls only if they poll for that session (records it gave back
      // are announced apart, with their count: see PartitionLedger.releaseHolder).
      const member = message.slice(MEMBER_PREFIX.length);
      for (const listener of [...set])
        if (!listener.some || listener.member === member) listener.wake(0);
      return;
    }
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

/** How long a channel stays subscribed after its last listener left. */
const LINGER_MS = 30_000;
/** Idle channels kept subscribed at most; the oldest goes first. */
const MAX_IDLE = 10_000;

interface WakeListener {
  readonly wake: (at: number) => void;
  readonly some: boolean;
  readonly member: string;
}

const MEMBER_PREFIX = 'm:';

/** The group-channel message saying session `id` joined, changed its subscription or left. */
export function memberMessage(id: string): string {
  return `${MEMBER_PREFIX}${id}`;
}
