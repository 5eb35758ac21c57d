import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { closeAllClients, createTopic, readTopic } from '../../support/kafka.js';
import {
  closeAllGateways,
  post,
  startGateway,
  type RunningGateway,
} from '../../support/gateway-in-process.js';
import { freePort } from '../../support/ports.js';

interface ErrorBody {
  error_code: number;
  message: string;
  code: string;
}

describe('produce errors: 4xx for bad input, 5xx that say whether to retry', () => {
  let gw: RunningGateway;
  let topic: string;
  beforeAll(async () => {
    gw = await startGateway({ KGW_BODY_LIMIT_BYTES: '4096' });
    topic = await createTopic({ partitions: 2 });
  });
  afterEach(closeAllClients);
  afterAll(closeAllGateways);

  it.each([
    [
      'unknown topic',
      '/topics/missing-{now}',
      { records: [{ value: 1 }] },
      {},
      404,
      40401,
      'KGW_TOPIC_NOT_FOUND',
    ],
    [
      'unknown partition',
      '/topics/{topic}/partitions/7',
      { records: [{ value: 1 }] },
      {},
      404,
      40402,
      'KGW_PARTITION_NOT_FOUND',
    ],
    [
      'unknown partition in a record',
      '/topics/{topic}',
      { records: [{ value: 1, partition: 9 }] },
      {},
      404,
      40402,
      'KGW_PARTITION_NOT_FOUND',
    ],
    [
      'Avro content type, no KGW_SCHEMA_REGISTRY_URL',
      '/topics/{topic}',
      { records: [{ value: 1 }] },
      { contentType: 'application/vnd.kafka.avro.v2+json' },
      415,
      41501,
      'KGW_UNSUPPORTED_MEDIA_TYPE',
    ],
    [
      'text/plain',
      '/topics/{topic}',
      'hello',
      { contentType: 'text/plain' },
      415,
      41501,
      'KGW_UNSUPPORTED_MEDIA_TYPE',
    ],
    ['no records', '/topics/{topic}', { records: [] }, {}, 422, 42201, 'KGW_INVALID_REQUEST'],
    [
      'records not an array',
      '/topics/{topic}',
      { records: 'x' },
      {},
      422,
      42201,
      'KGW_INVALID_REQUEST',
    ],
    [
      'unknown record field',
      '/topics/{topic}',
      { records: [{ vaule: 1 }] },
      {},
      422,
      42201,
      'KGW_INVALID_REQUEST',
    ],
    [
      'negative partition',
      '/topics/{topic}',
      { records: [{ value: 1, partition: -1 }] },
      {},
      422,
      42201,
      'KGW_INVALID_REQUEST',
    ],
    [
      'value_schema (Avro) field',
      '/topics/{topic}',
      { value_schema: '{}', records: [{ value: 1 }] },
      {},
      422,
      42201,
      'KGW_INVALID_REQUEST',
    ],
    [
      'bad base64',
      '/topics/{topic}',
      { records: [{ value: '***' }] },
      { contentType: 'application/vnd.kafka.binary.v2+json' },
      400,
      40001,
      'KGW_MALFORMED_REQUEST',
    ],
    [
      'bad delivery mode',
      '/topics/{topic}?delivery=sometimes',
      { records: [{ value: 1 }] },
      {},
      422,
      42201,
      'KGW_INVALID_REQUEST',
    ],
    [
      'illegal topic name',
      '/topics/bad%20name',
      { records: [{ value: 1 }] },
      {},
      422,
      42201,
      'KGW_INVALID_REQUEST',
    ],
    [
      'unparsable JSON',
      '/topics/{topic}',
      '{"records": [',
      {},
      400,
      40001,
      'KGW_MALFORMED_REQUEST',
    ],
    [
      'body over the limit',
      '/topics/{topic}',
      { records: [{ value: 'x'.repeat(5000) }] },
      {},
      413,
      41301,
      'KGW_PAYLOAD_TOO_LARGE',
    ],
    [
      "Kafka's internal topic",
      '/topics/__consumer_offsets',
      { records: [{ value: 1 }] },
      {},
      403,
      40301,
      'KGW_TOPIC_FORBIDDEN',
    ],
    [
      'JSON nested 600 levels deep',
      '/topics/{topic}',
      `{"records":[{"value":${'['.repeat(600)}${']'.repeat(600)}}]}`,
      {},
      400,
      40001,
      'KGW_MALFORMED_REQUEST',
    ],
    [
      'topic name of 249 characters (valid in Kafka, absent)',
      `/topics/${'t'.repeat(249)}`,
      { records: [{ value: 1 }] },
      {},
      404,
      40401,
      'KGW_TOPIC_NOT_FOUND',
    ],
    [
      'bad Idempotency-Key',
      '/topics/{topic}',
      { records: [{ value: 1 }] },
      { headers: { 'idempotency-key': 'has space' } },
      422,
      42201,
      'KGW_INVALID_REQUEST',
    ],
  ] as const)('%s → %s / %s', async (_name, path, body, options, status, errorCode, code) => {
    const url = `${gw.url}${path.replace('{topic}', topic).replace('{now}', String(Date.now()))}`;
    const res = await post<ErrorBody>(url, body, options);
    expect(res.status).toBe(status);
    expect(res.body).toMatchObject({ error_code: errorCode, code });
    expect(res.body.message.length).toBeGreaterThan(5);
  });

  it('wrote nothing for any of the rejected requests', async () => {
    expect(await readTopic(topic, { count: 1, timeoutMs: 1500 })).toEqual([]);
  });

  it('answers 413 (not a retryable 429) for a request bigger than the whole produce queue', async () => {
    const tiny = await startGateway({ KGW_PRODUCE_QUEUE_MAX_MESSAGES: '100' });
    const own = await createTopic();
    const res = await post<ErrorBody>(`${tiny.url}/topics/${own}`, {
      records: Array.from({ length: 101 }, (_, i) => ({ value: i })),
    });
    expect(res.status).toBe(413);
    expect(res.body).toMatchObject({ error_code: 41301, code: 'KGW_PAYLOAD_TOO_LARGE' });
    expect(res.body.message).toContain('KGW_PRODUCE_QUEUE_MAX_MESSAGES');
    expect(await readTopic(own, { count: 1, timeoutMs: 1500 })).toEqual([]);
  });

  it('answers 429 with Retry-After while the produce queue is full, and the retry succeeds', async () => {
    // A long linger keeps the first batch queued while the second arrives.
    const tiny = await startGateway({
      KGW_PRODUCE_QUEUE_MAX_MESSAGES: '100',
      KGW_PRODUCER_LINGER_MS: '1000',
    });
    const own = await createTopic();
    const batch = { records: Array.from({ length: 60 }, (_, i) => ({ value: i })) };
    const first = post(`${tiny.url}/topics/${own}`, batch);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const res = await post<ErrorBody>(`${tiny.url}/topics/${own}`, batch);
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(res.body).toMatchObject({ error_code: 42901, code: 'KGW_QUEUE_FULL' });
    expect((await first).status).toBe(200);
    expect((await post(`${tiny.url}/topics/${own}`, batch)).status).toBe(200);
    expect(await readTopic(own, { count: 121, timeoutMs: 3000 })).toHaveLength(120);
  });

  it('answers 503 KGW_KAFKA_UNAVAILABLE quickly when no broker is reachable', async () => {
    const dead = await startGateway({
      KAFKA_BROKERS: `127.0.0.1:${await freePort()}`,
      KGW_READY_TIMEOUT_MS: '1000',
    });
    const started = Date.now();
    const res = await post<ErrorBody>(`${dead.url}/topics/${topic}`, { records: [{ value: 1 }] });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(res.body).toMatchObject({ error_code: 50301, code: 'KGW_KAFKA_UNAVAILABLE' });
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
