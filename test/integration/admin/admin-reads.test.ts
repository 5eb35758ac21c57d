import Kafka from 'node-rdkafka';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  closeAllGateways,
  get,
  startGateway,
  type RunningGateway,
} from '../../support/gateway-in-process.js';
import {
  brokers,
  closeAllClients,
  connectProducer,
  createTopic,
  uniqueName,
} from '../../support/kafka.js';

/** Commits offsets for `group` with a plain node-rdkafka consumer that never joins the group. */
async function commitWithNativeConsumer(
  group: string,
  offsets: Array<{ topic: string; partition: number; offset: number }>,
): Promise<void> {
  const consumer = new Kafka.KafkaConsumer(
    { 'metadata.broker.list': brokers(), 'group.id': group, 'enable.auto.commit': false },
    {},
  );
  await new Promise<void>((resolve, reject) =>
    consumer.connect({ timeout: 10_000 }, (err) => (err ? reject(err) : resolve())),
  );
  try {
    consumer.commitSync(offsets);
  } finally {
    await new Promise<void>((resolve) => consumer.disconnect(() => resolve()));
  }
}

async function produce(topic: string, counts: number[]): Promise<void> {
  const producer = await connectProducer();
  counts.forEach((n, partition) => {
    for (let i = 0; i < n; i += 1) producer.produce(topic, partition, Buffer.from(`r${i}`));
  });
  await new Promise<void>((resolve, reject) =>
    producer.flush(10_000, (err) => (err ? reject(err) : resolve())),
  );
}

describe('admin reads: topic configs, consumer groups and lag', () => {
  let gw: RunningGateway;
  let cluster: string;
  beforeAll(async () => {
    gw = await startGateway();
    const clusters = await get<{ data: Array<{ cluster_id: string }> }>(`${gw.url}/v3/clusters`);
    cluster = `${gw.url}/v3/clusters/${clusters.body.data[0]!.cluster_id}`;
  });
  afterEach(async () => {
    await closeAllClients();
  });
  afterAll(async () => {
    await closeAllGateways();
  });

  it('shows a config set at creation, in v2 and v3, with its source', async () => {
    const topic = await createTopic({ config: { 'retention.ms': '123456789' } });

    const v2 = await get<{ configs: Record<string, string | null> }>(`${gw.url}/topics/${topic}`);
    expect(v2.status).toBe(200);
    expect(v2.body.configs['retention.ms']).toBe('123456789');
    expect(v2.body.configs['cleanup.policy']).toBe('delete');

    const list = await get<{ kind: string; data: Array<Record<string, unknown>> }>(
      `${cluster}/topics/${topic}/configs`,
    );
    expect(list.status).toBe(200);
    expect(list.body.kind).toBe('KafkaTopicConfigList');
    const retention = list.body.data.find((c) => c.name === 'retention.ms');
    expect(retention).toMatchObject({
      kind: 'KafkaTopicConfig',
      topic_name: topic,
      value: '123456789',
      is_default: false,
      is_sensitive: false,
      source: 'DYNAMIC_TOPIC_CONFIG',
      metadata: { self: `${cluster}/topics/${topic}/configs/retention.ms` },
    });

    const one = await get(`${cluster}/topics/${topic}/configs/retention.ms`);
    expect(one.body).toEqual(retention);
    const defaulted = await get<Record<string, unknown>>(
      `${cluster}/topics/${topic}/configs/cleanup.policy`,
    );
    expect(defaulted.body).toMatchObject({ value: 'delete', is_default: true });
  });

  it('answers 404 with stable codes for an unknown topic, config and group', async () => {
    const topic = await createTopic();
    const missingTopic = uniqueName('missing');
    for (const url of [
      `${gw.url}/topics/${missingTopic}`,
      `${cluster}/topics/${missingTopic}/configs`,
    ]) {
      const r = await get(url);
      expect(r.status).toBe(404);
      expect(r.body).toMatchObject({ error_code: 40401, code: 'KGW_TOPIC_NOT_FOUND' });
    }
    const config = await get(`${cluster}/topics/${topic}/configs/no.such.config`);
    expect(config.status).toBe(404);
    expect(config.body).toMatchObject({ error_code: 40406, code: 'KGW_CONFIG_NOT_FOUND' });

    const group = uniqueName('g');
    for (const path of ['', '/lags', '/lag-summary']) {
      const r = await get(`${cluster}/consumer-groups/${group}${path}`);
      expect(r.status).toBe(404);
      expect(r.body).toMatchObject({ error_code: 40405, code: 'KGW_CONSUMER_GROUP_NOT_FOUND' });
    }
    const cluster404 = await get(`${gw.url}/v3/clusters/nope/consumer-groups`);
    expect(cluster404.body).toMatchObject({ code: 'KGW_CLUSTER_NOT_FOUND' });
  });

  it('lists a group with committed offsets; its lags are log end minus committed', async () => {
    const topic = await createTopic({ partitions: 3 });
    const group = uniqueName('g');
    await produce(topic, [10, 4, 7]);
    await commitWithNativeConsumer(group, [
      { topic, partition: 0, offset: 3 },
      { topic, partition: 1, offset: 4 },
      { topic, partition: 2, offset: 1 },
    ]);

    const groups = await get<{ kind: string; data: Array<Record<string, unknown>> }>(
      `${cluster}/consumer-groups`,
    );
    expect(groups.status).toBe(200);
    expect(groups.body.kind).toBe('KafkaConsumerGroupList');
    expect(groups.body.data.find((g) => g.consumer_group_id === group)).toMatchObject({
      kind: 'KafkaConsumerGroup',
      state: 'EMPTY',
      metadata: { self: `${cluster}/consumer-groups/${group}` },
    });

    const one = await get(`${cluster}/consumer-groups/${group}`);
    expect(one.body).toMatchObject({ consumer_group_id: group, state: 'EMPTY' });

    const lags = await get<{ data: Array<Record<string, unknown>> }>(
      `${cluster}/consumer-groups/${group}/lags`,
    );
    expect(lags.status).toBe(200);
    expect(
      lags.body.data.map((l) => [
        l.topic_name,
        l.partition_id,
        l.current_offset,
        l.log_end_offset,
        l.lag,
      ]),
    ).toEqual([
      [topic, 0, 3, 10, 7],
      [topic, 1, 4, 4, 0],
      [topic, 2, 1, 7, 6],
    ]);
    const partition = await get(`${cluster}/consumer-groups/${group}/lags/${topic}/partitions/2`);
    expect(partition.body).toEqual(lags.body.data[2]);

    const summary = await get(`${cluster}/consumer-groups/${group}/lag-summary`);
    expect(summary.body).toMatchObject({
      kind: 'KafkaConsumerGroupLagSummary',
      consumer_group_id: group,
      max_lag_topic_name: topic,
      max_lag_partition_id: 0,
      max_lag: 7,
      total_lag: 13,
    });
  });

  it('describes the v3 admin reads in /openapi.json', async () => {
    const doc = await get<{ paths: Record<string, { get?: { responses: object } }> }>(
      `${gw.url}/openapi.json`,
    );
    for (const path of [
      '/v3/clusters/{clusterId}/topics/{topic}/configs',
      '/v3/clusters/{clusterId}/topics/{topic}/configs/{name}',
      '/v3/clusters/{clusterId}/consumer-groups',
      '/v3/clusters/{clusterId}/consumer-groups/{group}',
      '/v3/clusters/{clusterId}/consumer-groups/{group}/lags',
      '/v3/clusters/{clusterId}/consumer-groups/{group}/lags/{topic}/partitions/{partition}',
      '/v3/clusters/{clusterId}/consumer-groups/{group}/lag-summary',
    ]) {
      expect(Object.keys(doc.body.paths[path]?.get?.responses ?? {})).toEqual([
        '200',
        '4XX',
        '5XX',
      ]);
    }
  });
});
