import { once } from 'node:events';
import { createConnection, createServer, type Server, type Socket } from 'node:net';

/** A chunk waiting for its time; `undefined` data stands for the end of the stream. */
interface Delayed {
  readonly due: number;
  readonly arrived: number;
  readonly data: Buffer | undefined;
}

/** How much the proxy actually added: every chunk's wait, from arrival to write. */
export interface ProxyDelayStats {
  readonly chunks: number;
  readonly meanMs: number;
  readonly maxMs: number;
}

/**
 * One direction of one connection: chunks go out in arrival order, each no
 * earlier than `delayMs` after it arrived, driven by a single timer armed for
 * the head of the queue.
 */
class DelayedPipe {
  /** Short (a few chunks per delay), so a plain array's shift is cheap enough. */
  readonly #queue: Delayed[] = [];
  readonly #to: Socket;
  readonly #delayMs: number;
  readonly #onWritten: (waitedMs: number) => void;
  #timer: NodeJS.Timeout | undefined;

  constructor(from: Socket, to: Socket, delayMs: number, onWritten: (waitedMs: number) => void) {
    this.#to = to;
    this.#delayMs = delayMs;
    this.#onWritten = onWritten;
    from.on('data', (data: Buffer) => this.#push(data));
    from.on('end', () => this.#push(undefined));
  }

  /** Drops whatever is queued (the other side is gone). */
  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#queue.length = 0;
  }

  #push(data: Buffer | undefined): void {
    const now = performance.now();
    this.#queue.push({ due: now + this.#delayMs, arrived: now, data });
    if (this.#timer === undefined) this.#arm();
  }

  #arm(): void {
    const head = this.#queue[0];
    if (head === undefined) return;
    this.#timer = setTimeout(() => this.#release(), Math.max(0, head.due - performance.now()));
  }

  #release(): void {
    this.#timer = undefined;
    const now = performance.now();
    // A timer may fire a fraction of a millisecond early: only what is due goes out.
    for (let head = this.#queue[0]; head && head.due <= now; head = this.#queue[0]) {
      this.#queue.shift();
      if (head.data === undefined) {
        this.#to.end();
        this.stop();
        return;
      }
      if (!this.#to.destroyed) this.#to.write(head.data);
      this.#onWritten(now - head.arrived);
    }
    this.#arm();
  }
}

/**
 * A TCP proxy on loopback that delays every chunk by a fixed time in each
 * direction, keeping each connection's order: a Redis behind it is one
 * known round trip further away, so latency differences count round trips.
 */
export class DelayProxy {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  #chunks = 0;
  #waitedMs = 0;
  #maxWaitedMs = 0;
  #closed: Promise<void> | undefined;

  private constructor(server: Server) {
    this.#server = server;
  }

  /** Listens on 127.0.0.1 (a free port) in front of `target`, adding `delayMs` each way. */
  static async start(
    target: { readonly host: string; readonly port: number },
    delayMs: number,
  ): Promise<DelayProxy> {
    // Half-open on both sides: an end travels through the delay like the data before it.
    const server = createServer({ noDelay: true, allowHalfOpen: true });
    const proxy = new DelayProxy(server);
    server.on('connection', (client) => proxy.#accept(client, target, delayMs));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return proxy;
  }

  /** The proxy's port on 127.0.0.1. */
  get port(): number {
    const address = this.#server.address();
    return typeof address === 'object' && address ? address.port : 0;
  }

  stats(): ProxyDelayStats {
    return {
      chunks: this.#chunks,
      meanMs: this.#chunks > 0 ? this.#waitedMs / this.#chunks : NaN,
      maxMs: this.#chunks > 0 ? this.#maxWaitedMs : NaN,
    };
  }

  /** Starts the statistics afresh, so they cover one measurement only. */
  resetStats(): void {
    this.#chunks = 0;
    this.#waitedMs = 0;
    this.#maxWaitedMs = 0;
  }

  /** Stops listening and cuts every open connection; idempotent. */
  close(): Promise<void> {
    this.#closed ??= new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      for (const socket of this.#sockets) socket.destroy();
    });
    return this.#closed;
  }

  #accept(client: Socket, target: { host: string; port: number }, delayMs: number): void {
    const upstream = createConnection({
      host: target.host,
      port: target.port,
      noDelay: true,
      allowHalfOpen: true,
    });
    const written = (waitedMs: number): void => {
      this.#chunks += 1;
      this.#waitedMs += waitedMs;
      this.#maxWaitedMs = Math.max(this.#maxWaitedMs, waitedMs);
    };
    // Data the client sends before the upstream connects is queued by the upstream socket.
    const up = new DelayedPipe(client, upstream, delayMs, written);
    const down = new DelayedPipe(upstream, client, delayMs, written);
    const teardown = (): void => {
      up.stop();
      down.stop();
      client.destroy();
      upstream.destroy();
      this.#sockets.delete(client);
      this.#sockets.delete(upstream);
    };
    for (const socket of [client, upstream]) {
      this.#sockets.add(socket);
      socket.on('error', teardown);
      socket.on('close', teardown);
    }
  }
}

/** host and port of a `redis://` URL (6379 when it names none). */
export function redisAddress(url: string): { host: string; port: number } {
  const parsed = new URL(url);
  return { host: parsed.hostname, port: parsed.port === '' ? 6379 : Number(parsed.port) };
}

/** The same Redis URL (credentials, database) pointed at a local port instead. */
export function redisUrlVia(url: string, port: number): string {
  const parsed = new URL(url);
  parsed.hostname = '127.0.0.1';
  parsed.port = String(port);
  return parsed.toString();
}
