import { createServer } from 'node:net';
import Kafka from 'node-rdkafka';
import { afterEach, describe, expect, it } from 'vitest';
import { GroupCoordinatorClient } from '../../../gateway/src/kafka/group-coordinator.js';
import { createLogger } from '../../../gateway/src/observability/logger.js';
import { brokers, closeAllClients, createTopic, uniqueName } from '../../support/kafka.js';

describe('GroupCoordinatorClient against a real broker', () => {
  const clients: GroupCoordinatorClient[] = [];
  let native: Kafka.KafkaConsumer | undefined;
  afterEach(async () => {
    if (native?.isConnected()) {
      await new Promise<void>((resolve) => native!.disconnect(() => resolve()));
    }
    native = undefined;
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await closeAllClients();
  });

  function client(brokerList = brokers(), timeoutMs = 10_000): GroupCoordinatorClient {
    const c = new GroupCoordinatorClient({
      brokers: brokerList.split(','),
      clientId: 'kgw-test-coordinator',
      timeoutMs,
      logger: createLogger('silent'),
    });
    clients.push(c);
    return c;
  }

  it('commits for a group nobody joined and reads back offsets and metadata, long ones too', async () => {
    const topic = await createTopic({ partitions: 2 });
    const group = uniqueName('g');
    const c = client();
    const long = 'x'.repeat(2990) + 'é✓'.repeat(5);
    await c.commit(group, [
      { topic, partition: 0, offset: 3, metadata: 'hello' },
      { topic, partition: 1, offset: 7, metadata: long },
    ]);
    expect(
      await c.committed(group, [
        { topic, partition: 1 },
        { topic, partition: 0 },
      ]),
    ).toEqual([
      { topic, partition: 1, offset: 7, metadata: long },
      { topic, partition: 0, offset: 3, metadata: 'hello' },
    ]);

    await c.commit(group, [{ topic, partition: 0, offset: 4, metadata: '' }]);
    expect(await c.committed(group, [{ topic, partition: 0 }])).toEqual([
      { topic, partition: 0, offset: 4, metadata: '' },
    ]);
  });

  it('reads -1 and empty metadata for a group with no commits', async () => {
    const topic = await createTopic();
    expect(await client().committed(uniqueName('g'), [{ topic, partition: 0 }])).toEqual([
      { topic, partition: 0, offset: -1, metadata: '' },
    ]);
  });

  it('describes an unknown group and a commit-only group without members', async () => {
    const topic = await createTopic();
    const c = client();
    const unknown = await c.describe(uniqueName('g'));
    expect(unknown.members).toEqual([]);
    expect(unknown.state).toBe('Dead');

    const group = uniqueName('g');
    await c.commit(group, [{ topic, partition: 0, offset: 1, metadata: 'm' }]);
    const empty = await c.describe(group);
    expect(empty.members).toEqual([]);
    expect(empty.state).toBe('Empty');
  });

  it('sees a joined native consumer as a member and refuses to commit for its group', async () => {
    const topic = await createTopic();
    const group = uniqueName('g');
    native = new Kafka.KafkaConsumer(
      {
        'metadata.broker.list': brokers(),
        'group.id': group,
        'client.id': 'kgw-test-native',
        'enable.auto.commit': false,
        rebalance_cb: true,
      },
      {},
    );
    const joined = new Promise<void>((resolve) =>
      native!.on('rebalance', (err) => {
        if (err.code === Kafka.CODES.ERRORS.ERR__ASSIGN_PARTITIONS) resolve();
      }),
    );
    await new Promise<void>((resolve, reject) =>
      native!.connect({ timeout: 10_000 }, (err) => (err ? reject(err) : resolve())),
    );
    native.subscribe([topic]);
    native.consume();
    await joined;

    const c = client();
    const description = await c.describe(group);
    expect(description.protocolType).toBe('consumer');
    expect(description.members).toHaveLength(1);
    expect(description.members[0]!.clientId).toBe('kgw-test-native');

    await expect(
      c.commit(group, [{ topic, partition: 0, offset: 1, metadata: 'gateway' }]),
    ).rejects.toMatchObject({
      code: 'KGW_GROUP_IN_USE',
      message: `group '${group}' has active Kafka consumers; the gateway will not commit for it`,
    });
  });

  it('rejects metadata longer than the broker accepts with KGW_INVALID_REQUEST', async () => {
    const topic = await createTopic();
    const group = uniqueName('g');
    const c = client();
    await expect(
      c.commit(group, [{ topic, partition: 0, offset: 1, metadata: 'x'.repeat(4097) }]),
    ).rejects.toMatchObject({ code: 'KGW_INVALID_REQUEST', details: { kafkaCode: 12 } });
    expect(await c.committed(group, [{ topic, partition: 0 }])).toEqual([
      { topic, partition: 0, offset: -1, metadata: '' },
    ]);
  });

  it('rejects a commit to a topic that does not exist with KGW_TOPIC_NOT_FOUND', async () => {
    const topic = uniqueName('missing');
    await expect(
      client().commit(uniqueName('g'), [{ topic, partition: 0, offset: 1, metadata: '' }]),
    ).rejects.toMatchObject({ code: 'KGW_TOPIC_NOT_FOUND', details: { kafkaCode: 3 } });
  });

  it('gives up within timeoutMs when no broker listens, and skips a dead bootstrap broker', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const closedPort = (server.address() as { port: number }).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));

    const dead = client(`127.0.0.1:${closedPort}`, 1000);
    const started = Date.now();
    const err = await dead.describe(uniqueName('g')).catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(1000 + 500);
    expect(['KGW_TIMEOUT', 'KGW_KAFKA_UNAVAILABLE']).toContain((err as { code?: string }).code);

    const topic = await createTopic();
    const group = uniqueName('g');
    const mixed = client(`127.0.0.1:${closedPort},${brokers()}`, 5000);
    await mixed.commit(group, [{ topic, partition: 0, offset: 2, metadata: 'via second' }]);
    expect(await mixed.committed(group, [{ topic, partition: 0 }])).toEqual([
      { topic, partition: 0, offset: 2, metadata: 'via second' },
    ]);
  });

  it('close() waits for calls in flight, is idempotent, and refuses later calls', async () => {
    const topic = await createTopic();
    const group = uniqueName('g');
    const c = client();
    const inFlight = c.commit(group, [{ topic, partition: 0, offset: 5, metadata: 'last' }]);
    const closing = c.close();
    expect(c.close()).toBe(closing);
    await expect(inFlight).resolves.toBeUndefined();
    await closing;
    await expect(c.describe(group)).rejects.toMatchObject({ code: 'KGW_SHUTTING_DOWN' });
    expect(await client().committed(group, [{ topic, partition: 0 }])).toEqual([
      { topic, partition: 0, offset: 5, metadata: 'last' },
    ]);
  });
});
