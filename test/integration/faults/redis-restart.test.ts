// Idempotency keys across a Redis crash: the local stack's Redis (append-only
// file, fsync every second) is SIGKILLed and started again under a running
// gateway; every key answered before the crash replays its answer and writes
// nothing.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import Kafka from 'node-rdkafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../../support/eventually.js';
import { recordReport } from '../../support/fault-report.js';
import { closeAllGateways, startGateway } from '../../support/gateway-in-process.js';
import { closeAllClients, createTopic, uniqueName } from '../../support/kafka.js';
import { privateStack, stack, stopPrivateStack, type StackEnv } from '../../support/stack.js';

const KEYS = 300;

describe('Idempotency-Key across a Redis SIGKILL and restart (the stack default: AOF)', () => {
  let runDir = '';
  let env: StackEnv;

  beforeAll(async () => {
    ({ runDir, env } = await privateStack('kgw-redis-'));
  });

  afterAll(async () => {
    await closeAllGateways();
    await closeAllClients();
    await stopPrivateStack(runDir);
  });

  it('replays every key answered before the crash and writes nothing again', async () => {
    const topic = await createTopic({
      brokers: env.kafkaBrokers,
      prefix: 'redis-restart',
      partitions: 3,
    });
    const gw = await startGateway({ KAFKA_BROKERS: env.kafkaBrokers, REDIS_URL: env.redisUrl });
    const send = async (key: string) => {
      const res = await fetch(`${gw.url}/topics/${topic}`, {
        method: 'POST',
        headers: { 'content-type': 'application/vnd.kafka.json.v2+json', 'idempotency-key': key },
        body: JSON.stringify({ records: [{ value: { key, i: 0 } }, { value: { key, i: 1 } }] }),
      });
      return {
        status: res.status,
        replayed: res.headers.get('idempotent-replayed') === 'true',
        text: await res.text(),
      };
    };
    const keys = Array.from({ length: KEYS }, () => uniqueName('aof'));
    const first = new Map<string, string>();
    for (let i = 0; i < keys.length; i += 30) {
      const slice = keys.slice(i, i + 30);
      const results = await Promise.all(slice.map(send));
      results.forEach((r, j) => {
        expect(r.status).toBe(200);
        first.set(slice[j]!, r.text);
      });
    }
    // appendfsync everysec: what Redis acknowledged more than a second or two ago is on disk.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    const pid = Number((await readFile(join(runDir, 'redis.pid'), 'utf8')).split(' ')[0]);
    process.kill(pid, 'SIGKILL');
    await stack(runDir, 'start', 'redis');
    await eventually(async () => expect((await fetch(`${gw.url}/readyz`)).status).toBe(200), {
      timeoutMs: 20_000,
    });

    let replayed = 0;
    let changed = 0;
    for (let i = 0; i < keys.length; i += 30) {
      const slice = keys.slice(i, i + 30);
      const results = await Promise.all(slice.map(send));
      results.forEach((r, j) => {
        expect(r.status).toBe(200);
        if (r.replayed) replayed += 1;
        if (r.text !== first.get(slice[j]!)) changed += 1;
      });
    }
    const count = await countRecords(env.kafkaBrokers, topic);
    recordReport('Redis SIGKILL and restart (AOF, everysec), keys replayed', {
      keys: KEYS,
      replayed,
      'answers that changed': changed,
      'records expected': KEYS * 2,
      'records found': count,
      duplicates: count - KEYS * 2,
    });
    expect(replayed).toBe(KEYS);
    expect(changed).toBe(0);
    expect(count).toBe(KEYS * 2);
  }, 120_000);
});

async function countRecords(brokers: string, topic: string): Promise<number> {
  const consumer = new Kafka.KafkaConsumer(
    { 'metadata.broker.list': brokers, 'group.id': uniqueName('count') },
    {},
  );
  await new Promise<void>((resolve, reject) =>
    consumer.connect({ timeout: 10_000 }, (err) => (err ? reject(err) : resolve())),
  );
  try {
    let total = 0;
    for (const partition of [0, 1, 2]) {
      total += await new Promise<number>((resolve, reject) =>
        consumer.queryWatermarkOffsets(topic, partition, 10_000, (err, marks) =>
          err ? reject(err) : resolve(marks.highOffset - marks.lowOffset),
        ),
      );
    }
    return total;
  } finally {
    await new Promise<void>((resolve) => consumer.disconnect(() => resolve()));
  }
}
