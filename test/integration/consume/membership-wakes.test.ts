// Sessions joining, changing or leaving a shared-mode group do not wake every
// long-poll waiting there (each woken poll reads Redis again: with thousands
// waiting, one subscribe cost seconds of CPU and hundreds of thousands of Redis
// calls). Records a leaving session gives back still reach waiting polls at
// once, through their partitions' channels.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { eventually } from '../../support/eventually.js';
import { closeAllGateways, startGateway } from '../../support/gateway-in-process.js';
import { closeAllClients, createTopic, uniqueName } from '../../support/kafka.js';
import { RestConsumer, produceNumbers } from '../../support/rest-consumer.js';

const WAITING = 20;

async function metric(url: string, pattern: RegExp): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(pattern.exec(text)?.[1] ?? NaN);
}

const waitingPolls = (url: string): Promise<number> =>
  metric(url, /^kgw_consume_long_polls_waiting (\d+)/m);
/** Scripts the gateway ran in Redis so far (every poll attempt runs at least one). */
const scriptsRun = (url: string): Promise<number> =>
  metric(url, /^kgw_redis_command_seconds_count\{command="evalsha"\} (\d+)/m);

describe('membership changes in a shared-mode group', () => {
  afterEach(closeAllClients);
  afterAll(closeAllGateways);

  it('do not wake the polls waiting in the group; records given back wake them at once', async () => {
    const gw = await startGateway();
    const topic = await createTopic({ partitions: 3 });
    const group = uniqueName('g');
    const join = async (): Promise<RestConsumer> => {
      const s = await RestConsumer.create(gw.url, group, { mode: 'shared' });
      await s.subscribe(gw.url, [topic]);
      return s;
    };
    // A session holding two records, then sessions whose polls wait on the empty rest.
    await produceNumbers(gw.url, topic, 2);
    const holder = await join();
    const held = [];
    // A first poll may read one partition only: poll until it holds both.
    for (let i = 0; i < 10 && held.length < 2; i += 1)
      held.push(...(await holder.poll(gw.url, { timeout: 2000, max_records: 2 - held.length })));
    expect(held).toHaveLength(2);
    const waiters = await Promise.all(Array.from({ length: WAITING }, join));
    const answered: { at: number; offsets: number[] }[] = [];
    const polls = waiters.map(async (s) => {
      const records = await s.poll(gw.url, { timeout: 8000 });
      answered.push({ at: Date.now(), offsets: records.map((r) => r.offset) });
    });
    await eventually(async () => expect(await waitingPolls(gw.url)).toBe(WAITING), {
      timeoutMs: 15_000,
    });

    // Another session joins, and one changes its subscription: nobody waiting is woken.
    const before = await scriptsRun(gw.url);
    const newcomer = await join();
    await newcomer.subscribe(gw.url, [topic]);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const spent = (await scriptsRun(gw.url)) - before;
    expect(await waitingPolls(gw.url)).toBe(WAITING);
    // Joining and subscribing run a few scripts of their own; a woken poll runs at least one.
    expect(spent).toBeLessThan(WAITING / 2);
    expect(answered).toEqual([]);

    // The holder leaves: its two records come back and two waiting polls get them at once.
    const left = Date.now();
    await holder.delete(gw.url);
    await eventually(() => expect(answered.flatMap((a) => a.offsets)).toHaveLength(2), {
      timeoutMs: 5000,
      intervalMs: 20,
    });
    expect(Math.max(...answered.map((a) => a.at)) - left).toBeLessThan(1500);
    expect(answered.flatMap((a) => a.offsets).sort()).toEqual(held.map((r) => r.offset).sort());
    await Promise.all(polls);
  }, 60_000);
});
