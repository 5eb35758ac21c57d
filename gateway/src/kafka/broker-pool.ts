import { GatewayError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import { brokerTlsOptions, type KafkaSecurity } from './client-security.js';
import { BrokerConnection } from './protocol/broker-connection.js';
import { BrokerConnectionError } from './protocol/errors.js';
import { isRetriable } from './protocol/translate-error.js';

export interface BrokerPoolOptions {
  readonly brokers: readonly string[];
  readonly clientId: string;
  /** Bound on one call, retries included. */
  readonly timeoutMs: number;
  readonly logger: Logger;
  readonly security?: KafkaSecurity;
}

/** One call run by BrokerPool.run(): what to do, and how to name and translate its failure. */
export interface PoolCall<T> {
  /** For messages: "commit offsets", "describe topic configs". */
  readonly action: string;
  /** For messages: "group 'g'", "topic 't'". */
  readonly where: string;
  readonly details: Readonly<Record<string, string>>;
  readonly attempt: (deadline: number) => Promise<T>;
  /** Called before a retry, e.g. to forget a coordinator that moved. */
  readonly onRetry?: () => void;
  readonly translate: (err: unknown) => GatewayError;
}

/** A black-holed broker must not eat a whole call's budget before the next one is tried. */
const CONNECT_TIMEOUT_MS = 3000;
const RETRY_MIN_MS = 50;
export const RETRY_MAX_MS = 200;

export function splitAddress(address: string): { host: string; port: number } {
  const colon = address.lastIndexOf(':');
  const port = Number(address.slice(colon + 1));
  if (colon <= 0 || !Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new GatewayError('KGW_CONFIG_INVALID', `broker address '${address}' is not host:port`);
  }
  return { host: address.slice(0, colon).replace(/^\[(.*)\]$/, '$1'), port };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * What every client of the gateway's own protocol code shares: one
 * connection per broker address (TLS and SASL from the security settings),
 * the bootstrap list, and the retry loop a call runs in until its deadline.
 */
export class BrokerPool {
  readonly #options: BrokerPoolOptions;
  readonly #log: Logger;
  readonly #connections = new Map<string, BrokerConnection>();
  readonly #inFlight = new Set<Promise<unknown>>();
  /** Index of the bootstrap broker that last answered, tried first next time. */
  #bootstrap = 0;
  #closing: Promise<void> | undefined;
  #closed = false;

  constructor(options: BrokerPoolOptions, component: string) {
    if (options.brokers.length === 0) {
      throw new GatewayError('KGW_CONFIG_INVALID', `the ${component} client needs a broker`);
    }
    options.brokers.forEach(splitAddress);
    this.#options = options;
    this.#log = options.logger.child({ component });
  }

  get timeoutMs(): number {
    return this.#options.timeoutMs;
  }

  /**
   * Runs `call.attempt` until it succeeds, fails with an error a retry
   * cannot cure, or timeoutMs passes (KGW_TIMEOUT); close() waits for it.
   */
  run<T>(call: PoolCall<T>): Promise<T> {
    if (this.#closing) {
      return Promise.reject(
        new GatewayError('KGW_SHUTTING_DOWN', `cannot ${call.action}: the client is closing`),
      );
    }
    const running = this.#retrying(call);
    const settled = running.then(
      () => undefined,
      () => undefined,
    );
    this.#inFlight.add(settled);
    void settled.then(() => this.#inFlight.delete(settled));
    return running;
  }

  /**
   * Sends through the first bootstrap broker that can be reached, starting
   * with the one that answered last; an unreachable one is skipped.
   */
  async bootstrap<T>(send: (broker: BrokerConnection) => Promise<T>): Promise<T> {
    const { brokers } = this.#options;
    let lastError: unknown;
    for (let i = 0; i < brokers.length; i += 1) {
      const index = (this.#bootstrap + i) % brokers.length;
      try {
        const answer = await send(this.connection(brokers[index]!));
        this.#bootstrap = index;
        return answer;
      } catch (err) {
        if (!(err instanceof BrokerConnectionError)) throw err;
        lastError = err;
      }
    }
    throw lastError;
  }

  /** The connection to `address` (host:port), opened lazily by its first request. */
  connection(address: string): BrokerConnection {
    if (this.#closed) throw new GatewayError('KGW_SHUTTING_DOWN', 'the client is closed');
    let connection = this.#connections.get(address);
    if (!connection) {
      const { host, port } = splitAddress(address);
      const { tls, sasl } = this.#options.security ?? {};
      connection = new BrokerConnection({
        host,
        port,
        clientId: this.#options.clientId,
        connectTimeoutMs: CONNECT_TIMEOUT_MS,
        logger: this.#log,
        ...(tls ? { tls: brokerTlsOptions(tls, host) } : {}),
        ...(sasl ? { sasl } : {}),
      });
      this.#connections.set(address, connection);
    }
    return connection;
  }

  /**
   * Stops taking calls, lets the ones in flight finish (each is bounded by
   * timeoutMs), then closes every connection. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      let timer: NodeJS.Timeout | undefined;
      const bound = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, this.#options.timeoutMs + RETRY_MAX_MS);
      });
      await Promise.race([Promise.allSettled([...this.#inFlight]), bound]);
      clearTimeout(timer);
      this.#closed = true;
      for (const connection of this.#connections.values()) connection.close();
      this.#connections.clear();
    })();
    return this.#closing;
  }

  async #retrying<T>(call: PoolCall<T>): Promise<T> {
    const { timeoutMs } = this.#options;
    const deadline = Date.now() + timeoutMs;
    for (let attempt = 0; ; attempt += 1) {
      let failure: unknown;
      try {
        return await call.attempt(deadline);
      } catch (err) {
        if (!isRetriable(err)) throw call.translate(err);
        failure = err;
      }
      call.onRetry?.();
      // Retry while a last attempt still has RETRY_MIN_MS to run; then report the timeout.
      const remaining = deadline - Date.now();
      if (remaining <= RETRY_MIN_MS) {
        throw new GatewayError(
          'KGW_TIMEOUT',
          `could not ${call.action} for ${call.where} within ${timeoutMs} ms: ${(failure as Error).message}`,
          { cause: failure, details: call.details },
        );
      }
      this.#log.debug({ err: failure, ...call.details, attempt }, 'Kafka call will be retried');
      await sleep(Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** attempt, remaining - RETRY_MIN_MS));
    }
  }
}
