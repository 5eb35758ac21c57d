import type { ClientDuplexStream, StatusObject } from '@grpc/grpc-js';
import { Fifo } from './fifo.js';
import {
  describeStatus,
  encodeProduceStreamRequest,
  GatewayGrpcConnection,
  recordResultError,
  recordResultFailed,
} from './grpc-gateway-client.js';
import type { LoadTarget, SendDone } from './load-target.js';
import { settlesWithin } from './timing.js';

/** How long ending a stream may take before its unanswered records are written off. */
const END_TIMEOUT_MS = 30_000;

/**
 * One ProduceStream call: each send writes one pre-encoded request message,
 * and results come back one per record in request order, so the i-th result
 * answers the i-th record.
 */
class ProduceStreamCall {
  readonly #pending = new Fifo<SendDone>();
  readonly #call: ClientDuplexStream<Buffer, Buffer>;
  readonly #message: Buffer;
  readonly #done: Promise<void>;
  #dead: string | undefined;

  constructor(connection: GatewayGrpcConnection, message: Buffer) {
    this.#message = message;
    this.#call = connection.produceStream();
    this.#call.on('data', (bytes: Buffer) => this.#onResult(bytes));
    // The status says why a call failed; an 'error' event repeats it.
    this.#call.on('error', () => undefined);
    const status = new Promise<StatusObject>((resolve) => this.#call.once('status', resolve));
    // Results still buffered in the readable side arrive before 'end', which may follow 'status'.
    const ended = new Promise<void>((resolve) => this.#call.once('end', resolve));
    this.#done = status.then(async (s) => {
      if (s.code !== 0) this.#fail(`stream ended with ${describeStatus(s.code, s.details)}`);
      else await ended;
    });
  }

  enqueue(done: SendDone): void {
    const dead = this.#dead;
    if (dead !== undefined) {
      setImmediate(() => done(0, 1, 0, dead));
      return;
    }
    this.#pending.push(done);
    // Outstanding records are bounded by the driver; HTTP/2 flow control queues the rest.
    this.#call.write(this.#message);
  }

  /** Half-closes the call, waits for the last result, and fails records that got none. */
  async end(): Promise<void> {
    if (this.#dead === undefined) this.#call.end();
    const ended = await settlesWithin(this.#done, END_TIMEOUT_MS);
    if (!ended) this.#call.cancel();
    this.#fail(
      ended
        ? 'no result before the stream ended'
        : `the stream did not end within ${END_TIMEOUT_MS} ms`,
    );
  }

  #onResult(bytes: Buffer): void {
    const done = this.#pending.shift();
    if (!done) {
      this.#fail('more results than records sent');
      return;
    }
    let failed: boolean;
    try {
      failed = recordResultFailed(bytes);
    } catch {
      done(0, 1, 0, 'unparsable RecordResult');
      return;
    }
    if (!failed) {
      done(1, 0, 0);
      return;
    }
    const reason = recordResultError(bytes);
    if (reason.startsWith('KGW_QUEUE_FULL')) done(0, 0, 1, `result ${reason}`);
    else done(0, 1, 0, `result ${reason}`);
  }

  /** Fails every record still waiting; later records fail at once. */
  #fail(reason: string): void {
    this.#dead ??= reason;
    for (let done = this.#pending.shift(); done; done = this.#pending.shift()) {
      const fail = done;
      setImmediate(() => fail(0, 1, 0, reason));
    }
  }
}

/**
 * gRPC ProduceStream: `streams` parallel calls, each on its own HTTP/2
 * connection, one record per request message, with records spread over the
 * calls in turn. Each phase opens fresh calls and half-closes them at its end.
 */
export class GrpcProduceStreamTarget implements LoadTarget {
  readonly name = 'gateway gRPC ProduceStream';
  readonly recordsPerSend = 1;
  readonly #connections: GatewayGrpcConnection[];
  readonly #message: Buffer;
  #calls: ProduceStreamCall[] = [];
  #next = 0;

  constructor(options: {
    readonly address: string;
    readonly topic: string;
    readonly value: Buffer;
    readonly streams: number;
  }) {
    this.#connections = Array.from(
      { length: options.streams },
      () => new GatewayGrpcConnection(options.address),
    );
    this.#message = encodeProduceStreamRequest({
      topic: options.topic,
      record: { value: options.value },
    });
  }

  async begin(): Promise<void> {
    this.#calls = this.#connections.map(
      (connection) => new ProduceStreamCall(connection, this.#message),
    );
  }

  send(done: SendDone): void {
    const call = this.#calls[this.#next]!;
    this.#next = (this.#next + 1) % this.#calls.length;
    call.enqueue(done);
  }

  async end(): Promise<void> {
    await Promise.all(this.#calls.map((call) => call.end()));
    this.#calls = [];
  }

  async close(): Promise<void> {
    for (const connection of this.#connections) connection.close();
  }
}
