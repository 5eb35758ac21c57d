import type { Redis } from 'ioredis';
import { GatewayError, isGatewayError } from '../errors.js';

/** What a request holding an Idempotency-Key should do. */
export type IdempotencyClaim =
  | { readonly kind: 'started' }
  | { readonly kind: 'in_flight' }
  | { readonly kind: 'mismatch' }
  | { readonly kind: 'replay'; readonly response: string };

export interface IdempotencyStoreOptions {
  /** How long a finished request's response is kept. */
  readonly ttlMs: number;
  /** How long a started request holds its key if its gateway dies before finishing. */
  readonly pendingTtlMs: number;
}

// One hash per key: state (pending|done), fp (request fingerprint), response.
// Claiming is one atomic script, so two instances racing on a key cannot both start.
const CLAIM = `
local v = redis.call('HMGET', KEYS[1], 'state', 'fp', 'response')
if not v[1] then
  redis.call('HSET', KEYS[1], 'state', 'pending', 'fp', ARGV[1])
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {'started'}
end
if v[2] ~= ARGV[1] then return {'mismatch'} end
if v[1] == 'pending' then return {'in_flight'} end
return {'replay', v[3]}
`;

// Stores the response only if this request still owns the pending key.
const COMPLETE = `
local v = redis.call('HMGET', KEYS[1], 'state', 'fp')
if v[1] ~= 'pending' or v[2] ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'state', 'done', 'response', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
`;

const ABANDON = `
local v = redis.call('HMGET', KEYS[1], 'state', 'fp')
if v[1] == 'pending' and v[2] == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

/** Idempotency-Key bookkeeping in Redis; keys carry a hash tag so Redis Cluster keeps each in one slot. */
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

  /** Claims the key for a request with this fingerprint, or says why not. */
  async claim(key: string, fingerprint: string): Promise<IdempotencyClaim> {
    const reply = (await this.#eval(
      CLAIM,
      key,
      fingerprint,
      String(this.#options.pendingTtlMs),
    )) as string[];
    switch (reply[0]) {
      case 'started':
        return { kind: 'started' };
      case 'in_flight':
        return { kind: 'in_flight' };
      case 'mismatch':
        return { kind: 'mismatch' };
      default:
        return { kind: 'replay', response: reply[1] ?? '' };
    }
  }

  /** Stores the final response for replays; a no-op if the claim was lost (expired). */
  async complete(key: string, fingerprint: string, response: string): Promise<boolean> {
    return (
      (await this.#eval(COMPLETE, key, fingerprint, response, String(this.#options.ttlMs))) === 1
    );
  }

  /** Releases a claim whose request wrote nothing, so a retry may run. */
  async abandon(key: string, fingerprint: string): Promise<void> {
    await this.#eval(ABANDON, key, fingerprint);
  }

  async #eval(script: string, key: string, ...args: string[]): Promise<unknown> {
    try {
      // The scripts are a few hundred bytes; plain EVAL keeps this correct across Redis restarts.
      return await this.#redis.eval(script, 1, IdempotencyStore.redisKey(key), ...args);
    } catch (err) {
      if (isGatewayError(err)) throw err;
      throw new GatewayError(
        'KGW_REDIS_UNAVAILABLE',
        `Redis failed on an Idempotency-Key: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
  }
}
