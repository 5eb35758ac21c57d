import Kafka from 'node-rdkafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../../support/eventually.js';
import {
  closeAllGateways,
  post,
  startGateway,
  type RunningGateway,
  type V2Offsets,
} from '../../support/gateway-in-process.js';
import { privateStack, stack, stopPrivateStack, type StackEnv } from '../../support/stack.js';

// Stops a broker, so it runs on a private one-broker stack of its own.
describe('a stopped broker', () => {
  let runDir = '';
  let env: StackEnv;
  let gw: RunningGateway;
  const topic = `broker-down-${Date.now()}`;

  beforeAll(async () => {
    ({ runDir, env } = await privateStack('kgw-broker-down-', '--brokers', '1'));
    const admin = Kafka.AdminClient.create({ 'metadata.broker.list': env.kafkaBrokers });
    await new Promise<void>((resolve, reject) =>
      admin.createTopic({ topic, num_partitions: 1, replication_factor: 1 }, 15_000, (err) =>
        err ? reject(err) : resolve(),
      ),
    );
    admin.disconnect();
    gw = await startGateway({
      KAFKA_BROKERS: env.kafkaBrokers,
      REDIS_URL: env.redisUrl,
      KGW_PRODUCE_TIMEOUT_MS: '3000',
      KGW_REQUEST_TIMEOUT_MS: '6000',
    });
  });

  afterAll(async () => {
    await closeAllGateways();
    await stopPrivateStack(runDir);
  });

  it('gives a timely 5xx that says the outcome is unknown, never a hung request', async () => {
    // The topic was created a moment ago on a fresh broker: wait until it takes writes.
    await eventually(
      async () => {
        const before = await post<V2Offsets>(`${gw.url}/topics/${topic}`, {
          records: [{ value: 'before' }],
        });
        expect(before.status, JSON.stringify(before.body)).toBe(200);
      },
      { timeoutMs: 20_000, intervalMs: 250 },
    );

    await stack(runDir, 'stop', 'kafka-1');
    const started = Date.now();
    const during = await post<{ code: string; error_code: number }>(`${gw.url}/topics/${topic}`, {
      records: [{ value: 'during' }],
    });
    const elapsed = Date.now() - started;

    expect(during.status).toBeGreaterThanOrEqual(500);
    expect(['KGW_DELIVERY_UNKNOWN', 'KGW_KAFKA_UNAVAILABLE', 'KGW_TIMEOUT']).toContain(
      during.body.code,
    );
    // Answered by librdkafka's message timeout (3 s), well inside the request deadline.
    expect(elapsed).toBeLessThan(6000);

    // Once the broker is back, the same gateway produces again (503 while the broker boots).
    await stack(runDir, 'start', 'kafka-1');
    await eventually(
      async () => {
        const after = await post<V2Offsets>(`${gw.url}/topics/${topic}`, {
          records: [{ value: 'after' }],
        });
        expect(after.status).toBe(200);
      },
      { timeoutMs: 45_000, intervalMs: 500 },
    );
  });
});
