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

/** KEYS: lock. ARGV: owner, ttl. Takes the lock, or renews it when the owner holds it already. */
const LOCK = `
local v = redis.call('GET', KEYS[1])
if v and v ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`;

/** KEYS: active groups. ARGV: group, visit start. Forgets the group unless it was marked since. */
const QUIET = `
local at = redis.call('ZSCORE', KEYS[1], ARGV[1])
if at and tonumber(at) <= tonumber(ARGV[2]) then redis.call('ZREM', KEYS[1], ARGV[1]) end
return 0
`;

/** KEYS: sessions, seen. ARGV: id, config, maxPerGroup, now. 1 created, 0 name taken, -1 group full. */
const CREATE = `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return 0 end
if redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[3]) then return -1 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])
return 1
`;

/**
 * KEYS: the principal's sessions. ARGV: member, max, now.
 * 1 reserved, 0 already there (the name is taken: the create says so), -1 at the cap.
 */
const RESERVE = `
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 0 end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return -1 end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
return 1
`;

/** A reservation older than this whose session does not exist is a leftover (a creator died, Redis lost the group). */
const STALE_RESERVATION_MS = 30_000;

export type ConsumeMode = 'ordered' | 'shared';
/** How a consumer renders keys and values; the last three decode the Confluent wire format with a registry schema. */
export type EmbeddedFormat = 'json' | 'binary' | 'avro' | 'jsonschema' | 'protobuf';

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
  /**
   * When an ack answers: `kafka` (absent: the default) once Kafka holds the
   * commit; `redis` once the ledger has it, Kafka's commit following within
   * REDIS_ACK_COMMIT_DELAY_MS (core/group-committer.ts).
   */
  readonly ackDurability?: AckDurability;
  readonly maxAttempts: number;
  /** null: `<topic>.dlq`. */
  readonly deadLetterTopic: string | null;
  /** Default long-poll timeout of GET records. */
  readonly requestTimeoutMs: number;
  /** Ordered mode: a lease not renewed by a poll within this time goes to another instance. */
  readonly leaseTimeoutMs: number;
  readonly createdAt: number;
  /** The principal that created it; only it may use it (absent: created before ownership). */
  readonly owner?: string;
}

/** When an ack answers; see SessionConfig.ackDurability. */
export type AckDurability = 'kafka' | 'redis';

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
  readonly #scripts: RedisScripts<'pollStart' | 'create' | 'quiet' | 'lock' | 'reserve'>;
  /** When this process last marked each group active (at most once a second per group). */
  readonly #markedAt = new Map<string, number>();

  constructor(redis: Redis) {
    this.#redis = redis;
    this.#scripts = new RedisScripts(redis, {
      pollStart: POLL_START,
      create: CREATE,
      quiet: QUIET,
      lock: LOCK,
      reserve: RESERVE,
    });
  }

  /**
   * Creates the session unless the name is taken, the group already holds
   * `maxPerGroup` sessions, or it would be a new group beyond `maxGroups`.
   * The per-group bound is atomic (one script in the group's slot); the group
   * count is checked just before, so racing creators may pass it by a few.
   * With `maxPerPrincipal`, a slot in the owner's set is reserved first (one
   * script, so creators racing through any instances never pass the cap) and
   * given back if the session is not created.
   */
  async create(
    config: SessionConfig,
    limits: {
      readonly maxPerGroup: number;
      readonly maxGroups: number;
      readonly maxPerPrincipal?: number;
    },
  ): Promise<'created' | 'exists' | 'group_full' | 'too_many_groups' | 'principal_full'> {
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
      const capped = config.owner !== undefined && (limits.maxPerPrincipal ?? 0) > 0;
      const reserved = capped
        ? await this.#reserve(
            config.owner!,
            `${config.group}/${config.id}`,
            limits.maxPerPrincipal!,
          )
        : 0;
      if (reserved === -1) return 'principal_full';
      const created = (await this.#scripts.run(
        'create',
        [consumerKeys.sessions(config.group), consumerKeys.seen(config.group)],
        [config.id, JSON.stringify(config), limits.maxPerGroup, Date.now()],
      )) as number;
      if (created !== 1 && reserved === 1)
        await this.#redis.zrem(
          consumerKeys.principalSessions(config.owner!),
          `${config.group}/${config.id}`,
        );
      if (created === -1) return 'group_full';
      if (created === 0) return 'exists';
      await this.#redis.sadd(consumerKeys.groups(), config.group);
      return 'created';
    });
  }

  /** A slot for `member` in the principal's set; at the cap, leftovers are pruned and it is tried once more. */
  async #reserve(principal: string, member: string, max: number): Promise<number> {
    const key = consumerKeys.principalSessions(principal);
    const reserve = async () =>
      (await this.#scripts.run('reserve', [key], [member, max, Date.now()])) as number;
    const first = await reserve();
    if (first !== -1) return first;
    const old = await this.#redis.zrangebyscore(key, '-inf', Date.now() - STALE_RESERVATION_MS);
    let pruned = 0;
    for (const entry of old) {
      const slash = entry.indexOf('/');
      const exists = await this.#redis.hexists(
        consumerKeys.sessions(entry.slice(0, slash)),
        entry.slice(slash + 1),
      );
      if (exists === 0) pruned += await this.#redis.zrem(key, entry);
    }
    return pruned > 0 ? reserve() : first;
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

  /** Deletes the session and gives its slot back to `owner`'s cap. */
  async delete(group: string, id: string, owner?: string): Promise<boolean> {
    return this.#wrap(async () => {
      const replies = await this.#redis
        .multi()
        .hdel(consumerKeys.sessions(group), id)
        .del(consumerKeys.subscription(group, id))
        .zrem(consumerKeys.seen(group), id)
        .exec();
      // Another hash slot than the group's keys: a separate command, after the session is gone.
      if (owner !== undefined)
        await this.#redis.zrem(consumerKeys.principalSessions(owner), `${group}/${id}`);
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
  /** The group's sweep lock for `owner` (taken, or already its own), for ttlMs. */
  async tryLock(group: string, owner: string, ttlMs: number): Promise<boolean> {
    return (await this.#scripts.run('lock', [consumerKeys.sweepLock(group)], [owner, ttlMs])) === 1;
  }

  /** Remembers for ttlMs that native Kafka consumers are members of the group. */
  async markGroupInUse(group: string, ttlMs: number): Promise<void> {
    await this.#wrap(() => this.#redis.set(consumerKeys.inUse(group), '1', 'PX', ttlMs));
  }

  /**
   * The group handed out records: the worker visits it on every pass until it
   * finds it quiet. At most one write per group and second from this process;
   * best effort (the worker's full passes catch a lost mark).
   */
  markActive(group: string): void {
    const now = Date.now();
    if (now - (this.#markedAt.get(group) ?? 0) < 1000) return;
    if (this.#markedAt.size >= 10_000) {
      for (const [g, at] of this.#markedAt) if (now - at >= 1000) this.#markedAt.delete(g);
    }
    this.#markedAt.set(group, now);
    this.#redis.zadd(consumerKeys.activeGroups(), now, group).catch(() => undefined);
  }

  /** Groups marked active. */
  async activeGroups(): Promise<string[]> {
    return this.#wrap(() => this.#redis.zrange(consumerKeys.activeGroups(), 0, -1));
  }

  /** The worker found the group quiet at `visitStart`: stop visiting it, unless it was marked since. */
  async markQuiet(group: string, visitStart: number): Promise<void> {
    await this.#scripts.run('quiet', [consumerKeys.activeGroups()], [group, visitStart]);
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
