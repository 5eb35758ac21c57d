import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { Client } from 'undici';
import { Fifo } from './fifo.js';
import type { LoadTarget, SendDone } from './load-target.js';
import { settlesWithin } from './timing.js';
import { describe } from './v2-produce-target.js';

/** How long ending a stream may take before its unanswered records are written off. */
const END_TIMEOUT_MS = 30_000;

/** Every written record's result line starts like this (JSON.stringify keeps key order). */
const OK_PREFIX = Buffer.from('{"error_code":200,');
const NEWLINE = 0x0a;
/** Records per pre-built chunk; larger bursts are written as several chunks. */
const CHUNK_RECORDS = 256;

/** `{"value":{"type":"BINARY","data":"<base64>"}}\n` */
export function v3RecordLine(value: Buffer): Buffer {
  return Buffer.from(
    `${JSON.stringify({ value: { type: 'BINARY', data: value.toString('base64') } })}\n`,
  );
}

/**
 * One long-lived v3 streaming produce request: records go out on a chunked
 * body, one result line per record comes back in order, so the i-th line
 * answers the i-th record. Records enqueued in the same tick go out as one chunk.
 */
class ResultStream {
  readonly #pending = new Fifo<SendDone>();
  readonly #body = new Readable({ read() {} });
  readonly #chunk: Buffer;
  readonly #recordBytes: number;
  readonly #done: Promise<void>;
  #unsent = 0;
  #flushQueued = false;
  #carry: Buffer | undefined;
  #dead: string | undefined;

  constructor(client: Client, path: string, chunk: Buffer, recordBytes: number) {
    this.#chunk = chunk;
    this.#recordBytes = recordBytes;
    this.#done = client
      .request({
        method: 'POST',
        path,
        headers: { 'content-type': 'application/json' },
        body: this.#body,
      })
      .then(async ({ statusCode, body }) => {
        if (statusCode !== 200) {
          this.#fail(`HTTP ${statusCode} ${(await body.text()).slice(0, 120)}`);
          return;
        }
        body.on('data', (data: Buffer) => this.#onData(data));
        await finished(body);
      })
      .catch((err: unknown) => this.#fail(`stream failed: ${describe(err)}`));
  }

  enqueue(done: SendDone): void {
    const dead = this.#dead;
    if (dead !== undefined) {
      setImmediate(() => done(0, 1, 0, dead));
      return;
    }
    this.#pending.push(done);
    this.#unsent += 1;
    if (!this.#flushQueued) {
      this.#flushQueued = true;
      queueMicrotask(() => this.#flush());
    }
  }

  /** Ends the body, waits for the last result line, and fails records that got none. */
  async end(): Promise<void> {
    this.#flush();
    if (this.#dead === undefined) this.#body.push(null);
    const ended = await settlesWithin(this.#done, END_TIMEOUT_MS);
    this.#fail(
      ended
        ? 'no result line before the response ended'
        : `the response did not end within ${END_TIMEOUT_MS} ms`,
    );
  }

  #flush(): void {
    this.#flushQueued = false;
    if (this.#dead !== undefined) return;
    while (this.#unsent > 0) {
      const records = Math.min(this.#unsent, CHUNK_RECORDS);
      this.#body.push(this.#chunk.subarray(0, records * this.#recordBytes));
      this.#unsent -= records;
    }
  }

  #onData(data: Buffer): void {
    const buf = this.#carry ? Buffer.concat([this.#carry, data]) : data;
    this.#carry = undefined;
    let start = 0;
    for (let nl = buf.indexOf(NEWLINE); nl !== -1; nl = buf.indexOf(NEWLINE, start)) {
      this.#onLine(buf, start, nl);
      start = nl + 1;
    }
    if (start < buf.length) this.#carry = buf.subarray(start);
  }

  #onLine(buf: Buffer, start: number, end: number): void {
    const done = this.#pending.shift();
    if (!done) {
      this.#fail('more result lines than records sent');
      return;
    }
    if (buf.compare(OK_PREFIX, 0, OK_PREFIX.length, start, start + OK_PREFIX.length) === 0) {
      done(1, 0, 0);
      return;
    }
    let result: { error_code?: number; code?: string };
    try {
      result = JSON.parse(buf.toString('utf8', start, end)) as typeof result;
    } catch {
      done(0, 1, 0, 'unparsable result line');
      return;
    }
    if (result.error_code === 429) done(0, 0, 1, `result 429 ${result.code ?? ''}`);
    else done(0, 1, 0, `result ${result.error_code ?? '?'} ${result.code ?? ''}`);
  }

  /** Fails every record still waiting; later records fail at once. */
  #fail(reason: string): void {
    this.#dead ??= reason;
    this.#unsent = 0;
    for (let done = this.#pending.shift(); done; done = this.#pending.shift()) {
      const fail = done;
      setImmediate(() => fail(0, 1, 0, reason));
    }
  }
}

/**
 * Confluent v3 streaming produce: `streams` long-lived
 * `POST /v3/clusters/{cluster}/topics/{topic}/records` requests, each on its
 * own connection, with records spread over them in turn. Each phase opens
 * fresh streams and ends them.
 */
export class V3StreamTarget implements LoadTarget {
  readonly name = 'gateway v3 stream';
  readonly recordsPerSend = 1;
  readonly #clients: Client[];
  readonly #path: string;
  readonly #chunk: Buffer;
  readonly #recordBytes: number;
  #streams: ResultStream[] = [];
  #next = 0;
  #closed: Promise<void> | undefined;

  constructor(options: {
    readonly baseUrl: string;
    readonly clusterId: string;
    readonly topic: string;
    readonly value: Buffer;
    readonly streams: number;
  }) {
    this.#clients = Array.from(
      { length: options.streams },
      () =>
        new Client(options.baseUrl, {
          pipelining: 1,
          headersTimeout: 60_000,
          bodyTimeout: 60_000,
        }),
    );
    this.#path = `/v3/clusters/${encodeURIComponent(options.clusterId)}/topics/${encodeURIComponent(options.topic)}/records`;
    const line = v3RecordLine(options.value);
    this.#recordBytes = line.length;
    this.#chunk = Buffer.concat(new Array<Buffer>(CHUNK_RECORDS).fill(line));
  }

  /** Number of parallel streams. */
  get streams(): number {
    return this.#clients.length;
  }

  async begin(): Promise<void> {
    this.#streams = this.#clients.map(
      (client) => new ResultStream(client, this.#path, this.#chunk, this.#recordBytes),
    );
  }

  send(done: SendDone): void {
    const stream = this.#streams[this.#next]!;
    this.#next = (this.#next + 1) % this.#streams.length;
    stream.enqueue(done);
  }

  async end(): Promise<void> {
    await Promise.all(this.#streams.map((stream) => stream.end()));
    this.#streams = [];
  }

  close(): Promise<void> {
    this.#closed ??= Promise.all(this.#clients.map((client) => client.close())).then(
      () => undefined,
    );
    return this.#closed;
  }
}
