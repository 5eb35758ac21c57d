import type Kafka from 'node-rdkafka';
import { GatewayError } from '../errors.js';
import type { OAuthTokenSource } from './oauth-token.js';
import { translateKafkaError } from './translate-error.js';

/** The part of a node-rdkafka client that connecting needs. */
export interface Connectable {
  isConnected(): boolean;
  connect(options: Kafka.MetadataOptions, cb: (err: Kafka.LibrdKafkaError | null) => void): unknown;
  setOauthBearerToken?(token: string): unknown;
}

/**
 * Connects a client on first use and shares one attempt among concurrent
 * callers; a failed attempt is retried by the next call, so the gateway can
 * boot while Kafka is down.
 */
export class LazyConnection {
  readonly #client: Connectable;
  readonly #tokens: OAuthTokenSource | undefined;
  #connecting: Promise<void> | undefined;

  /** With `tokens` (SASL/OAUTHBEARER), the client gets a token before it connects and every refreshed one. */
  constructor(client: Connectable, tokens?: OAuthTokenSource) {
    this.#client = client;
    this.#tokens = tokens;
    tokens?.onToken((token) => client.setOauthBearerToken?.(token));
  }

  ensure(timeoutMs: number): Promise<void> {
    if (this.#client.isConnected()) return Promise.resolve();
    this.#connecting ??= this.#connect(timeoutMs);
    return this.#connecting;
  }

  async #connect(timeoutMs: number): Promise<void> {
    if (this.#tokens) {
      try {
        this.#client.setOauthBearerToken?.(await this.#tokens.token());
      } catch (err) {
        this.#connecting = undefined;
        throw new GatewayError('KGW_KAFKA_UNAVAILABLE', (err as Error).message, { cause: err });
      }
    }
    return new Promise<void>((resolve, reject) => {
      // allTopics: false — the connect-time metadata request names no topic.
      this.#client.connect({ timeout: timeoutMs, allTopics: false }, (err) => {
        this.#connecting = undefined;
        if (err) reject(translateKafkaError(err, 'connect'));
        else resolve();
      });
    });
  }
}
