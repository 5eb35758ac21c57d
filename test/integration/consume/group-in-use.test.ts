import Kafka from 'node-rdkafka';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { eventually } from '../../support/eventually.js';
import { closeAllGateways, startGateway } from '../../support/gateway-in-process.js';
import { brokers, closeAllClients, createTopic, uniqueName } from '../../support/kafka.js';
import { RestConsumer, produceNumbers } from '../../support/rest-consumer.js';

describe('a native Kafka consumer in the same group', () => {
  let native: Kafka.KafkaConsumer | undefined;
  afterEach(async () => {
    if (native?.isConnected())
      await new Promise<void>((resolve) => native!.disconnect(() => resolve()));
    await closeAllClients();
  });
  afterAll(closeAllGateways);

  it('gets a clear 409 KGW_GROUP_IN_USE instead of silent double consumption', async () => {
    const gw = await startGateway();
    const topic = await createTopic();
    await produceNumbers(gw.url, topic, 4);
    const group = uniqueName('g');

    // A real Kafka consumer joins the group and stays a member.
    native = await joinGroup(group, topic);

    // The gateway describes the group before serving it: 409 before any record is handed out.
    const s = await RestConsumer.create(gw.url, group);
    await s.subscribe(gw.url, [topic]);
    const poll = await s.raw('GET', gw.url, '/records?timeout=3000');
    expect(poll.status).toBe(409);
    expect(poll.body).toMatchObject({ code: 'KGW_GROUP_IN_USE', error_code: 40903 });
    // Nothing was claimed for the gateway's session: the group's records are the native consumer's.
    const state = await s.raw('GET', gw.url, '/records?timeout=0');
    expect(state.status).toBe(409);
  });

  it('serves the group again once the native consumer left', async () => {
    const gw = await startGateway({ KGW_GROUP_RECHECK_MS: '300' });
    const topic = await createTopic();
    await produceNumbers(gw.url, topic, 2);
    const group = uniqueName('g');
    native = await joinGroup(group, topic);
    const s = await RestConsumer.create(gw.url, group);
    await s.subscribe(gw.url, [topic]);
    expect((await s.raw('GET', gw.url, '/records?timeout=0')).status).toBe(409);
    await new Promise<void>((resolve) => native!.disconnect(() => resolve()));
    const records = await eventually(
      async () => {
        const got = await s.poll(gw.url, { timeout: 500 });
        expect(got.map((r) => r.offset)).toEqual([0, 1]);
        return got;
      },
      { timeoutMs: 20_000, intervalMs: 300 },
    );
    expect(records).toHaveLength(2);
  });
});

/** A real node-rdkafka consumer that has joined the group (classic protocol) and got its assignment. */
async function joinGroup(group: string, topic: string): Promise<Kafka.KafkaConsumer> {
  const consumer = new Kafka.KafkaConsumer(
    {
      'metadata.broker.list': brokers(),
      'group.id': group,
      'enable.auto.commit': false,
      rebalance_cb: true,
    },
    {},
  );
  const joined = new Promise<void>((resolve) => consumer.once('rebalance', () => resolve()));
  await new Promise<void>((resolve, reject) =>
    consumer.connect({ timeout: 10_000 }, (err) => (err ? reject(err) : resolve())),
  );
  consumer.subscribe([topic]);
  consumer.consume();
  await joined;
  return consumer;
}
