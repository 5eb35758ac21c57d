import type { ChainableCommander, Redis } from 'ioredis';
import { GatewayError, isGatewayError } from '../errors.js';

type ScriptArg = string | number;
type Caller = (numKeys: number, ...args: ScriptArg[]) => Promise<unknown>;
type PipelineCaller = (numKeys: number, ...args: ScriptArg[]) => ChainableCommander;

/**
 * Lua scripts registered once per connection (ioredis sends EVALSHA and falls
 * back to EVAL after a Redis restart), callable alone or in a pipeline so a
 * poll or an ack request costs one round trip for many partitions.
 */
export class RedisScripts<Name extends string> {
  readonly #redis: Redis;

  constructor(redis: Redis, scripts: Readonly<Record<Name, string>>) {
    this.#redis = redis;
    for (const [name, lua] of Object.entries(scripts) as [Name, string][]) {
      redis.defineCommand(`kgw_${name}`, { lua });
    }
  }

  async run(name: Name, keys: readonly string[], args: readonly ScriptArg[]): Promise<unknown> {
    try {
      const caller = (this.#redis as unknown as Record<string, Caller>)[`kgw_${name}`]!;
      return await caller.call(this.#redis, keys.length, ...keys, ...args);
    } catch (err) {
      throw redisError(err);
    }
  }

  /** Runs many script calls (and plain reads, `{ hget }`) in one round trip; results in call order. */
  async batch(
    calls: ReadonlyArray<
      | { name: Name; keys: readonly string[]; args: readonly ScriptArg[] }
      | { hget: readonly [key: string, field: string] }
    >,
  ): Promise<unknown[]> {
    if (calls.length === 0) return [];
    const pipeline = this.#redis.pipeline();
    for (const c of calls) {
      if ('hget' in c) {
        pipeline.hget(...c.hget);
        continue;
      }
      const caller = (pipeline as unknown as Record<string, PipelineCaller>)[`kgw_${c.name}`]!;
      caller.call(pipeline, c.keys.length, ...c.keys, ...c.args);
    }
    let replies: [Error | null, unknown][] | null;
    try {
      replies = await pipeline.exec();
    } catch (err) {
      throw redisError(err);
    }
    return (replies ?? []).map(([err, value]) => {
      if (err) throw redisError(err);
      return value;
    });
  }
}

/**
 * A Redis failure as the client sees it: a fixed message (the client library's
 * own text goes to the log through `cause`, never into a response body).
 */
export function redisError(err: unknown, what = 'a request'): GatewayError {
  if (isGatewayError(err)) return err;
  return new GatewayError(
    'KGW_REDIS_UNAVAILABLE',
    `Redis did not complete ${what} (unreachable, timed out or refused); retry shortly`,
    { cause: err },
  );
}
