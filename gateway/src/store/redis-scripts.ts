import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { GatewayError, isGatewayError } from '../errors.js';

type ScriptArg = string | number;

interface Script {
  readonly lua: string;
  readonly sha: string;
}

/**
 * Lua scripts called by their SHA1 (EVALSHA), alone or in a pipeline so a
 * poll or an ack request costs one round trip for many partitions. A script
 * Redis does not know (NOSCRIPT: a restarted or flushed Redis) did not run;
 * it runs once more by its text (EVAL, which also caches it), in call order.
 *
 * Not ioredis's defineCommand: that copies every defined script onto each
 * pipeline it creates, which cost a pipeline ~80 µs with the ledger's scripts.
 */
export class RedisScripts<Name extends string> {
  readonly #redis: Redis;
  readonly #scripts = new Map<Name, Script>();

  constructor(redis: Redis, scripts: Readonly<Record<Name, string>>) {
    this.#redis = redis;
    for (const [name, lua] of Object.entries(scripts) as [Name, string][]) {
      this.#scripts.set(name, { lua, sha: createHash('sha1').update(lua).digest('hex') });
    }
  }

  async run(name: Name, keys: readonly string[], args: readonly ScriptArg[]): Promise<unknown> {
    const script = this.#script(name);
    try {
      try {
        return await this.#redis.evalsha(script.sha, keys.length, ...keys, ...args);
      } catch (err) {
        if (!isNoScript(err)) throw err;
        return await this.#redis.eval(script.lua, keys.length, ...keys, ...args);
      }
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
      if ('hget' in c) pipeline.hget(...c.hget);
      else pipeline.evalsha(this.#script(c.name).sha, c.keys.length, ...c.keys, ...c.args);
    }
    let replies: [Error | null, unknown][] | null;
    try {
      replies = await pipeline.exec();
    } catch (err) {
      throw redisError(err);
    }
    const out: unknown[] = [];
    for (let i = 0; i < calls.length; i += 1) {
      const [err, value] = replies?.[i] ?? [new Error('no reply'), null];
      const call = calls[i]!;
      if (err && isNoScript(err) && 'name' in call) {
        out.push(await this.run(call.name, call.keys, call.args));
        continue;
      }
      if (err) throw redisError(err);
      out.push(value);
    }
    return out;
  }

  #script(name: Name): Script {
    const script = this.#scripts.get(name);
    if (!script) throw new Error(`unknown Redis script ${name}`);
    return script;
  }
}

function isNoScript(err: unknown): boolean {
  return err instanceof Error && err.message.startsWith('NOSCRIPT');
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
