import { spawn } from 'node:child_process';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../../../gateway/src/config/load-config.js';
import { buildWorker, type Worker } from '../../../workers/src/worker.js';
import { eventually } from '../../support/eventually.js';
import {
  closeAllGateways,
  startGateway,
  type RunningGateway,
} from '../../support/gateway-in-process.js';
import { closeAllClients, createTopic, readTopic, uniqueName } from '../../support/kafka.js';
import { RestConsumer, produceNumbers } from '../../support/rest-consumer.js';
import { REPO_ROOT } from '../../support/stack.js';

describe('worker: background duties when nobody polls', () => {
  let gw: RunningGateway;
  let worker: Worker;
  beforeAll(async () => {
    gw = await startGateway();
    const config = loadConfig({
      KAFKA_BROKERS: inject('kafkaBrokers'),
      REDIS_URL: inject('redisUrl'),
      KGW_SESSION_IDLE_TIMEOUT_MS: '1500',
    });
    // Only this file's groups: other test files share the Redis and must keep their sessions.
    worker = buildWorker(
      config,
      pino({ level: process.env.KGW_TEST_LOG_LEVEL ?? 'silent' }),
      60_000,
      (group) => group.startsWith('wg-'),
    );
    worker.start();
  });
  afterEach(closeAllClients);
  afterAll(async () => {
    await worker.close();
    await closeAllGateways();
  });

  it('dead-letters a timed-out record past max.attempts and commits past it, with no poll', async () => {
    const topic = await createTopic();
    await createTopic({ name: `${topic}.dlq` }); // the gateway never creates it
    await produceNumbers(gw.url, topic, 2);
    const s = await RestConsumer.create(gw.url, uniqueName('wg'), {
      'max.attempts': 1,
      'ack.timeout.ms': 300,
    });
    await s.subscribe(gw.url, [topic]);
    const records = await s.poll(gw.url, { timeout: 3000 });
    await s.ack(
      gw.url,
      records.filter((r) => r.offset === 1),
    );
    await new Promise((resolve) => setTimeout(resolve, 500));

    const report = await worker.sweeper.runOnce();

    expect(report.deadLettered).toBeGreaterThanOrEqual(1);
    const [dead] = await readTopic(`${topic}.dlq`, { count: 1 });
    expect(JSON.parse(dead!.value!.toString())).toEqual({ i: 0 });
    const headers = Object.fromEntries(
      dead!.headers.flatMap((h) => Object.entries(h).map(([k, v]) => [k, v.toString()])),
    );
    expect(headers['kgw-last-error']).toBe('ack timeout');
    expect(await s.committed(gw.url, topic, [0])).toEqual([2]);
  });

  it('deletes sessions idle past KGW_SESSION_IDLE_TIMEOUT_MS and frees what they held', async () => {
    const topic = await createTopic();
    await produceNumbers(gw.url, topic, 3);
    const group = uniqueName('wg');
    const idle = await RestConsumer.create(gw.url, group, { 'ack.timeout.ms': 600_000 });
    await idle.subscribe(gw.url, [topic]);
    expect(await idle.poll(gw.url, { timeout: 3000 })).toHaveLength(3);
    await new Promise((resolve) => setTimeout(resolve, 1800));

    await eventually(async () =>
      expect((await worker.sweeper.runOnce()).reaped).toBeGreaterThanOrEqual(0),
    );
    const gone = await idle.raw('GET', gw.url, '/records?timeout=0');
    expect(gone.status).toBe(404);
    // Its unacked records did not wait for their 10-minute deadline.
    const next = await RestConsumer.create(gw.url, group);
    await next.subscribe(gw.url, [topic]);
    expect((await next.poll(gw.url, { timeout: 3000 })).map((r) => [r.offset, r.attempt])).toEqual([
      [0, 2],
      [1, 2],
      [2, 2],
    ]);
  });

  it('visits idle groups only on full passes, and a group again once it hands out records', async () => {
    const topic = await createTopic();
    const group = uniqueName('wg');
    const s = await RestConsumer.create(gw.url, group);
    await s.subscribe(gw.url, [topic]);
    const activeGroups = async (): Promise<string[]> => {
      const redis = new Redis(inject('redisUrl'));
      try {
        return await redis.zrange('kgw:groups:active', 0, -1);
      } finally {
        redis.disconnect();
      }
    };
    // A full pass sees every group; the group is quiet (nothing out), so the next passes skip it.
    expect((await worker.sweeper.runOnce({ full: true })).full).toBe(true);
    const idle = await worker.sweeper.runOnce();
    expect(idle.full).toBe(false);
    expect(await activeGroups()).not.toContain(group);
    // Records handed out make it active: visited every pass until they are resolved.
    await produceNumbers(gw.url, topic, 2);
    const records = await s.poll(gw.url, { timeout: 3000 });
    expect(records).toHaveLength(2);
    expect(await activeGroups()).toContain(group);
    await worker.sweeper.runOnce();
    expect(await activeGroups()).toContain(group);
    await s.ack(gw.url, records);
    // The next pass commits what is left (if anything); the one after finds it quiet.
    await worker.sweeper.runOnce();
    await worker.sweeper.runOnce();
    expect(await activeGroups()).not.toContain(group);
  });

  it('runs as its own process (npm run worker) and stops cleanly on SIGTERM', async () => {
    const proc = spawn(process.execPath, ['--import', 'tsx', 'workers/src/main.ts'], {
      cwd: REPO_ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        KAFKA_BROKERS: inject('kafkaBrokers'),
        REDIS_URL: inject('redisUrl'),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    proc.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    await eventually(() => expect(out).toContain('worker started'));
    const exit = await new Promise<number | null>((resolve) => {
      proc.once('exit', (code) => resolve(code));
      proc.kill('SIGTERM');
    });
    expect(exit).toBe(0);
    expect(out).toContain('worker stopped');
  });
});
