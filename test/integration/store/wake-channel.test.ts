// The wake channel's subscriptions against a real redis-server: a channel
// stays subscribed for a while after its last listener left (no subscribe and
// unsubscribe per poll), wakes still reach whoever listens, and idle channels
// are bounded by time and by count.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../gateway/src/observability/logger.js';
import { WakeChannel, memberMessage } from '../../../gateway/src/store/wake-channel.js';
import { eventually } from '../../support/eventually.js';
import { RedisServer } from '../../support/redis-server.js';

describe('wake channel subscriptions', () => {
  let server: RedisServer;
  let publisher: Redis;
  const channels: WakeChannel[] = [];
  const open = (idle: { lingerMs?: number; maxIdle?: number }): WakeChannel => {
    const wake = new WakeChannel(server.url, createLogger('silent'), undefined, idle);
    wake.start();
    channels.push(wake);
    return wake;
  };
  /** Channels Redis says someone subscribes to, among these. */
  const subscribedInRedis = async (names: readonly string[]): Promise<string[]> => {
    const all = (await publisher.call('PUBSUB', 'CHANNELS')) as string[];
    return names.filter((n) => all.includes(n)).sort();
  };

  beforeAll(async () => {
    server = await RedisServer.start();
    publisher = new Redis(server.url);
  });
  afterAll(async () => {
    for (const c of channels) c.close();
    publisher.disconnect();
    await server.stop();
  });

  it('keeps a channel subscribed after the last listener, so the next listen is not fresh', async () => {
    const wake = open({ lingerMs: 60_000 });
    const first = wake.listen(['w:a', 'w:b'], () => undefined);
    expect(first.fresh).toBe(true);
    await first.ready;
    first.stop();
    expect(wake.subscribed).toBe(2);
    await eventually(async () =>
      expect(await subscribedInRedis(['w:a', 'w:b'])).toEqual(['w:a', 'w:b']),
    );
    const heard: number[] = [];
    const second = wake.listen(['w:a'], (at) => heard.push(at));
    expect(second.fresh).toBe(false);
    await publisher.publish('w:a', '42');
    await eventually(async () => expect(heard).toEqual([42]));
    second.stop();
  });

  it('unsubscribes idle channels after the linger time, and the oldest past the idle bound', async () => {
    const wake = open({ lingerMs: 300, maxIdle: 2 });
    for (const name of ['x:1', 'x:2', 'x:3']) {
      const l = wake.listen([name], () => undefined);
      await l.ready;
      l.stop();
    }
    // Three idle, two allowed: the oldest went at once.
    expect(wake.subscribed).toBe(2);
    await eventually(async () =>
      expect(await subscribedInRedis(['x:1', 'x:2', 'x:3'])).toEqual(['x:2', 'x:3']),
    );
    const back = wake.listen(['x:1'], () => undefined);
    expect(back.fresh).toBe(true);
    back.stop();
    await eventually(async () => {
      expect(wake.subscribed).toBe(0);
      expect(await subscribedInRedis(['x:1', 'x:2', 'x:3'])).toEqual([]);
    });
  });

  it("wakes every ordered-mode listener on a membership message, and only the named session's shared-mode ones", async () => {
    const wake = open({});
    const heard: string[] = [];
    const listeners = [
      wake.listen(['g:m'], () => heard.push('ordered-a'), 'all', 'a'),
      wake.listen(['g:m'], () => heard.push('shared-b'), 'some', 'b'),
      wake.listen(['g:m'], () => heard.push('shared-c'), 'some', 'c'),
    ];
    await eventually(async () => expect(await subscribedInRedis(['g:m'])).toEqual(['g:m']));
    await publisher.publish('g:m', memberMessage('c'));
    await eventually(() => expect(heard.sort()).toEqual(['ordered-a', 'shared-c']));
    // A plain group message still wakes everyone.
    heard.length = 0;
    await publisher.publish('g:m', '0');
    await eventually(() => expect(heard.sort()).toEqual(['ordered-a', 'shared-b', 'shared-c']));
    for (const l of listeners) l.stop();
  });
});
