import { once } from 'node:events';
import { connect } from 'node:net';
import { request } from 'undici';
import { Readable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { closeAllClients, createTopic, readTopic } from '../../support/kafka.js';
import {
  closeAllGateways,
  get,
  post,
  startGateway,
  type RunningGateway,
} from '../../support/gateway-in-process.js';

interface V3Result {
  error_code: number;
  message?: string;
  code?: string;
  partition_id?: number;
  offset?: number;
  topic_name?: string;
}

const b64 = (s: string): string => Buffer.from(s).toString('base64');

describe('v3 produce against the real broker', () => {
  let gw: RunningGateway;
  beforeAll(async () => {
    gw = await startGateway();
  });
  afterEach(closeAllClients);
  afterAll(closeAllGateways);

  it('lists the served cluster', async () => {
    const res = await get<{ data: { cluster_id: string }[] }>(`${gw.url}/v3/clusters`);
    expect(res.body.data.map((c) => c.cluster_id)).toEqual(['kafka-gateway']);
  });

  it('writes one record with typed key and value and headers that round-trip', async () => {
    const topic = await createTopic({ partitions: 2 });
    const res = await post<V3Result & { key: unknown; value: unknown; timestamp: string }>(
      `${gw.url}/v3/clusters/kafka-gateway/topics/${topic}/records`,
      {
        partition_id: 1,
        headers: [
          { name: 'trace', value: b64('abc') },
          { name: 'empty', value: null },
        ],
        key: { type: 'STRING', data: 'user-1' },
        value: { type: 'JSON', data: { n: 1 } },
        timestamp: '2026-01-02T03:04:05.000Z',
      },
      { contentType: 'application/json' },
    );
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      error_code: 200,
      cluster_id: 'kafka-gateway',
      topic_name: topic,
      partition_id: 1,
      offset: 0,
      timestamp: '2026-01-02T03:04:05.000Z',
      key: { type: 'STRING', size: 6 },
      value: { type: 'JSON', size: 7 },
    });
    const [read] = await readTopic(topic, { count: 1 });
    expect(read!.key?.toString()).toBe('user-1');
    expect(read!.value?.toString()).toBe('{"n":1}');
    expect(
      read!.headers.map((h) => Object.entries(h).map(([k, v]) => [k, v.toString()])[0]),
    ).toEqual([
      ['trace', 'abc'],
      ['empty', ''],
      // The gateway adds the request id (trace context) after the caller's headers.
      ['x-request-id', expect.stringMatching(/^[0-9a-f-]{36}$/)],
    ]);
  });

  it('gives a lone bad record its own status', async () => {
    const topic = await createTopic();
    const bad = await post<V3Result>(
      `${gw.url}/v3/clusters/kafka-gateway/topics/${topic}/records`,
      { value: { type: 'BINARY', data: '!' } },
      {
        contentType: 'application/json',
      },
    );
    expect(bad.status).toBe(422);
    expect(bad.body).toMatchObject({ error_code: 422, code: 'KGW_INVALID_REQUEST' });
    const unknownCluster = await post<V3Result>(
      `${gw.url}/v3/clusters/nope/topics/${topic}/records`,
      { value: { data: 1 } },
      {
        contentType: 'application/json',
      },
    );
    expect(unknownCluster.status).toBe(404);
    expect(unknownCluster.body).toMatchObject({ code: 'KGW_CLUSTER_NOT_FOUND' });
    const unknownTopic = await post<V3Result>(
      `${gw.url}/v3/clusters/kafka-gateway/topics/nope-${Date.now()}/records`,
      { value: { data: 1 } },
      {
        contentType: 'application/json',
      },
    );
    expect(unknownTopic.status).toBe(404);
    expect(unknownTopic.body).toMatchObject({ error_code: 404, code: 'KGW_TOPIC_NOT_FOUND' });
  });

  it('streams: many records on one chunked body, one result per record in order, bad ones reported in place', async () => {
    const topic = await createTopic({ partitions: 3 });
    const records = Array.from({ length: 500 }, (_, i) =>
      i === 250
        ? '{"value":{"type":"BINARY","data":"%%%"}}'
        : JSON.stringify({ partition_id: i % 3, value: { type: 'STRING', data: `r${i}` } }),
    );
    // Small, uneven chunks: records split across chunk boundaries.
    const payload = Buffer.from(records.join('\n'));
    const chunks: Buffer[] = [];
    for (let at = 0; at < payload.length; at += 97) chunks.push(payload.subarray(at, at + 97));

    const res = await request(`${gw.url}/v3/clusters/kafka-gateway/topics/${topic}/records`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: Readable.from(chunks),
      headersTimeout: 30_000,
      bodyTimeout: 30_000,
    });
    const text = await res.body.text();
    const results = text
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as V3Result);

    expect(res.statusCode).toBe(200);
    expect(results).toHaveLength(500);
    expect(results[250]).toMatchObject({ error_code: 422, code: 'KGW_INVALID_REQUEST' });
    const ok = results.filter((r) => r.error_code === 200);
    expect(ok).toHaveLength(499);
    // Results are in request order: per partition, offsets count up from 0.
    for (const p of [0, 1, 2]) {
      const offsets = results.filter((_r, i) => i !== 250 && i % 3 === p).map((r) => r.offset);
      expect(offsets).toEqual(offsets.map((_, j) => j));
    }
    const read = await readTopic(topic, { count: 499 });
    expect(read).toHaveLength(499);
    expect(new Set(read.map((r) => r.value?.toString())).size).toBe(499);
  });

  it('reports a truncated last record and keeps the ones before it', async () => {
    const topic = await createTopic();
    const res = await request(`${gw.url}/v3/clusters/kafka-gateway/topics/${topic}/records`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: Readable.from([Buffer.from('{"value":{"data":1}} {"value":{"data":2}} {"value":')]),
    });
    const results = (await res.body.text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as V3Result);
    expect(results.map((r) => r.error_code)).toEqual([200, 200, 422]);
    expect(results[2]!.message).toMatch(/ended inside a JSON object/);
    expect(await readTopic(topic, { count: 2 })).toHaveLength(2);
  });

  it('answers 422 for a body that is not a sequence of objects', async () => {
    const topic = await createTopic();
    const res = await post<V3Result>(
      `${gw.url}/v3/clusters/kafka-gateway/topics/${topic}/records`,
      '[1,2]',
      { contentType: 'application/json' },
    );
    expect(res.status).toBe(422);
    const empty = await post<V3Result>(
      `${gw.url}/v3/clusters/kafka-gateway/topics/${topic}/records`,
      '',
      { contentType: 'application/json' },
    );
    expect(empty.status).toBe(422);
    expect(empty.body.message).toMatch(/no record/);
  });
});

describe('v3 streaming backpressure', () => {
  afterEach(closeAllClients);
  afterAll(closeAllGateways);

  it('stops reading (and producing) while the client does not read the results', async () => {
    const gw = await startGateway();
    const topic = await createTopic();
    const { port } = new URL(gw.url);
    const socket = connect(Number(port), '127.0.0.1');
    await once(socket, 'connect');
    socket.pause(); // never read the response
    socket.write(
      `POST /v3/clusters/kafka-gateway/topics/${topic}/records?delivery=fast HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n`,
    );
    const record = '{"value":{"type":"STRING","data":"x"}}\n';
    const chunk = record.repeat(500);
    const frame = `${Buffer.byteLength(chunk).toString(16)}\r\n${chunk}\r\n`;
    let sent = 0;
    let stalled = false;
    const limit = 300_000;
    while (sent < limit) {
      sent += 500;
      if (!socket.write(frame)) {
        const drained = await Promise.race([
          once(socket, 'drain').then(() => true),
          new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 2000)),
        ]);
        if (!drained) {
          stalled = true;
          break;
        }
      }
    }
    const produced = async (): Promise<number> => {
      const text = await (await fetch(`${gw.url}/metrics`)).text();
      const line = text
        .split('\n')
        .find(
          (l) =>
            l.startsWith(`kgw_produce_records_total{topic="${topic}"`) &&
            l.includes('outcome="ok"'),
        );
      return line ? Number(line.split(' ').pop()) : 0;
    };
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const settled = await produced();
    socket.destroy();

    expect(stalled).toBe(true);
    expect(sent).toBeLessThan(limit);
    // Bounded by the in-flight window plus what socket buffers hold, far below what was offered.
    expect(settled).toBeGreaterThan(0);
    expect(settled).toBeLessThan(sent);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(await produced()).toBeLessThan(sent);
  });
});
