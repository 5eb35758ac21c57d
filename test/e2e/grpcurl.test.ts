import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  closeAllGateways,
  startGateway,
  type RunningGateway,
} from '../support/gateway-in-process.js';
import { closeAllClients, createTopic, uniqueName } from '../support/kafka.js';

const run = promisify(execFile);

describe('the gRPC API through grpcurl, a client we did not write (reflection only, no proto file)', () => {
  let gw: RunningGateway;
  const call = async (method: string, body?: unknown): Promise<unknown> => {
    const args = [
      '-plaintext',
      ...(body === undefined ? [] : ['-d', JSON.stringify(body)]),
      gw.grpcAddress,
      method,
    ];
    // From PATH: deploy/local/test-tools installs it, the global setup puts it on PATH.
    const { stdout } = await run('grpcurl', args, { timeout: 30_000 });
    return method === 'list' ? stdout.trim().split('\n') : JSON.parse(stdout);
  };

  beforeAll(async () => {
    gw = await startGateway();
  });
  afterEach(closeAllClients);
  afterAll(closeAllGateways);

  it('lists the services through reflection and checks health', async () => {
    expect(await call('list')).toEqual(['grpc.health.v1.Health', 'kafka_gateway.v1.KafkaGateway']);
    expect(
      await call('grpc.health.v1.Health/Check', { service: 'kafka_gateway.v1.KafkaGateway' }),
    ).toEqual({ status: 'SERVING' });
  });

  it('produces, then consumes a few records with acks', async () => {
    const topic = await createTopic();
    const b64 = (s: string): string => Buffer.from(s).toString('base64');
    const produced = (await call('kafka_gateway.v1.KafkaGateway/Produce', {
      topic,
      records: [{ value: b64('one') }, { value: b64('two') }, { value: b64('three') }],
    })) as { results: { offset?: string }[] };
    expect(produced.results.map((r) => Number(r.offset ?? 0))).toEqual([0, 1, 2]);

    const group = uniqueName('g');
    const { instance } = (await call('kafka_gateway.v1.KafkaGateway/CreateConsumer', {
      group,
      options: { autoOffsetReset: 'earliest' },
    })) as { instance: string };
    await call('kafka_gateway.v1.KafkaGateway/Subscribe', { group, instance, topics: [topic] });
    const polled = (await call('kafka_gateway.v1.KafkaGateway/Poll', {
      group,
      instance,
      timeoutMs: 5000,
    })) as {
      records: { offset?: string; value: string; attempt: number }[];
    };
    expect(polled.records.map((r) => Buffer.from(r.value, 'base64').toString())).toEqual([
      'one',
      'two',
      'three',
    ]);
    expect(polled.records.every((r) => r.attempt === 1)).toBe(true);
    const acked = (await call('kafka_gateway.v1.KafkaGateway/Ack', {
      group,
      instance,
      records: polled.records.map((r) => ({ topic, partition: 0, offset: r.offset ?? '0' })),
    })) as { acked: number };
    expect(acked.acked).toBe(3);
  });
});
