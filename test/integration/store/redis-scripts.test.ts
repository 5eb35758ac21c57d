// Script calls by SHA1 against a real redis-server: a Redis that lost its
// script cache (restarted, SCRIPT FLUSH) runs each call exactly once more by
// its text, alone or in a pipeline, in call order; other errors stay errors.
import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isGatewayError } from '../../../gateway/src/errors.js';
import { RedisScripts } from '../../../gateway/src/store/redis-scripts.js';
import { RedisServer } from '../../support/redis-server.js';

const SCRIPTS = {
  push: "redis.call('RPUSH', KEYS[1], ARGV[1]) return redis.call('LLEN', KEYS[1])",
  fail: "return redis.error_reply('ERR refused on purpose')",
};

describe('Redis scripts by SHA1', () => {
  let server: RedisServer;
  let redis: Redis;
  let scripts: RedisScripts<keyof typeof SCRIPTS>;

  beforeAll(async () => {
    server = await RedisServer.start();
    redis = new Redis(server.url);
    scripts = new RedisScripts(redis, SCRIPTS);
  });
  afterAll(async () => {
    redis.disconnect();
    await server.stop();
  });

  it('runs a script once after Redis forgot it, alone and in a pipeline, in call order', async () => {
    await redis.script('FLUSH');
    expect(await scripts.run('push', ['l1'], ['a'])).toBe(1);
    expect(await scripts.run('push', ['l1'], ['b'])).toBe(2);

    await redis.script('FLUSH');
    await redis.hset('h', 'f', 'v');
    const replies = await scripts.batch([
      { name: 'push', keys: ['l2'], args: ['x'] },
      { hget: ['h', 'f'] },
      { name: 'push', keys: ['l2'], args: ['y'] },
      { name: 'push', keys: ['l2'], args: ['z'] },
    ]);
    expect(replies).toEqual([1, 'v', 2, 3]);
    // Each call ran exactly once, in the order given.
    expect(await redis.lrange('l2', 0, -1)).toEqual(['x', 'y', 'z']);
    // Loaded again: the next calls go by SHA1 only.
    expect(await redis.script('EXISTS', createSha(SCRIPTS.push))).toEqual([1]);
  });

  it('turns a script error into KGW_REDIS_UNAVAILABLE, alone and in a pipeline', async () => {
    const alone = await scripts.run('fail', [], []).catch((err: unknown) => err);
    expect(isGatewayError(alone) && alone.code).toBe('KGW_REDIS_UNAVAILABLE');
    const piped = await scripts
      .batch([
        { name: 'push', keys: ['l3'], args: ['a'] },
        { name: 'fail', keys: [], args: [] },
      ])
      .catch((err: unknown) => err);
    expect(isGatewayError(piped) && piped.code).toBe('KGW_REDIS_UNAVAILABLE');
    expect(await redis.lrange('l3', 0, -1)).toEqual(['a']);
  });
});

function createSha(lua: string): string {
  return createHash('sha1').update(lua).digest('hex');
}
