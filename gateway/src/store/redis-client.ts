import { Redis, type RedisOptions } from 'ioredis';
import { GatewayError } from '../errors.js';
import type { Logger } from '../observability/logger.js';

export interface RedisClientOptions {
  readonly url: string;
  /** TLS material (CA, client certificate) for a rediss:// URL; see redis-connection.ts. */
  readonly security?: Pick<RedisOptions, 'tls'>;
  readonly logger: Logger;
  /** Deadline for any single command, in ms. */
  readonly commandTimeoutMs: number;
  /** Called once per command with its name, duration and whether it succeeded. */
  readonly onCommand?: (command: string, seconds: number, ok: boolean) => void;
}

/**
 * The gateway's Redis connection. Commands fail fast while disconnected
 * (no offline queue) so a down Redis surfaces as KGW_REDIS_UNAVAILABLE instead
 * of requests piling up; ioredis keeps reconnecting in the background.
 */
export class RedisClient {
  readonly redis: Redis;
  readonly #logger: Logger;
  #closed = false;
  /** Why the connection last failed (refused password, untrusted certificate…), for /readyz. */
  #lastError: string | undefined;

  constructor(options: RedisClientOptions) {
    this.#logger = options.logger.child({ component: 'redis' });
    this.redis = new Redis(options.url, {
      lazyConnect: true,
      enableOfflineQueue: false,
      connectTimeout: 2000,
      commandTimeout: options.commandTimeoutMs,
      maxRetriesPerRequest: 1,
      retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
      ...options.security,
    });
    if (options.onCommand) instrument(this.redis, options.onCommand);
    let wasUp = false;
    this.redis.on('ready', () => {
      wasUp = true;
      this.#lastError = undefined;
      this.#logger.info('redis connected');
    });
    this.redis.on('error', (err) => {
      this.#lastError = err.message;
      // ioredis emits every failed reconnect; log the first one per outage only.
      if (wasUp) this.#logger.warn({ err }, 'redis connection lost');
      wasUp = false;
    });
  }

  /** Starts connecting; failures are retried in the background. */
  start(): void {
    this.redis.connect().catch((err: unknown) => {
      this.#logger.warn({ err }, 'redis not reachable yet; retrying in the background');
    });
  }

  /**
   * Resolves once connected, or after `timeoutMs` either way (true when
   * connected): a process can wait a moment for Redis before it takes
   * traffic without refusing to start while Redis is down.
   */
  async connected(timeoutMs: number): Promise<boolean> {
    if (this.redis.status === 'ready') return true;
    return new Promise((resolve) => {
      const done = (ok: boolean): void => {
        clearTimeout(timer);
        this.redis.off('ready', onReady);
        resolve(ok);
      };
      const onReady = (): void => done(true);
      const timer = setTimeout(() => done(false), timeoutMs);
      this.redis.once('ready', onReady);
    });
  }

  async ping(): Promise<void> {
    try {
      await this.redis.ping();
    } catch (err) {
      const why = this.#lastError ? ` (connection: ${this.#lastError})` : '';
      throw new GatewayError('KGW_REDIS_UNAVAILABLE', `Redis did not answer PING${why}`, {
        cause: err,
      });
    }
  }

  /** Quits (or disconnects if the server is gone); safe to call more than once. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.redis.status === 'ready') {
      await this.redis.quit().catch(() => this.redis.disconnect());
    } else {
      this.redis.disconnect();
    }
  }
}

type Command = Parameters<Redis['sendCommand']>[0];

/** Times every command through ioredis's single entry point. */
function instrument(
  redis: Redis,
  onCommand: (command: string, seconds: number, ok: boolean) => void,
): void {
  const send = redis.sendCommand.bind(redis);
  redis.sendCommand = ((command: Command, stream?: Parameters<Redis['sendCommand']>[1]) => {
    const started = performance.now();
    const result = send(command, stream);
    command.promise.then(
      () => onCommand(command.name, (performance.now() - started) / 1000, true),
      () => onCommand(command.name, (performance.now() - started) / 1000, false),
    );
    return result;
  }) as Redis['sendCommand'];
}
