import type { Redis } from 'ioredis';
import { redisError } from './redis-scripts.js';

/**
 * GCRA (the generic cell rate algorithm) over several limits at once, in one
 * script on Redis's clock, so every gateway instance draws from the same
 * budget. KEYS: one theoretical-arrival-time key per limit (same hash tag).
 * ARGV: per limit its interval (ms per unit), burst tolerance (ms) and cost.
 * Either every limit admits the cost and all are charged, or none is: the
 * reply says how long until the tightest one would admit it.
 */
const GCRA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local wait = 0
local remaining = -1
local tats = {}
for i = 1, #KEYS do
  local interval = tonumber(ARGV[3 * i - 2])
  local burst = tonumber(ARGV[3 * i - 1])
  local cost = tonumber(ARGV[3 * i])
  local tat = tonumber(redis.call('GET', KEYS[i]) or now)
  if tat < now then tat = now end
  local new_tat = tat + cost * interval
  local allow_at = new_tat - burst - interval
  if allow_at > now then
    wait = math.max(wait, allow_at - now)
  else
    local left = math.floor((now - allow_at) / interval)
    if remaining < 0 or left < remaining then remaining = left end
  end
  tats[i] = new_tat
end
if wait > 0 then return {0, wait, 0} end
for i = 1, #KEYS do
  redis.call('SET', KEYS[i], tats[i], 'PX', math.ceil(tats[i] - now) + 1000)
end
return {1, 0, remaining}
`;

export interface Limit {
  /** Units admitted per second, sustained. */
  readonly perSecond: number;
  /** Units admitted at once beyond the rate (a burst); default one second's worth. */
  readonly burst?: number;
}

export interface RateDecision {
  readonly allowed: boolean;
  /** When refused: how long until the request would be admitted. */
  readonly retryAfterMs: number;
  /** When allowed: how many more units of the tightest limit fit right now. */
  readonly remaining: number;
}

/** Shared rate limits in Redis (GCRA), one round trip per check. */
export class RateLimiter {
  readonly #redis: Redis;

  constructor(redis: Redis) {
    this.#redis = redis;
  }

  /** Charges `cost` units to each keyed limit, all or none. */
  async take(
    charges: ReadonlyArray<{ readonly key: string; readonly limit: Limit; readonly cost: number }>,
  ): Promise<RateDecision> {
    if (charges.length === 0) return { allowed: true, retryAfterMs: 0, remaining: -1 };
    const args: string[] = [];
    for (const { limit, cost } of charges) {
      const interval = 1000 / limit.perSecond;
      const burst = Math.max(0, (limit.burst ?? limit.perSecond) - 1) * interval;
      args.push(String(interval), String(burst), String(cost));
    }
    try {
      const [allowed, wait, remaining] = (await this.#redis.eval(
        GCRA,
        charges.length,
        ...charges.map((c) => c.key),
        ...args,
      )) as [number, number, number];
      return { allowed: allowed === 1, retryAfterMs: Number(wait), remaining: Number(remaining) };
    } catch (err) {
      throw redisError(err, 'a rate limit check');
    }
  }
}
