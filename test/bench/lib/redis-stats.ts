import { Redis } from 'ioredis';

/** Calls per command name, from `INFO commandstats` (commands run inside Lua scripts included). */
export type CommandCounts = ReadonlyMap<string, number>;

/**
 * Reads Redis's own command counters so a phase can be charged with the
 * commands it caused. Its own INFO calls are left out of every difference.
 */
export class RedisStats {
  readonly #redis: Redis;

  private constructor(redis: Redis) {
    this.#redis = redis;
  }

  static async connect(url: string): Promise<RedisStats> {
    const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await redis.connect();
    return new RedisStats(redis);
  }

  /** The redis-server's process id (for CPU accounting), if it says. */
  async pid(): Promise<number | undefined> {
    const info = await this.#redis.info('server');
    const pid = Number(/^process_id:(\d+)/m.exec(info)?.[1]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  }

  async commandCounts(): Promise<CommandCounts> {
    const info = await this.#redis.info('commandstats');
    const counts = new Map<string, number>();
    for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
      counts.set(match[1]!, Number(match[2]));
    }
    return counts;
  }

  async close(): Promise<void> {
    await this.#redis.quit().catch(() => this.#redis.disconnect());
  }
}

/** Commands per name between two snapshots, without this tool's own INFO calls. */
export function commandDelta(before: CommandCounts, after: CommandCounts): Map<string, number> {
  const delta = new Map<string, number>();
  for (const [name, calls] of after) {
    if (name === 'info') continue;
    const n = calls - (before.get(name) ?? 0);
    if (n > 0) delta.set(name, n);
  }
  return delta;
}

/** Script invocations (EVALSHA / EVAL) in a delta. */
export function scriptCalls(delta: CommandCounts): number {
  return (delta.get('evalsha') ?? 0) + (delta.get('eval') ?? 0);
}

export function totalCalls(delta: CommandCounts): number {
  let sum = 0;
  for (const n of delta.values()) sum += n;
  return sum;
}
