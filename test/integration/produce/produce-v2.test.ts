import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { closeAllClients, createTopic, readTopic } from '../../support/kafka.js';
import {
  closeAllGateways,
  get,
  post,
  startGateway,
  type RunningGateway,
  type V2Offsets,
} from '../../support/gateway-in-process.js';
import { REPO_ROOT } from '../../support/stack.js';

const JSON_V2 = 'application/vnd.kafka.json.v2+json';
const BINARY_V2 = 'application/vnd.kafka.binary.v2+json';

describe('v2 produce against the real broker', () => {
  let gw: RunningGateway;
  beforeAll(async () => {
    gw = await startGateway();
  });
  afterEach(closeAllClients);
  afterAll(closeAllGateways);

  it.each([
    [JSON_V2, { key: { id: 7 }, value: { hello: 'world' } }, '{"id":7}', '{"hello":"world"}'],
    ['application/json', { key: 'k', value: [1, 2] }, '"k"', '[1,2]'],
    [
      BINARY_V2,
      {
        key: Buffer.from('key-bytes').toString('base64'),
        value: Buffer.from([0, 255, 1]).toString('base64'),
      },
      'key-bytes',
      '\u0000\uFFFD\u0001',
    ],
  ])('writes what %s carries, byte for byte', async (contentType, record, key, value) => {
    const topic = await createTopic();
    const res = await post<V2Offsets>(
      `${gw.url}/topics/${topic}`,
      { records: [record] },
      { contentType },
    );

    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/vnd\.kafka\.v2\+json/);
    expect(res.body).toEqual({
      key_schema_id: null,
      value_schema_id: null,
      offsets: [{ partition: 0, offset: 0, error_code: null, error: null }],
    });
    const [read] = await readTopic(topic, { count: 1 });
    expect(read!.key?.toString()).toBe(key);
    if (contentType === BINARY_V2) expect([...read!.value!]).toEqual([0, 255, 1]);
    else expect(read!.value?.toString()).toBe(value);
  });

  it('writes a null value as a tombstone and answers one offset per record, in request order', async () => {
    const topic = await createTopic({ partitions: 2 });
    const res = await post<V2Offsets>(`${gw.url}/topics/${topic}`, {
      records: [
        { value: 'a', partition: 1 },
        { value: null, partition: 0 },
        { value: 'c', partition: 1 },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.body.offsets.map((o) => [o.partition, o.offset])).toEqual([
      [1, 0],
      [0, 0],
      [1, 1],
    ]);
    const read = await readTopic(topic, { count: 3 });
    expect(read.map((r) => [r.partition, r.offset, r.value?.toString() ?? null])).toEqual([
      [0, 0, null],
      [1, 0, '"a"'],
      [1, 1, '"c"'],
    ]);
  });

  it('honours an explicit partition in the path and in the record', async () => {
    const topic = await createTopic({ partitions: 4 });
    const viaPath = await post<V2Offsets>(`${gw.url}/topics/${topic}/partitions/3`, {
      records: [{ value: 1 }, { value: 2, key: 'ignored-for-partitioning' }],
    });
    const viaRecord = await post<V2Offsets>(`${gw.url}/topics/${topic}`, {
      records: [{ value: 3, partition: 2 }],
    });

    expect(viaPath.body.offsets.map((o) => o.partition)).toEqual([3, 3]);
    expect(viaRecord.body.offsets.map((o) => o.partition)).toEqual([2]);
    const read = await readTopic(topic, { count: 3 });
    expect(read.map((r) => r.partition)).toEqual([2, 3, 3]);
  });

  it('puts keyed records where a Java producer would (murmur2)', async () => {
    const vectors = JSON.parse(
      readFileSync(join(REPO_ROOT, 'test', 'fixtures', 'murmur2-java.json'), 'utf8'),
    ) as {
      vectors: { key: string; partitions: Record<string, number> }[];
    };
    const sample = vectors.vectors.filter((v) => v.key.length > 0).slice(0, 20);
    const topic = await createTopic({ partitions: 6 });

    const res = await post<V2Offsets>(
      `${gw.url}/topics/${topic}`,
      { records: sample.map((v) => ({ key: Buffer.from(v.key).toString('base64'), value: null })) },
      { contentType: BINARY_V2 },
    );

    expect(res.status).toBe(200);
    expect(res.body.offsets.map((o) => o.partition)).toEqual(sample.map((v) => v.partitions['6']));
    const read = await readTopic(topic, { count: sample.length });
    for (const r of read) {
      const expected = sample.find((v) => v.key === r.key!.toString())!;
      expect(r.partition).toBe(expected.partitions['6']);
    }
  });

  it.each(['round-robin', 'least-connections'])(
    'spreads keyless records over every partition with %s',
    async (strategy) => {
      const spread = await startGateway({ KGW_BALANCER: strategy });
      const topic = await createTopic({ partitions: 6 });
      for (let i = 0; i < 6; i += 1) {
        const res = await post<V2Offsets>(`${spread.url}/topics/${topic}`, {
          records: Array.from({ length: 10 }, (_, j) => ({ value: i * 10 + j })),
        });
        expect(res.status).toBe(200);
      }
      const read = await readTopic(topic, { count: 60 });
      const perPartition = [0, 1, 2, 3, 4, 5].map(
        (p) => read.filter((r) => r.partition === p).length,
      );
      expect(read).toHaveLength(60);
      expect(perPartition.every((n) => n > 0)).toBe(true);
      // One broker here, so both strategies rotate its partitions evenly.
      expect(perPartition).toEqual([10, 10, 10, 10, 10, 10]);
      const metrics = await (await fetch(`${spread.url}/metrics`)).text();
      expect(metrics).toMatch(
        new RegExp(`kgw_balancer_picks_total\\{strategy="${strategy}",broker="1"\\} 60`),
      );
      expect(metrics).toMatch(/kgw_produce_broker_records_total\{broker="1"\} 60/);
    },
  );

  it('writes with delivery=fast too', async () => {
    const topic = await createTopic();
    const res = await post<V2Offsets>(`${gw.url}/topics/${topic}?delivery=fast`, {
      records: [{ value: 'quick' }],
    });
    expect(res.status).toBe(200);
    expect((await readTopic(topic, { count: 1 })).map((r) => r.value?.toString())).toEqual([
      '"quick"',
    ]);
  });

  it('reports a failed record on its own line while the others succeed', async () => {
    const small = await startGateway({ KGW_MAX_RECORD_BYTES: '1024' });
    const topic = await createTopic();
    const res = await post<V2Offsets>(`${small.url}/topics/${topic}`, {
      records: [{ value: 'ok-1' }, { value: 'x'.repeat(2000) }, { value: 'ok-2' }],
    });
    expect(res.status).toBe(200);
    expect(res.body.offsets[0]).toEqual({ partition: 0, offset: 0, error_code: null, error: null });
    expect(res.body.offsets[1]).toMatchObject({ offset: null, error_code: 1 });
    expect(res.body.offsets[1]!.error).toMatch(/limit is 1024/);
    expect(res.body.offsets[2]).toEqual({ partition: 0, offset: 1, error_code: null, error: null });
    expect((await readTopic(topic, { count: 2 })).map((r) => r.value?.toString())).toEqual([
      '"ok-1"',
      '"ok-2"',
    ]);
  });

  it('serves topic and broker metadata in v2 shapes', async () => {
    const topic = await createTopic({ partitions: 2 });
    const topics = await get<string[]>(`${gw.url}/topics`);
    expect(topics.body).toContain(topic);
    const described = await get(`${gw.url}/topics/${topic}`);
    expect(described.body).toEqual({
      name: topic,
      // Every config of the topic (DescribeConfigs), defaults included.
      configs: expect.objectContaining({ 'cleanup.policy': 'delete' }),
      partitions: [
        { partition: 0, leader: 1, replicas: [{ broker: 1, leader: true, in_sync: true }] },
        { partition: 1, leader: 1, replicas: [{ broker: 1, leader: true, in_sync: true }] },
      ],
    });
    expect((await get(`${gw.url}/brokers`)).body).toEqual({ brokers: [1] });
    const missing = await get(`${gw.url}/topics/no-such-topic-${Date.now()}`);
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ error_code: 40401, code: 'KGW_TOPIC_NOT_FOUND' });
  });

  it('publishes an OpenAPI document built from the route schemas that validate requests', async () => {
    const doc = await get<{
      openapi: string;
      paths: Record<
        string,
        Record<
          string,
          {
            requestBody?: {
              content: Record<string, { schema: { properties: Record<string, unknown> } }>;
            };
          }
        >
      >;
    }>(`${gw.url}/openapi.json`);
    expect(doc.status).toBe(200);
    expect(doc.body.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining([
        '/topics',
        '/topics/{topic}',
        '/topics/{topic}/partitions/{partition}',
        '/brokers',
        '/v3/clusters',
        '/v3/clusters/{clusterId}/topics/{topic}/records',
      ]),
    );
    const v2 = doc.body.paths['/topics/{topic}']!.post!.requestBody!.content;
    expect(Object.keys(v2).sort()).toEqual([
      'application/json',
      'application/vnd.kafka.avro.v2+json',
      'application/vnd.kafka.binary.v2+json',
      'application/vnd.kafka.json.v2+json',
      'application/vnd.kafka.jsonschema.v2+json',
      'application/vnd.kafka.protobuf.v2+json',
    ]);
    // The documented body is the validating one: what it forbids, the route rejects.
    expect(v2['application/json']!.schema.properties.records).toMatchObject({ minItems: 1 });
    const rejected = await post(`${gw.url}/topics/any`, { records: [] });
    expect(rejected.status).toBe(422);
    const v3 =
      doc.body.paths['/v3/clusters/{clusterId}/topics/{topic}/records']!.post!.requestBody!.content;
    expect(Object.keys(v3['application/json']!.schema.properties).sort()).toEqual([
      'headers',
      'key',
      'partition_id',
      'timestamp',
      'value',
    ]);
  });
});
