import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { closeAllGateways, post, startGateway } from '../../support/gateway-in-process.js';
import { closeAllClients, createTopic, uniqueName } from '../../support/kafka.js';
import { RestConsumer } from '../../support/rest-consumer.js';

const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('request ids and W3C trace context through Kafka', () => {
  afterEach(closeAllClients);
  afterAll(closeAllGateways);

  it('writes the traceparent and request id into produced records and returns them to consumers', async () => {
    const gw = await startGateway();
    const topic = await createTopic();
    const produced = await post(
      `${gw.url}/topics/${topic}`,
      { records: [{ value: 1 }] },
      {
        headers: { traceparent: TRACEPARENT, 'x-request-id': 'req-123' },
      },
    );
    expect(produced.status).toBe(200);
    expect(produced.headers.get('x-request-id')).toBe('req-123');
    const v3 = await post(
      `${gw.url}/v3/clusters/kafka-gateway/topics/${topic}/records`,
      { value: { data: 2 } },
      {
        contentType: 'application/json',
        headers: { traceparent: 'not-a-traceparent' },
      },
    );
    expect(v3.status).toBe(200);

    const s = await RestConsumer.create(gw.url, uniqueName('g'));
    await s.subscribe(gw.url, [topic]);
    const records = await s.poll(gw.url, { timeout: 3000 });
    const headers = records.map((r) =>
      Object.fromEntries(r.headers.map((h) => [h.name, Buffer.from(h.value, 'base64').toString()])),
    );
    expect(headers[0]).toEqual({ traceparent: TRACEPARENT, 'x-request-id': 'req-123' });
    // A malformed traceparent is dropped; the generated request id still travels.
    expect(Object.keys(headers[1]!)).toEqual(['x-request-id']);
    expect(headers[1]!['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });
});
