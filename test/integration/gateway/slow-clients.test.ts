// Slow clients cannot hold connections open: a body trickling in is cut at
// KGW_BODY_TIMEOUT_MS, slow headers at KGW_HEADERS_TIMEOUT_MS, while a v3
// stream that keeps sending lives as long as it likes.
import { connect, type Socket } from 'node:net';
import { Readable } from 'node:stream';
import { request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { closeAllClients, createTopic } from '../../support/kafka.js';
import {
  closeAllGateways,
  startGateway,
  type RunningGateway,
} from '../../support/gateway-in-process.js';

/** Opens a raw connection; resolves with it and a promise of the time it was closed by the server. */
async function open(
  url: string,
): Promise<{ socket: Socket; closed: Promise<number>; data: () => string }> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  await new Promise((resolve) => socket.once('connect', resolve));
  let data = '';
  socket.on('data', (chunk: Buffer) => (data += chunk.toString()));
  socket.on('error', () => undefined);
  const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now())));
  return { socket, closed, data: () => data };
}

describe('slow clients', () => {
  let gw: RunningGateway;
  let topic: string;
  beforeAll(async () => {
    gw = await startGateway({ KGW_BODY_TIMEOUT_MS: '1500', KGW_HEADERS_TIMEOUT_MS: '1500' });
    topic = await createTopic();
  });
  afterEach(closeAllClients);
  afterAll(closeAllGateways);

  it('cuts 20 connections whose bodies trickle in one byte at a time', async () => {
    const started = Date.now();
    const conns = await Promise.all(Array.from({ length: 20 }, () => open(gw.url)));
    const timers = conns.map(({ socket }) => {
      socket.write(
        `POST /topics/${topic} HTTP/1.1\r\nHost: x\r\nContent-Type: application/vnd.kafka.json.v2+json\r\nContent-Length: 100\r\n\r\n{`,
      );
      return setInterval(() => socket.write(' '), 300);
    });
    const closedAt = await Promise.all(conns.map((c) => c.closed));
    timers.forEach(clearInterval);
    for (const at of closedAt) {
      expect(at - started).toBeGreaterThanOrEqual(1400);
      expect(at - started).toBeLessThan(4000);
    }
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    expect(metrics).toMatch(/^kgw_http_body_timeouts_total 2\d$/m);
  });

  it('cuts a connection whose headers trickle in', async () => {
    const started = Date.now();
    const { socket, closed } = await open(gw.url);
    socket.write('GET /healthz HTTP/1.1\r\n');
    const timer = setInterval(() => socket.write('X-Slow: 1\r\n'), 300);
    const at = await closed;
    clearInterval(timer);
    expect(at - started).toBeLessThan(5000);
  });

  it('answers every record of a v3 stream sent in large chunks for longer than the timeout', async () => {
    // 100 records (about 140 KB) per chunk, every 100 ms for 2.5 s: a stream that watched the
    // socket for progress with a 'data' listener stalled after the first chunks.
    const body = new Readable({ read() {} });
    const line = `${JSON.stringify({ value: { type: 'BINARY', data: Buffer.alloc(1024, 7).toString('base64') } })}\n`;
    const response = request(`${gw.url}/v3/clusters/kafka-gateway/topics/${topic}/records`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      headersTimeout: 30_000,
      bodyTimeout: 30_000,
    }).then(async (res) => ({ status: res.statusCode, text: await res.body.text() }));
    for (let i = 0; i < 25; i += 1) {
      body.push(line.repeat(100));
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    body.push(null);
    const { status, text } = await response;
    expect(status).toBe(200);
    expect(text.match(/"error_code":200/g)).toHaveLength(2500);
  });

  it('keeps a v3 stream that never pauses longer than the timeout, and cuts one that goes silent', async () => {
    const { socket, closed, data } = await open(gw.url);
    socket.write(
      `POST /v3/clusters/kafka-gateway/topics/${topic}/records HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`,
    );
    const chunk = (text: string) => `${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n`;
    // 3.5 s of streaming (over twice the timeout), a record every 500 ms.
    let lastWrite = 0;
    for (let i = 0; i < 7; i += 1) {
      socket.write(chunk(JSON.stringify({ value: { type: 'JSON', data: i } })));
      lastWrite = Date.now();
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    expect(data()).toContain('HTTP/1.1 200');
    expect(data().match(/"error_code":200/g)).toHaveLength(7);
    // Now silence: cut after the timeout.
    const at = await closed;
    expect(at - lastWrite).toBeGreaterThanOrEqual(1400);
    expect(at - lastWrite).toBeLessThan(4000);
  });
});
