import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  closeAllGateways,
  startGateway,
  type RunningGateway,
} from '../../support/gateway-in-process.js';
import { closeAllClients, createTopic, uniqueName } from '../../support/kafka.js';
import { produceNumbers, restCall, RestConsumer } from '../../support/rest-consumer.js';

// Requests sent as Confluent REST Proxy v2's documentation shows them; each
// checks the status, the error_code and the body's shape Confluent answers.
const V2 = 'application/vnd.kafka.v2+json';

async function call(
  method: string,
  url: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; type: string; body: unknown }> {
  const res = await fetch(url, {
    method,
    headers,
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  return {
    status: res.status,
    type: res.headers.get('content-type') ?? '',
    body: text ? (JSON.parse(text) as unknown) : undefined,
  };
}

describe('Confluent REST Proxy v2 compatibility', () => {
  let gw: RunningGateway;
  beforeAll(async () => {
    gw = await startGateway();
  });
  afterEach(closeAllClients);
  afterAll(closeAllGateways);

  describe('consumer creation', () => {
    it('accepts Kafka consumer properties it does not map (ignored) and still validates mapped ones', async () => {
      const group = uniqueName('g');
      const created = await restCall('POST', `${gw.url}/consumers/${group}`, {
        name: 'c1',
        format: 'binary',
        'topic.metadata.refresh.interval.ms': 100,
        'client.rack': 'r1',
        'check.crcs': true,
      });
      expect(created.status).toBe(200);
      expect(created.body).toEqual({
        instance_id: 'c1',
        base_uri: expect.stringMatching(new RegExp(`/consumers/${group}/instances/c1$`)),
      });
      const badMapped = await restCall('POST', `${gw.url}/consumers/${uniqueName('g')}`, {
        format: 'avro2',
      });
      expect(badMapped.status).toBe(422);
      expect(badMapped.body).toMatchObject({ error_code: 42201, code: 'KGW_INVALID_REQUEST' });
    });

    it('refuses unmapped properties that are not scalars, too many, or too long a name', async () => {
      const url = `${gw.url}/consumers/${uniqueName('g')}`;
      const many = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`x.${i}`, i]));
      for (const body of [{ 'some.property': { nested: true } }, many, { ['p'.repeat(300)]: 1 }]) {
        const res = await restCall('POST', url, body);
        expect(res.status).toBe(422);
        expect(res.body).toMatchObject({ error_code: 42201, code: 'KGW_INVALID_REQUEST' });
      }
    });
  });

  it('serves every route with a trailing slash, and 405 still applies', async () => {
    const group = uniqueName('g');
    const created = await restCall('POST', `${gw.url}/consumers/${group}/`, { name: 'c' });
    expect(created.status).toBe(200);
    const topic = await createTopic();
    const sub = await restCall('POST', `${gw.url}/consumers/${group}/instances/c/subscription/`, {
      topics: [topic],
    });
    expect(sub.status).toBe(204);
    expect((await call('GET', `${gw.url}/brokers/`)).status).toBe(200);
    const wrong = await call('PUT', `${gw.url}/brokers/`);
    expect(wrong.status).toBe(405);
    expect(wrong.body).toMatchObject({ error_code: 40501, code: 'KGW_METHOD_NOT_ALLOWED' });
  });

  describe('content types', () => {
    it.each([
      ['application/vnd.kafka.binary.v1+json', { records: [{ value: 'aGk=' }] }],
      ['application/vnd.kafka.json.v1+json', { records: [{ value: { a: 1 } }] }],
      ['application/vnd.kafka.v1+json', { records: [{ value: { a: 1 } }] }],
      ['application/vnd.kafka+json', { records: [{ value: { a: 1 } }] }],
    ])('produces with %s', async (contentType, body) => {
      const topic = await createTopic();
      const res = await call('POST', `${gw.url}/topics/${topic}`, body, {
        'content-type': contentType,
      });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ offsets: [{ partition: 0, offset: 0, error_code: null }] });
    });

    it('reads binary.v1 values as base64 (the v1 binary type means binary)', async () => {
      const topic = await createTopic();
      await call(
        'POST',
        `${gw.url}/topics/${topic}`,
        { records: [{ value: Buffer.from([0, 1]).toString('base64') }] },
        { 'content-type': 'application/vnd.kafka.binary.v1+json' },
      );
      const s = await RestConsumer.create(gw.url, uniqueName('g'), { format: 'binary' });
      await s.subscribe(gw.url, [topic]);
      const res = await call('GET', s.path(gw.url, '/records?timeout=3000'), undefined, {
        accept: 'application/vnd.kafka.binary.v2+json',
      });
      expect(res.body).toMatchObject([{ value: 'AAE=' }]);
    });

    it.each(['application/octet-stream', 'application/vnd.kafka.json+json'])(
      'answers %s with 415 (Confluent v2 accepts neither)',
      async (contentType) => {
        const topic = await createTopic();
        const res = await call('POST', `${gw.url}/topics/${topic}`, '{"records":[]}', {
          'content-type': contentType,
        });
        expect(res.status).toBe(415);
        expect(res.body).toMatchObject({ error_code: 41501, code: 'KGW_UNSUPPORTED_MEDIA_TYPE' });
      },
    );

    it('answers 406 when the Accept header takes nothing the route answers', async () => {
      const res = await call('GET', `${gw.url}/brokers`, undefined, {
        accept: 'application/octet-stream',
      });
      expect(res.status).toBe(406);
      expect(res.body).toMatchObject({ error_code: 40601, code: 'KGW_NOT_ACCEPTABLE' });
      const v3 = await call('GET', `${gw.url}/v3/clusters`, undefined, { accept: V2 });
      expect(v3.status).toBe(406);
    });

    it.each([
      [undefined, V2],
      ['*/*', V2],
      [V2, V2],
      ['application/vnd.kafka+json', 'application/vnd.kafka+json'],
      ['application/json', 'application/json'],
      ['application/vnd.kafka.binary.v2+json', V2],
      ['text/html, application/*;q=0.5', V2],
    ])('GET /brokers with Accept %s answers %s', async (accept, type) => {
      const res = await call('GET', `${gw.url}/brokers`, undefined, accept ? { accept } : {});
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ brokers: expect.any(Array) });
      expect(res.type.split(';')[0]).toBe(
        accept === 'application/vnd.kafka.binary.v2+json'
          ? 'application/vnd.kafka.binary.v2+json'
          : type,
      );
    });
  });

  describe('partitions', () => {
    it('lists, describes and gives the offsets of partitions', async () => {
      const topic = await createTopic({ partitions: 2 });
      await call(
        'POST',
        `${gw.url}/topics/${topic}/partitions/1`,
        { records: [{ value: 1 }, { value: 2, partition: 0 }] },
        { 'content-type': 'application/vnd.kafka.json.v2+json' },
      );
      const list = await call('GET', `${gw.url}/topics/${topic}/partitions`);
      expect(list.status).toBe(200);
      expect(list.body).toEqual([
        {
          partition: 0,
          leader: expect.any(Number),
          replicas: [{ broker: expect.any(Number), leader: true, in_sync: true }],
        },
        {
          partition: 1,
          leader: expect.any(Number),
          replicas: [{ broker: expect.any(Number), leader: true, in_sync: true }],
        },
      ]);
      const one = await call('GET', `${gw.url}/topics/${topic}/partitions/1`);
      expect(one.body).toEqual((list.body as unknown[])[1]);
      // Produce to a partition: the path's partition wins over the records' own.
      expect(await call('GET', `${gw.url}/topics/${topic}/partitions/1/offsets`)).toMatchObject({
        status: 200,
        body: { beginning_offset: 0, end_offset: 2 },
      });
      expect((await call('GET', `${gw.url}/topics/${topic}/partitions/0/offsets`)).body).toEqual({
        beginning_offset: 0,
        end_offset: 0,
      });
    });

    it.each([
      ['/partitions/7', 40402, 'KGW_PARTITION_NOT_FOUND'],
      ['/partitions/7/offsets', 40402, 'KGW_PARTITION_NOT_FOUND'],
    ])('GET %s of a missing partition → 404', async (path, errorCode, code) => {
      const topic = await createTopic();
      const res = await call('GET', `${gw.url}/topics/${topic}${path}`);
      expect(res.status).toBe(404);
      expect(res.body).toMatchObject({ error_code: errorCode, code });
      const noTopic = await call('GET', `${gw.url}/topics/${topic}-missing/partitions`);
      expect(noTopic.body).toMatchObject({ error_code: 40401, code: 'KGW_TOPIC_NOT_FOUND' });
    });

    it('documents the partition routes in /openapi.json', async () => {
      const doc = (await call('GET', `${gw.url}/openapi.json`)).body as {
        paths: Record<string, Record<string, unknown>>;
      };
      expect(Object.keys(doc.paths['/topics/{topic}/partitions']!)).toEqual(['get']);
      expect(Object.keys(doc.paths['/topics/{topic}/partitions/{partition}']!).sort()).toEqual([
        'get',
        'post',
      ]);
      expect(Object.keys(doc.paths['/topics/{topic}/partitions/{partition}/offsets']!)).toEqual([
        'get',
      ]);
    });
  });

  describe('subscription', () => {
    it('lists the topics a topic_pattern matches', async () => {
      const prefix = uniqueName('pat');
      const a = await createTopic({ name: `${prefix}-a` });
      const b = await createTopic({ name: `${prefix}-b` });
      const s = await RestConsumer.create(gw.url, uniqueName('g'));
      expect(
        (await s.raw('POST', gw.url, '/subscription', { topic_pattern: `${prefix}-.*` })).status,
      ).toBe(204);
      const res = await s.raw('GET', gw.url, '/subscription');
      expect(res).toEqual({
        status: 200,
        body: { topics: [a, b].sort(), topic_pattern: `${prefix}-.*` },
      });
    });

    it('answers topics plus topic_pattern with 409 / 40903, and a string topics with 422', async () => {
      const topic = await createTopic();
      const s = await RestConsumer.create(gw.url, uniqueName('g'));
      const both = await s.raw('POST', gw.url, '/subscription', {
        topics: [topic],
        topic_pattern: 'x.*',
      });
      expect(both.status).toBe(409);
      expect(both.body).toMatchObject({ error_code: 40903, code: 'KGW_CONSUMER_STATE' });
      const scalar = await s.raw('POST', gw.url, '/subscription', { topics: topic });
      expect(scalar.status).toBe(422);
      expect(scalar.body).toMatchObject({
        error_code: 42201,
        message: expect.stringMatching(/topics must be array/),
      });
      const neither = await s.raw('POST', gw.url, '/subscription', {});
      expect(neither.status).toBe(422);
    });
  });

  it('answers a seek on a partition the instance is not assigned with 409 / 40903', async () => {
    const topic = await createTopic({ partitions: 2 });
    const other = await createTopic();
    const s = await RestConsumer.create(gw.url, uniqueName('g'));
    const none = await s.raw('POST', gw.url, '/positions', {
      offsets: [{ topic, partition: 0, offset: 0 }],
    });
    expect(none.status).toBe(409);
    expect(none.body).toMatchObject({ error_code: 40903, code: 'KGW_CONSUMER_STATE' });
    await s.raw('POST', gw.url, '/assignments', { partitions: [{ topic, partition: 0 }] });
    for (const [path, body] of [
      ['/positions', { offsets: [{ topic, partition: 1, offset: 0 }] }],
      ['/positions/beginning', { partitions: [{ topic: other, partition: 0 }] }],
    ] as const) {
      const res = await s.raw('POST', gw.url, path, body);
      expect(res.status).toBe(409);
      expect(res.body).toMatchObject({ error_code: 40903, code: 'KGW_CONSUMER_STATE' });
    }
    const ok = await s.raw('POST', gw.url, '/positions', {
      offsets: [{ topic, partition: 0, offset: 0 }],
    });
    expect(ok.status).toBe(204);
  });

  describe('committing offsets the instance never read', () => {
    it('commits the named offset (Kafka holds offset + 1) and the next read starts after it', async () => {
      const topic = await createTopic();
      await produceNumbers(gw.url, topic, 10);
      const s = await RestConsumer.create(gw.url, uniqueName('g'));
      await s.subscribe(gw.url, [topic]);
      await s.commit(gw.url, [{ topic, partition: 0, offset: 4 }]);
      expect(await s.committed(gw.url, topic, [0])).toEqual([5]);
      // Another instance of the group (a client that restarts) reads on from there.
      const next = await RestConsumer.create(gw.url, s.group);
      await next.subscribe(gw.url, [topic]);
      const got = await next.poll(gw.url, { timeout: 5000 });
      expect(got.map((r) => r.offset)).toEqual([5, 6, 7, 8, 9]);
      // Committing further than anything read, on a partition already read, moves on too.
      await next.commit(gw.url, [{ topic, partition: 0, offset: 9 }]);
      expect(await next.committed(gw.url, topic, [0])).toEqual([10]);
    });

    it('never moves the group past a record another instance holds, then catches up', async () => {
      const topic = await createTopic();
      await produceNumbers(gw.url, topic, 10);
      const group = uniqueName('g');
      const a = await RestConsumer.create(gw.url, group, { mode: 'shared' });
      const b = await RestConsumer.create(gw.url, group, { mode: 'shared' });
      await a.subscribe(gw.url, [topic]);
      await b.subscribe(gw.url, [topic]);
      const held = await a.poll(gw.url, { timeout: 5000, max_records: 2 });
      expect(held.map((r) => r.offset)).toEqual([0, 1]);
      // B names offset 6 without reading: 2..6 are resolved, 0 and 1 stay A's.
      await b.commit(gw.url, [{ topic, partition: 0, offset: 6 }]);
      expect(await b.committed(gw.url, topic, [0])).toEqual([0]);
      await a.ack(gw.url, held);
      expect(await a.committed(gw.url, topic, [0])).toEqual([7]);
      const rest = await b.poll(gw.url, { timeout: 5000 });
      expect(rest.map((r) => r.offset)).toEqual([7, 8, 9]);
    });

    it('refuses offsets of a topic or partition Kafka does not have with 404', async () => {
      const topic = await createTopic();
      const s = await RestConsumer.create(gw.url, uniqueName('g'));
      await s.subscribe(gw.url, [topic]);
      const missingTopic = await s.raw('POST', gw.url, '/offsets', {
        offsets: [{ topic: uniqueName('missing'), partition: 0, offset: 3 }],
      });
      expect(missingTopic.status).toBe(404);
      expect(missingTopic.body).toMatchObject({ error_code: 40401 });
      const missingPartition = await s.raw('POST', gw.url, '/offsets', {
        offsets: [{ topic, partition: 7, offset: 3 }],
      });
      expect(missingPartition.status).toBe(404);
      expect(missingPartition.body).toMatchObject({ error_code: 40402 });
    });
  });

  describe('produce body errors', () => {
    it('answers invalid base64 with 400 / 40001', async () => {
      const topic = await createTopic();
      const res = await call(
        'POST',
        `${gw.url}/topics/${topic}`,
        { records: [{ value: 'not base64!' }] },
        { 'content-type': 'application/vnd.kafka.binary.v2+json' },
      );
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({
        error_code: 40001,
        code: 'KGW_MALFORMED_REQUEST',
        message: 'records[0].value must be a base64 string',
      });
    });

    it('says records must be an array', async () => {
      const topic = await createTopic();
      const res = await call(
        'POST',
        `${gw.url}/topics/${topic}`,
        { records: { value: 1 } },
        { 'content-type': 'application/vnd.kafka.json.v2+json' },
      );
      expect(res.status).toBe(422);
      expect(res.body).toMatchObject({ error_code: 42201, message: 'body/records must be array' });
    });
  });

  it('fails a json consumer’s read of a value that is not JSON with 408 / 40801 and keeps the record', async () => {
    const topic = await createTopic();
    await call(
      'POST',
      `${gw.url}/topics/${topic}`,
      { records: [{ value: Buffer.from('not json {').toString('base64') }] },
      { 'content-type': 'application/vnd.kafka.binary.v2+json' },
    );
    await produceNumbers(gw.url, topic, 1, 1);
    const s = await RestConsumer.create(gw.url, uniqueName('g'));
    await s.subscribe(gw.url, [topic]);
    for (let i = 0; i < 2; i += 1) {
      // The same record fails every read: it is given back, not acked, not skipped.
      const res = await s.raw('GET', gw.url, '/records?timeout=3000', undefined, {
        accept: 'application/vnd.kafka.json.v2+json',
      });
      expect(res.status).toBe(408);
      expect(res.body).toMatchObject({
        error_code: 40801,
        code: 'KGW_DESERIALIZATION_FAILED',
        message: expect.stringContaining(`${topic}-0 offset 0`),
      });
    }
    // Seeking past it reads on; the committed offset never moved past it.
    expect(
      (await s.raw('POST', gw.url, '/positions', { offsets: [{ topic, partition: 0, offset: 1 }] }))
        .status,
    ).toBe(204);
    const records = await s.poll(gw.url, { timeout: 3000 });
    expect(records.map((r) => [r.offset, r.value])).toEqual([[1, { i: 1 }]]);
  });
});
