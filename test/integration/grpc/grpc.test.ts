import { Metadata, type ClientDuplexStream, type ServiceError } from '@grpc/grpc-js';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { consumerKeys } from '../../../gateway/src/store/consumer-keys.js';
import { eventually } from '../../support/eventually.js';
import {
  closeAllGateways,
  startGateway,
  type RunningGateway,
} from '../../support/gateway-in-process.js';
import {
  closeAllGrpcClients,
  gatewayClient,
  unary,
  type GatewayClient,
} from '../../support/grpc-client.js';
import { closeAllClients, createTopic, readTopic, uniqueName } from '../../support/kafka.js';
import { RestConsumer, produceNumbers } from '../../support/rest-consumer.js';

interface RecordResult {
  partition: number;
  offset: number;
  error?: { code: string } | null;
}

interface Consumed {
  topic: string;
  partition: number;
  offset: number;
  value?: Buffer;
  attempt: number;
}

interface ConsumeResponse {
  kind: 'opened' | 'record' | 'ackResult' | 'nackResult' | 'extendResult';
  opened?: { group: string; instance: string };
  record?: Consumed;
  ackResult?: { acked: number; fenced: number };
  nackResult?: { nacked: number };
  extendResult?: { extended: number; fenced: number };
}

/** A Consume stream with a queue of what the server sent. */
class ConsumeCall {
  readonly received: ConsumeResponse[] = [];
  readonly call: ClientDuplexStream<unknown, ConsumeResponse>;
  #waiters: (() => void)[] = [];

  constructor(client: GatewayClient) {
    this.call = (client.Consume as () => ClientDuplexStream<unknown, ConsumeResponse>).call(client);
    this.call.on('data', (m: ConsumeResponse) => {
      this.received.push(m);
      for (const w of this.#waiters.splice(0)) w();
    });
    this.call.on('error', () => undefined);
  }

  send(message: unknown): void {
    this.call.write(message);
  }

  /** Resolves when `count` messages of `kind` arrived in total. */
  async until(
    kind: ConsumeResponse['kind'],
    count: number,
    timeoutMs = 15_000,
  ): Promise<ConsumeResponse[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const matching = this.received.filter((m) => m.kind === kind);
      if (matching.length >= count) return matching;
      if (Date.now() > deadline)
        throw new Error(`only ${matching.length} ${kind} messages within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        setTimeout(resolve, 100);
      });
    }
  }

  records(): Consumed[] {
    return this.received.filter((m) => m.kind === 'record').map((m) => m.record!);
  }
}

describe('gRPC API against the real broker and Redis', () => {
  let gw: RunningGateway;
  let client: GatewayClient;
  beforeAll(async () => {
    gw = await startGateway();
    client = gatewayClient(gw.grpcAddress);
  });
  afterEach(closeAllClients);
  afterAll(async () => {
    closeAllGrpcClients();
    await closeAllGateways();
  });

  it('produces a batch, replays it for a repeated idempotency key, and maps errors to status + kgw-code', async () => {
    const topic = await createTopic({ partitions: 2 });
    const request = {
      topic,
      records: [
        { value: Buffer.from('a'), partition: 1 },
        {
          key: Buffer.from('k'),
          value: Buffer.from('b'),
          headers: [{ name: 'h', value: Buffer.from('v') }],
        },
      ],
      idempotencyKey: uniqueName('idem'),
    };
    const first = await unary<{ results: RecordResult[]; replayed: boolean }>(
      client,
      'Produce',
      request,
    );
    expect(first.replayed).toBe(false);
    expect(first.results[0]).toMatchObject({ partition: 1, offset: 0 });
    expect(first.results.every((r) => !r.error)).toBe(true);
    const again = await unary<{ results: RecordResult[]; replayed: boolean }>(
      client,
      'Produce',
      request,
    );
    expect(again).toEqual({ ...first, replayed: true });
    const read = await readTopic(topic, { count: 3, timeoutMs: 2000 });
    expect(read.map((r) => r.value?.toString()).sort()).toEqual(['a', 'b']);

    const err = await unary(client, 'Produce', {
      topic: `missing-${Date.now()}`,
      records: [{ value: Buffer.from('x') }],
    }).catch((e: ServiceError) => e);
    expect((err as ServiceError).code).toBe(5); // NOT_FOUND
    expect((err as ServiceError).metadata.get('kgw-code')).toEqual(['KGW_TOPIC_NOT_FOUND']);
  });

  it('streams produce results back one per record, in order, a bad record failing alone', async () => {
    const topic = await createTopic();
    const call = (client.ProduceStream as () => ClientDuplexStream<unknown, RecordResult>).call(
      client,
    );
    const results: RecordResult[] = [];
    const done = new Promise<void>((resolve, reject) => {
      call.on('data', (r: RecordResult) => results.push(r));
      call.on('end', resolve);
      call.on('error', reject);
    });
    for (let i = 0; i < 200; i += 1) {
      if (i === 100) call.write({ topic, record: { value: Buffer.from('bad'), partition: 99 } });
      call.write({ topic, record: { value: Buffer.from(`r${i}`) } });
    }
    call.write({ topic: `missing-${Date.now()}`, record: { value: Buffer.from('x') } });
    call.end();
    await done;
    expect(results).toHaveLength(202);
    expect(results[100]!.error).toMatchObject({ code: 'KGW_PARTITION_NOT_FOUND' });
    const good = results.filter((_, i) => i !== 100 && i !== 201);
    expect(good.every((r) => !r.error)).toBe(true);
    expect(good.map((r) => r.offset)).toEqual([...Array(200).keys()]);
    expect(results[201]!.error).toMatchObject({ code: 'KGW_TOPIC_NOT_FOUND' });
  });

  it('consumes on a stream within the granted credit, with acks and nacks on the same stream', async () => {
    const topic = await createTopic();
    await produceNumbers(gw.url, topic, 10);
    const stream = new ConsumeCall(client);
    stream.send({
      open: {
        group: uniqueName('g'),
        topics: [topic],
        options: { autoOffsetReset: 'earliest' },
        initialCredit: 4,
      },
    });
    await stream.until('record', 4);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(stream.records()).toHaveLength(4); // no more than the credit

    stream.send({ credit: { records: 6 } });
    await stream.until('record', 10);
    const records = stream.records();
    expect(records.map((r) => r.offset)).toEqual([...Array(10).keys()]);
    expect(JSON.parse(records[0]!.value!.toString())).toEqual({ i: 0 });

    stream.send({
      ack: {
        records: records
          .slice(1)
          .map((r) => ({ topic, partition: r.partition, offset: r.offset, attempt: r.attempt })),
      },
    });
    stream.send({ nack: { records: [{ topic, partition: 0, offset: 0 }], error: 'try again' } });
    stream.send({ credit: { records: 1 } });
    const [ack] = await stream.until('ackResult', 1);
    expect(ack!.ackResult).toEqual({ acked: 9, fenced: 0 });
    await stream.until('record', 11);
    expect(stream.records()[10]).toMatchObject({ offset: 0, attempt: 2 });
    stream.call.end();
  });

  it('extends the ack deadline on the stream and with the unary Extend, fenced like acks', async () => {
    const topic = await createTopic();
    await produceNumbers(gw.url, topic, 2);
    const group = uniqueName('g');
    const stream = new ConsumeCall(client);
    stream.send({
      open: {
        group,
        topics: [topic],
        options: { autoOffsetReset: 'earliest', ackTimeoutMs: 800 },
        initialCredit: 2,
      },
    });
    const [opened] = await stream.until('opened', 1);
    await stream.until('record', 2);
    const [a, b] = stream.records();
    stream.send({
      extend: {
        records: [{ topic, partition: 0, offset: a!.offset, attempt: a!.attempt }],
        extendMs: 5000,
      },
    });
    const [extended] = await stream.until('extendResult', 1);
    expect(extended!.extendResult).toEqual({ extended: 1, fenced: 0 });
    const instance = opened!.opened!.instance;
    const unaryResult = await unary(client, 'Extend', {
      group,
      instance,
      records: [
        { topic, partition: 0, offset: b!.offset, attempt: b!.attempt },
        { topic, partition: 0, offset: b!.offset, attempt: b!.attempt + 1 },
      ],
      extendMs: 5000,
    });
    expect(unaryResult).toEqual({ extended: 1, fenced: 1 });
    // Past the original 800 ms, neither record came back.
    stream.send({ credit: { records: 2 } });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(stream.records()).toHaveLength(2);
    const bad = await unary(client, 'Extend', {
      group,
      instance,
      records: [{ topic, partition: 0, offset: 0 }],
      extendMs: 0,
    }).catch((err: ServiceError) => err);
    expect((bad as ServiceError).code).toBe(3);
    expect((bad as ServiceError).metadata.get('kgw-code')).toEqual(['KGW_INVALID_REQUEST']);
    stream.call.end();
  });

  it('accepts credit written right behind the open, before the session exists', async () => {
    const topic = await createTopic();
    await produceNumbers(gw.url, topic, 3);
    const stream = new ConsumeCall(client);
    stream.send({
      open: { group: uniqueName('g'), topics: [topic], options: { autoOffsetReset: 'earliest' } },
    });
    stream.send({ credit: { records: 3 } });
    await stream.until('record', 3);
    expect(stream.records().map((r) => r.offset)).toEqual([0, 1, 2]);
    stream.call.end();
  });

  it('ends a stream that starts without an open with FAILED_PRECONDITION and KGW_CONSUMER_STATE', async () => {
    const call = (client.Consume as () => ClientDuplexStream<unknown, ConsumeResponse>).call(
      client,
    );
    const failed = new Promise<ServiceError>((resolve) =>
      call.on('error', (e: ServiceError) => resolve(e)),
    );
    call.write({ credit: { records: 1 } });
    const err = await failed;
    expect(err.code).toBe(9);
    expect(err.metadata.get('kgw-code')).toEqual(['KGW_CONSUMER_STATE']);
  });

  it('leaves the records of a killed stream to their ack timeout, then delivers them again', async () => {
    const topic = await createTopic();
    await produceNumbers(gw.url, topic, 3);
    const group = uniqueName('g');
    const first = new ConsumeCall(client);
    first.send({
      open: {
        group,
        topics: [topic],
        options: { autoOffsetReset: 'earliest', ackTimeoutMs: 1500 },
        initialCredit: 3,
      },
    });
    const [opened] = await first.until('opened', 1);
    await first.until('record', 3);
    first.call.cancel();

    const second = new ConsumeCall(gatewayClient(gw.grpcAddress));
    second.send({ open: { group, instance: opened!.opened!.instance, initialCredit: 3 } });
    await second.until('record', 3, 20_000);
    expect(second.records().map((r) => [r.offset, r.attempt])).toEqual([
      [0, 2],
      [1, 2],
      [2, 2],
    ]);
    second.call.end();
  });

  it('serves one session alternately over REST and gRPC', async () => {
    const topic = await createTopic();
    await produceNumbers(gw.url, topic, 4);
    const group = uniqueName('g');
    const rest = await RestConsumer.create(gw.url, group);
    await rest.subscribe(gw.url, [topic]);

    const viaGrpc = await unary<{ records: Consumed[] }>(client, 'Poll', {
      group,
      instance: rest.id,
      timeoutMs: 3000,
      maxRecords: 2,
    });
    expect(viaGrpc.records.map((r) => r.offset)).toEqual([0, 1]);
    expect(
      await rest.ack(
        gw.url,
        viaGrpc.records.map((r) => ({ ...r, key: null, value: null, headers: [] })),
      ),
    ).toEqual({ acked: 2, fenced: 0 });
    const viaRest = await rest.poll(gw.url, { timeout: 3000 });
    expect(viaRest.map((r) => r.offset)).toEqual([2, 3]);
    const acked = await unary<{ acked: number }>(client, 'Ack', {
      group,
      instance: rest.id,
      records: viaRest.map((r) => ({ topic, partition: r.partition, offset: r.offset })),
    });
    expect(acked.acked).toBe(2);
    expect(await rest.committed(gw.url, topic, [0])).toEqual([4]);
  });

  it('creates a session whose acks answer from Redis (ack_durability) and commits them soon after', async () => {
    const topic = await createTopic();
    await produceNumbers(gw.url, topic, 3);
    const g = uniqueName('g');
    const created = await unary<{ instance: string }>(client, 'CreateConsumer', {
      group: g,
      options: { mode: 'shared', autoOffsetReset: 'earliest', ackDurability: 'redis' },
    });
    await unary(client, 'Subscribe', { group: g, instance: created.instance, topics: [topic] });
    const polled = await unary<{ records: Consumed[] }>(client, 'Poll', {
      group: g,
      instance: created.instance,
      timeoutMs: 3000,
      maxRecords: 3,
    });
    expect(polled.records).toHaveLength(3);
    // Another instance holds the group's commit lock: a Kafka-durable ack would wait for it.
    const redis = new Redis(inject('redisUrl'));
    try {
      await redis.set(consumerKeys.commitLock(g), 'another-instance', 'PX', 2500);
    } finally {
      redis.disconnect();
    }
    const started = Date.now();
    const acked = await unary<{ acked: number }>(client, 'Ack', {
      group: g,
      instance: created.instance,
      records: polled.records.map((r) => ({ topic, partition: r.partition, offset: r.offset })),
    });
    expect(acked.acked).toBe(3);
    expect(Date.now() - started).toBeLessThan(1500);
    const rest = await RestConsumer.create(gw.url, g, { mode: 'shared' });
    await eventually(async () => expect(await rest.committed(gw.url, topic, [0])).toEqual([3]), {
      timeoutMs: 10_000,
    });
  });

  it('honours the client deadline: a long poll answers (empty) just before it instead of failing', async () => {
    const topic = await createTopic();
    const g = uniqueName('g');
    const created = await unary<{ instance: string }>(client, 'CreateConsumer', { group: g });
    await unary(client, 'Subscribe', { group: g, instance: created.instance, topics: [topic] });
    const started = Date.now();
    const result = await new Promise<{ records: unknown[] }>((resolve, reject) =>
      (
        client.Poll as (
          r: unknown,
          m: Metadata,
          o: { deadline: number },
          cb: (e: unknown, v: { records: unknown[] }) => void,
        ) => void
      ).call(
        client,
        { group: g, instance: created.instance, timeoutMs: 10_000 },
        new Metadata(),
        { deadline: Date.now() + 1500 },
        (err, value) => (err ? reject(err) : resolve(value)),
      ),
    );
    expect(result.records).toEqual([]);
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('answers the standard health service', async () => {
    const { loadSync } = await import('@grpc/proto-loader');
    const { loadPackageDefinition, credentials } = await import('@grpc/grpc-js');
    const { healthProtoPath } = await import('../../../gateway/src/grpc/proto-file.js');
    const pkg = loadPackageDefinition(loadSync(healthProtoPath())) as unknown as {
      grpc: { health: { v1: { Health: new (a: string, c: unknown) => GatewayClient } } };
    };
    const health = new pkg.grpc.health.v1.Health(gw.grpcAddress, credentials.createInsecure());
    try {
      expect(await unary(health, 'Check', { service: 'kafka_gateway.v1.KafkaGateway' })).toEqual({
        status: 1, // SERVING
      });
    } finally {
      health.close();
    }
  });
});
