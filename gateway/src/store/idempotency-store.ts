import type { Redis } from 'ioredis';
import { redisError } from './redis-scripts.js';

/** A partition an attempt writes to, and an offset at or below where its records land. */
export interface IdempotencyTarget {
  readonly partition: number;
  readonly from: number;
}

/** What a request holding an Idempotency-Key should do. */
export type IdempotencyClaim =
  | { readonly kind: 'started' }
  | { readonly kind: 'in_flight'; readonly retryAfterMs: number }
  | { readonly kind: 'mismatch' }
  | { readonly kind: 'replay'; readonly response: string }
  /** An earlier attempt may have written: read the targets for the key before writing anything. */
  | { readonly kind: 'settle'; readonly targets: readonly IdempotencyTarget[] };

export interface IdempotencyStoreOptions {
  /** How long a key is kept, pending or done. */
  readonly ttlMs: number;
  /**
   * How long after an attempt claims (or takes over) a key none of its
   * records can still land in Kafka: connect + message timeout + a margin.
   * Until then a second attempt gets 409; after it, the second attempt
   * settles the doubt from the log.
   */
  readonly settleAfterMs: number;
}

// One hash per key: state (pending|done), fp (request fingerprint), owner
// (token of the attempt that holds it), settle_at (Redis clock, ms), targets
// ("partition:from,..."), response. Time comes from Redis so gateways with
// skewed clocks agree on when a pending key may be settled.
const NOW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

// KEYS[1]; ARGV: fp, token, settleAfterMs, ttlMs, targets.
const CLAIM = `${NOW}
local v = redis.call('HMGET', KEYS[1], 'state', 'fp', 'settle_at', 'targets', 'response')
if not v[1] then
  redis.call('HSET', KEYS[1], 'state', 'pending', 'fp', ARGV[1], 'owner', ARGV[2],
    'settle_at', now + tonumber(ARGV[3]), 'targets', ARGV[5])
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
  return {'started'}
end
if v[2] ~= ARGV[1] then return {'mismatch'} end
if v[1] == 'done' then return {'replay', v[5]} end
local at = tonumber(v[3])
if now < at then return {'in_flight', tostring(at - now)} end
redis.call('HSET', KEYS[1], 'owner', ARGV[2], 'settle_at', now + tonumber(ARGV[3]))
return {'settle', v[4]}
`;

// Adds partitions a settling attempt is about to write to; a partition already
// listed keeps its lower offset. KEYS[1]; ARGV: token, targets.
const ADD_TARGETS = `
local v = redis.call('HMGET', KEYS[1], 'state', 'owner', 'targets')
if v[1] ~= 'pending' or v[2] ~= ARGV[1] then return 0 end
local have = {}
for p in string.gmatch(v[3], '(%d+):%d+') do have[p] = true end
local out = v[3]
for entry in string.gmatch(ARGV[2], '[^,]+') do
  local p = string.match(entry, '^(%d+):')
  if not have[p] then
    have[p] = true
    if out == '' then out = entry else out = out .. ',' .. entry end
  end
end
redis.call('HSET', KEYS[1], 'targets', out)
return 1
`;

// Stores the response only if this attempt still owns the pending key. KEYS[1]; ARGV: token, response, ttl.
const COMPLETE = `
local v = redis.call('HMGET', KEYS[1], 'state', 'owner')
if v[1] ~= 'pending' or v[2] ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'state', 'done', 'response', ARGV[2])
redis.call('HDEL', KEYS[1], 'owner', 'settle_at', 'targets')
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
`;

// Every record of the attempt has its delivery report: nothing more of it can
// land, so the next attempt may settle at once. KEYS[1]; ARGV: token.
const SETTLEABLE = `${NOW}
local v = redis.call('HMGET', KEYS[1], 'state', 'owner')
if v[1] ~= 'pending' or v[2] ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'settle_at', now)
return 1
`;

// Frees a key whose attempts wrote nothing. KEYS[1]; ARGV: token.
const ABANDON = `
local v = redis.call('HMGET', KEYS[1], 'state', 'owner')
if v[1] == 'pending' and v[2] == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

/**
 * Idempotency-Key bookkeeping in Redis: one small state machine per key
 * (absent → pending → done, or pending → absent when nothing was written).
 * Every transition is one script, fenced by the owning attempt's token, so
 * two instances racing on a key cannot both write. Keys carry a hash tag so
 * Redis Cluster keeps each in one slot.
 */
export class IdempotencyStore {
  readonly #redis: Redis;
  readonly #options: IdempotencyStoreOptions;

  constructor(redis: Redis, options: IdempotencyStoreOptions) {
    this.#redis = redis;
    this.#options = options;
  }

  static redisKey(key: string): string {
    return `kgw:idem:{${key}}`;
  }

  /** Claims the key for the attempt `token` that will write to `targets`, or says why not. */
  async claim(
    key: string,
    fingerprint: string,
    token: string,
    targets: readonly IdempotencyTarget[],
  ): Promise<IdempotencyClaim> {
    const reply = (await this.#eval(
      CLAIM,
      key,
      fingerprint,
      token,
      String(this.#options.settleAfterMs),
      String(this.#options.ttlMs),
      formatTargets(targets),
    )) as string[];
    switch (reply[0]) {
      case 'started':
        return { kind: 'started' };
      case 'in_flight':
        return { kind: 'in_flight', retryAfterMs: Number(reply[1]) };
      case 'mismatch':
        return { kind: 'mismatch' };
      case 'settle':
        return { kind: 'settle', targets: parseTargets(reply[1] ?? '') };
      default:
        return { kind: 'replay', response: reply[1] ?? '' };
    }
  }

  /** Records more partitions before a settling attempt writes to them; false if it lost the key. */
  async addTargets(
    key: string,
    token: string,
    targets: readonly IdempotencyTarget[],
  ): Promise<boolean> {
    return (await this.#eval(ADD_TARGETS, key, token, formatTargets(targets))) === 1;
  }

  /** Stores the final response for replays; false if the attempt no longer owns the key. */
  async complete(key: string, token: string, response: string): Promise<boolean> {
    return (await this.#eval(COMPLETE, key, token, response, String(this.#options.ttlMs))) === 1;
  }

  /** The attempt's outcome is unknown but final: the next attempt may settle from the log now. */
  async settleable(key: string, token: string): Promise<boolean> {
    return (await this.#eval(SETTLEABLE, key, token)) === 1;
  }

  /** Releases a key whose attempts wrote nothing, so a retry runs as a first attempt. */
  async abandon(key: string, token: string): Promise<void> {
    await this.#eval(ABANDON, key, token);
  }

  async #eval(script: string, key: string, ...args: string[]): Promise<unknown> {
    try {
      // The scripts are a few hundred bytes; plain EVAL keeps this correct across Redis restarts.
      return await this.#redis.eval(script, 1, IdempotencyStore.redisKey(key), ...args);
    } catch (err) {
      throw redisError(err, 'an Idempotency-Key step');
    }
  }
}

export function formatTargets(targets: readonly IdempotencyTarget[]): string {
  return targets.map((t) => `${t.partition}:${t.from}`).join(',');
}

export function parseTargets(text: string): IdempotencyTarget[] {
  if (text === '') return [];
  return text.split(',').map((entry) => {
    const [partition, from] = entry.split(':');
    return { partition: Number(partition), from: Number(from) };
  });
}
