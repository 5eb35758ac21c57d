import { request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  closeAllGateways,
  startGateway,
  type RunningGateway,
} from '../../support/gateway-in-process.js';
import { closeAllClients, createTopic, uniqueName } from '../../support/kafka.js';
import { RestConsumer, produceNumbers, restCall } from '../../support/rest-consumer.js';

const V2 = 'application/vnd.kafka.v2+json';
const send = restCall;

describe('Confluent REST v2 consumer compatibility', () => {
  let gw: RunningGateway;
  beforeAll(async () => {
    gw = await startGateway({ KGW_PUBLIC_URL: 'http://gateway.example:8080' });
  });
  afterEach(closeAllClients);
  afterAll(closeAllGateways);

  it('runs a Confluent client’s flow unchanged: create, subscribe, poll, commit, delete', async () => {
    const topic = await createTopic({ partitions: 2 });
    await produceNumbers(gw.url, topic, 6);
    const group = uniqueName('g');

    const created = await send('POST', `${gw.url}/consumers/${group}`, {
      name: 'my_consumer',
      format: 'json',
      'auto.offset.reset': 'earliest',
      'auto.commit.enable': 'false',
    });
    expect(created).toEqual({
      status: 200,
      body: {
        instance_id: 'my_consumer',
        base_uri: `http://gateway.example:8080/consumers/${group}/instances/my_consumer`,
      },
    });
    const base = `${gw.url}/consumers/${group}/instances/my_consumer`;
    expect((await send('POST', `${base}/subscription`, { topics: [topic] })).status).toBe(204);
    expect((await send('GET', `${base}/subscription`)).body).toEqual({ topics: [topic] });

    const records: { partition: number; offset: number; value: unknown }[] = [];
    for (let i = 0; i < 10 && records.length < 6; i += 1) {
      const res = await send('GET', `${base}/records?timeout=1000`, undefined, {
        accept: 'application/vnd.kafka.json.v2+json',
      });
      expect(res.status).toBe(200);
      records.push(...(res.body as typeof records));
    }
    expect(records).toHaveLength(6);
    const last = (p: number): number =>
      Math.max(...records.filter((r) => r.partition === p).map((r) => r.offset));

    // Confluent commit: the named offset is the last processed; Kafka then holds offset + 1.
    const commit = await send('POST', `${base}/offsets`, {
      offsets: [{ topic, partition: 0, offset: last(0) }],
    });
    expect(commit.status).toBe(204);
    // Confluent sends these partitions as the body of a GET.
    const offsets = await request(`${base}/offsets`, {
      method: 'GET',
      headers: { 'content-type': V2 },
      body: JSON.stringify({
        partitions: [
          { topic, partition: 0 },
          { topic, partition: 1 },
        ],
      }),
    });
    expect(offsets.statusCode).toBe(200);
    expect(await offsets.body.json()).toEqual({
      offsets: [
        { topic, partition: 0, offset: last(0) + 1, metadata: '' },
        { topic, partition: 1, offset: -1001, metadata: '' },
      ],
    });
    // An empty body commits everything this instance was given.
    expect((await send('POST', `${base}/offsets`, '')).status).toBe(204);
    const all = (await send('GET', `${base}/offsets?partitions=${topic}:0,${topic}:1`)).body as {
      offsets: { offset: number }[];
    };
    expect(all.offsets.map((o) => o.offset)).toEqual([last(0) + 1, last(1) + 1]);

    expect((await send('DELETE', base)).status).toBe(204);
    const gone = await send('GET', `${base}/records`);
    expect(gone.status).toBe(404);
    expect(gone.body).toMatchObject({ error_code: 40403, code: 'KGW_CONSUMER_NOT_FOUND' });
  });

  it('starts at the end with auto.offset.reset=latest and at the start with earliest', async () => {
    const topic = await createTopic();
    await produceNumbers(gw.url, topic, 3);
    const latest = await RestConsumer.create(gw.url, uniqueName('g'), {
      'auto.offset.reset': 'latest',
    });
    const earliest = await RestConsumer.create(gw.url, uniqueName('g'), {
      'auto.offset.reset': 'earliest',
    });
    await latest.subscribe(gw.url, [topic]);
    await earliest.subscribe(gw.url, [topic]);
    expect(await latest.poll(gw.url, { timeout: 500 })).toEqual([]);
    await produceNumbers(gw.url, topic, 1, 3);
    expect((await latest.poll(gw.url, { timeout: 3000 })).map((r) => r.offset)).toEqual([3]);
    expect((await earliest.poll(gw.url, { timeout: 3000 })).map((r) => r.offset)).toEqual([
      0, 1, 2, 3,
    ]);
  });

  it('seeks to an offset, to the beginning and to the end', async () => {
    const topic = await createTopic();
    await produceNumbers(gw.url, topic, 5);
    const s = await RestConsumer.create(gw.url, uniqueName('g'), { 'auto.commit.enable': 'true' });
    await s.subscribe(gw.url, [topic]);
    expect(await s.poll(gw.url, { timeout: 3000 })).toHaveLength(5);

    expect(
      (await s.raw('POST', gw.url, '/positions', { offsets: [{ topic, partition: 0, offset: 3 }] }))
        .status,
    ).toBe(204);
    expect((await s.poll(gw.url, { timeout: 3000 })).map((r) => r.offset)).toEqual([3, 4]);
    expect(
      (
        await s.raw('POST', gw.url, '/positions/beginning', {
          partitions: [{ topic, partition: 0 }],
        })
      ).status,
    ).toBe(204);
    expect((await s.poll(gw.url, { timeout: 3000 })).map((r) => r.offset)).toEqual([0, 1, 2, 3, 4]);
    expect(
      (await s.raw('POST', gw.url, '/positions/end', { partitions: [{ topic, partition: 0 }] }))
        .status,
    ).toBe(204);
    expect(await s.poll(gw.url, { timeout: 300 })).toEqual([]);
  });

  it('treats delivery as ack with auto.commit.enable=true', async () => {
    const topic = await createTopic();
    await produceNumbers(gw.url, topic, 3);
    const s = await RestConsumer.create(gw.url, uniqueName('g'), {
      'auto.commit.enable': 'true',
      'ack.timeout.ms': 200,
    });
    await s.subscribe(gw.url, [topic]);
    expect(await s.poll(gw.url, { timeout: 3000 })).toHaveLength(3);
    expect(await s.poll(gw.url, { timeout: 800 })).toEqual([]);
    expect(await s.committed(gw.url, topic, [0])).toEqual([3]);
  });

  it('supports manual assignment', async () => {
    const topic = await createTopic({ partitions: 3 });
    await produceNumbers(gw.url, topic, 9);
    const s = await RestConsumer.create(gw.url, uniqueName('g'));
    expect(
      (await s.raw('POST', gw.url, '/assignments', { partitions: [{ topic, partition: 2 }] }))
        .status,
    ).toBe(204);
    expect((await s.raw('GET', gw.url, '/assignments')).body).toEqual({
      partitions: [{ topic, partition: 2 }],
    });
    const records = await s.poll(gw.url, { timeout: 3000 });
    expect(new Set(records.map((r) => r.partition))).toEqual(new Set([2]));
    expect((await s.raw('POST', gw.url, '/subscription', { topics: [topic] })).status).toBe(409);
  });

  it.each([
    [
      'a duplicate name',
      async (group: string) => {
        await send('POST', `${gw.url}/consumers/${group}`, { name: 'dup' });
        return send('POST', `${gw.url}/consumers/${group}`, { name: 'dup' });
      },
      409,
      'KGW_CONSUMER_EXISTS',
    ],
    [
      'an unknown instance',
      (group: string) => send('GET', `${gw.url}/consumers/${group}/instances/nobody/records`),
      404,
      'KGW_CONSUMER_NOT_FOUND',
    ],
    [
      'a poll with no subscription',
      async (group: string) => {
        await send('POST', `${gw.url}/consumers/${group}`, { name: 'idle' });
        return send('GET', `${gw.url}/consumers/${group}/instances/idle/records?timeout=0`);
      },
      409,
      'KGW_CONSUMER_STATE',
    ],
    [
      'the other format in Accept',
      async (group: string) => {
        await send('POST', `${gw.url}/consumers/${group}`, { name: 'j', format: 'json' });
        return send('GET', `${gw.url}/consumers/${group}/instances/j/records`, undefined, {
          accept: 'application/vnd.kafka.binary.v2+json',
        });
      },
      406,
      'KGW_NOT_ACCEPTABLE',
    ],
    [
      'format avro without KGW_SCHEMA_REGISTRY_URL',
      (group: string) => send('POST', `${gw.url}/consumers/${group}`, { format: 'avro' }),
      422,
      'KGW_INVALID_REQUEST',
    ],
    [
      'both topics and a pattern',
      async (group: string) => {
        await send('POST', `${gw.url}/consumers/${group}`, { name: 'both' });
        return send('POST', `${gw.url}/consumers/${group}/instances/both/subscription`, {
          topics: ['a'],
          topic_pattern: 'a.*',
        });
      },
      409,
      'KGW_CONSUMER_STATE',
    ],
    [
      'a bad group name',
      () => send('POST', `${gw.url}/consumers/bad%20group`, {}),
      422,
      'KGW_INVALID_REQUEST',
    ],
  ] as const)('answers %s with %i %s', async (_what, request, status, code) => {
    const res = await request(uniqueName('g'));
    expect(res.status).toBe(status);
    expect(res.body).toMatchObject({ code });
  });
});
