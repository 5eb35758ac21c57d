import type { Redis } from 'ioredis';
import { consumerKeys } from './consumer-keys.js';
import { RedisScripts, redisError } from './redis-scripts.js';

/**
 * KEYS: sessions, subscription, seen, in-use. ARGV: id, now.
 * The session and its subscription, marks it alive, counts the group's sessions
 * seen within the session's lease timeout, and reads the group's in-use mark.
 */
const POLL_START = `
local session = redis.call('HGET', KEYS[1], ARGV[1])
if not session then return {false, false, 0, 0} end
local window = tonumber(cjson.decode(session).leaseTimeoutMs) or 30000
local now = tonumber(ARGV[2])
redis.call('ZADD', KEYS[3], now, ARGV[1])
return {session, redis.call('GET', KEYS[2]) or false,
  redis.call('ZCOUNT', KEYS[3], now - window, '+inf'), redis.call('EXISTS', KEYS[4])}
`;

export type ConsumeMode = 'ordered' | 'shared';
export type EmbeddedFormat = 'json' | 'binary';

/** A consumer instance's settings, fixed at creation. */
export interface SessionConfig {
  readonly group: string;
  readonly id: string;
  readonly format: EmbeddedFormat;
  readonly mode: ConsumeMode;
  readonly autoOffsetReset: 'earliest' | 'latest';
  readonly autoCommit: boolean;
  /** Visibility timeout of a delivered record. */
  readonly ackTimeoutMs: number;
  readonly maxAttempts: number;
  /** null: `<topic>.dlq`. */
  readonly deadLetterTopic: string | null;
  /** Default long-poll timeout of GET records. */
  readonly requestTimeoutMs: number;
  /** Ordered mode: a lease not renewed by a poll within this time goes to another instance. */
  readonly leaseTimeoutMs: number;
  readonly createdAt: number;
}

/** What a session reads: topics, a pattern, or manually assigned partitions. */
export type Subscription =
  | { readonly kind: 'topics'; readonly topics: readonly string[] }
  | { readonly kind: 'pattern'; readonly pattern: string }
  | {
      readonly kind: 'assigned';
      readonly partitions: ReadonlyArray<{ topic: string; partition: number }>;
    };

/** Consumer sessions in Redis: created by one instance, served by any. */
export class SessionStore {
  readonly #redis: Redis;
  readonly #scripts: RedisScripts<'pollStart'>;

  constructor(redis: Redis) {
    this.#redis = redis;
    this.#scripts = new RedisScripts(redis, { pollStart: POLL_START });
  }

  /** Creates the session; false when the name is taken in the group. */
  async create(config: SessionConfig): Promise<boolean> {
    return this.#wrap(async () => {
      const created = await this.#redis.hsetnx(
        consumerKeys.sessions(config.group),
        config.id,
        JSON.stringify(config),
      );
      if (created === 1) {
        await this.#redis
          .pipeline()
          .sadd(consumerKeys.groups(), config.group)
          .zadd(consumerKeys.seen(config.group), Date.now(), config.id)
          .exec();
      }
      return created === 1;
    });
  }

  async get(group: string, id: string): Promise<SessionConfig | null> {
    return this.#wrap(async () => {
      const raw = await this.#redis.hget(consumerKeys.sessions(group), id);
      return raw ? (JSON.parse(raw) as SessionConfig) : null;
    });
  }

  async list(group: string): Promise<SessionConfig[]> {
    return this.#wrap(async () => {
      const all = await this.#redis.hvals(consumerKeys.sessions(group));
      return all.map((raw) => JSON.parse(raw) as SessionConfig);
    });
  }

  async delete(group: string, id: string): Promise<boolean> {
    return this.#wrap(async () => {
      const replies = await this.#redis
        .multi()
        .hdel(consumerKeys.sessions(group), id)
        .del(consumerKeys.subscription(group, id))
        .zrem(consumerKeys.seen(group), id)
        .exec();
      return replies?.[0]?.[1] === 1;
    });
  }

  async subscription(group: string, id: string): Promise<Subscription | null> {
    return this.#wrap(async () => {
      const raw = await this.#redis.get(consumerKeys.subscription(group, id));
      return raw ? (JSON.parse(raw) as Subscription) : null;
    });
  }

  async setSubscription(
    group: string,
    id: string,
    subscription: Subscription | null,
  ): Promise<void> {
    await this.#wrap(async () => {
      const key = consumerKeys.subscription(group, id);
      if (subscription) await this.#redis.set(key, JSON.stringify(subscription));
      else await this.#redis.del(key);
    });
  }

  /**
   * The start of a poll attempt in one round trip: the session and its
   * subscription, marks it alive, counts the group's live sessions (for the
   * fair share) and whether native Kafka consumers were seen in the group.
   */
  async pollStart(
    group: string,
    id: string,
  ): Promise<{
    session: SessionConfig | null;
    subscription: Subscription | null;
    live: number;
    inUse: boolean;
  }> {
    const [session, subscription, live, inUse] = (await this.#scripts.run(
      'pollStart',
      [
        consumerKeys.sessions(group),
        consumerKeys.subscription(group, id),
        consumerKeys.seen(group),
        consumerKeys.inUse(group),
      ],
      [id, Date.now()],
    )) as [string | null, string | null, number, number];
    return {
      session: session ? (JSON.parse(session) as SessionConfig) : null,
      subscription: subscription ? (JSON.parse(subscription) as Subscription) : null,
      live: Math.max(1, Number(live)),
      inUse: Number(inUse) === 1,
    };
  }

  /** Sessions of a group not seen for idleMs (for the reaper). */
  async idle(group: string, idleMs: number): Promise<string[]> {
    return this.#wrap(() =>
      this.#redis.zrangebyscore(consumerKeys.seen(group), '-inf', Date.now() - idleMs),
    );
  }

  /** A short exclusive lock on a group's background duties, so several workers do not repeat them. */
  async tryLock(group: string, owner: string, ttlMs: number): Promise<boolean> {
    return this.#wrap(async () => {
      const reply = await this.#redis.set(consumerKeys.sweepLock(group), owner, 'PX', ttlMs, 'NX');
      return reply === 'OK';
    });
  }

  /** Remembers for ttlMs that native Kafka consumers are members of the group. */
  async markGroupInUse(group: string, ttlMs: number): Promise<void> {
    await this.#wrap(() => this.#redis.set(consumerKeys.inUse(group), '1', 'PX', ttlMs));
  }

  async groups(): Promise<string[]> {
    return this.#wrap(() => this.#redis.smembers(consumerKeys.groups()));
  }

  async #wrap<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      throw redisError(err);
    }
  }
}
