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

/** KEYS: sessions, seen. ARGV: id, config, maxPerGroup, now. 1 created, 0 name taken, -1 group full. */
const CREATE = `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return 0 end
if redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[3]) then return -1 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])
return 1
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
  readonly #scripts: RedisScripts<'pollStart' | 'create'>;

  constructor(redis: Redis) {
    this.#redis = redis;
    this.#scripts = new RedisScripts(redis, { pollStart: POLL_START, create: CREATE });
  }

  /**
   * Creates the session unless the name is taken, the group already holds
   * `maxPerGroup` sessions, or it would be a new group beyond `maxGroups`.
   * The per-group bound is atomic (one script in the group's slot); the group
   * count is checked just before, so racing creators may pass it by a few.
   */
  async create(
    config: SessionConfig,
    limits: { readonly maxPerGroup: number; readonly maxGroups: number },
  ): Promise<'created' | 'exists' | 'group_full' | 'too_many_groups'> {
    return this.#wrap(async () => {
      const [member, groups] = await this.#redis
        .pipeline()
        .sismember(consumerKeys.groups(), config.group)
        .scard(consumerKeys.groups())
        .exec()
        .then((replies) =>
          (replies ?? []).map(([err, value]) => {
            if (err) throw err;
            return Number(value);
          }),
        );
      if (member === 0 && (groups ?? 0) >= limits.maxGroups) return 'too_many_groups';
      const created = (await this.#scripts.run(
        'create',
        [consumerKeys.sessions(config.group), consumerKeys.seen(config.group)],
        [config.id, JSON.stringify(config), limits.maxPerGroup, Date.now()],
      )) as number;
      if (created === -1) return 'group_full';
      if (created === 0) return 'exists';
      await this.#redis.sadd(consumerKeys.groups(), config.group);
      return 'created';
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
