// An ack whose Kafka commit cannot finish (the broker is down) answers 5xx and
// says the ack was recorded; once Kafka is back, the same ack again is a no-op
// and the offsets get committed: nothing is delivered again.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../../support/eventually.js';
import { recordReport } from '../../support/fault-report.js';
import { closeAllGateways, startGateway } from '../../support/gateway-in-process.js';
import { closeAllClients, createTopic, uniqueName } from '../../support/kafka.js';
import { RestConsumer, produceNumbers } from '../../support/rest-consumer.js';
import { privateStack, stack, stopPrivateStack, type StackEnv } from '../../support/stack.js';

describe('acks while the broker is down', () => {
  let runDir = '';
  let env: StackEnv;

  beforeAll(async () => {
    ({ runDir, env } = await privateStack('kgw-ack-', '--redis-ephemeral'));
  });

  afterAll(async () => {
    await closeAllGateways();
    await closeAllClients();
    await stopPrivateStack(runDir);
  });

  it('answers 5xx saying the ack was recorded; the same ack later is a no-op and nothing comes back', async () => {
    const topic = await createTopic({
      brokers: env.kafkaBrokers,
      prefix: 'ack-outage',
      partitions: 1,
    });
    const gw = await startGateway({
      KAFKA_BROKERS: env.kafkaBrokers,
      REDIS_URL: env.redisUrl,
      KGW_READY_TIMEOUT_MS: '1000',
    });
    await produceNumbers(gw.url, topic, 5);
    const s = await RestConsumer.create(gw.url, uniqueName('g'), { 'ack.timeout.ms': 60_000 });
    await s.subscribe(gw.url, [topic]);
    const records = await s.poll(gw.url, { timeout: 5000 });
    expect(records).toHaveLength(5);

    await stack(runDir, 'stop', 'kafka-1');
    const refs = records.map((r) => ({
      topic: r.topic,
      partition: r.partition,
      offset: r.offset,
      attempt: r.attempt,
    }));
    const during = await s.raw('POST', gw.url, '/acks', { records: refs });
    await stack(runDir, 'start', 'kafka-1');

    expect(during.status).toBeGreaterThanOrEqual(500);
    const body = during.body as { code: string; message: string };
    expect(body.message).toContain('the acks were recorded (5 acked, 0 fenced)');
    expect(body.message).toContain('sending the same acks again is safe');
    // The client retries once Kafka answers: nothing to do any more, and Kafka gets the offsets.
    const again = await eventually(
      async () => {
        const res = await s.raw('POST', gw.url, '/acks', { records: refs });
        expect(res.status).toBe(200);
        return res.body;
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    expect(again).toEqual({ acked: 0, fenced: 5 });
    await eventually(async () => expect(await s.committed(gw.url, topic, [0])).toEqual([5]), {
      timeoutMs: 30_000,
    });
    expect(await s.poll(gw.url, { timeout: 1000 })).toEqual([]);
    recordReport('broker down while acking', {
      acked: 5,
      'first answer': `${during.status} ${body.code}`,
      'retry answer': JSON.stringify(again),
      'delivered again': 0,
    });
  }, 120_000);
});
