import { request } from 'undici';
import type { Logger } from '../observability/logger.js';

export interface OAuthTokenOptions {
  /** The OAuth 2 token endpoint (client credentials grant). */
  readonly url: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** Space-separated scopes; empty: none asked. */
  readonly scope: string;
  readonly timeoutMs: number;
  readonly logger: Logger;
}

/** Refresh when this share of a token's lifetime has passed. */
const REFRESH_AT = 0.8;
const RETRY_MIN_MS = 1000;
const RETRY_MAX_MS = 30_000;

/**
 * Access tokens for SASL/OAUTHBEARER from an OAuth 2 token endpoint (client
 * credentials, RFC 6749 §4.4, client authenticated with HTTP Basic). One
 * token is shared by every Kafka client of the process and replaced before
 * it expires; each client is told of the new one (librdkafka clients keep
 * their connections; the gateway's protocol client uses it for new ones).
 */
export class OAuthTokenSource {
  readonly #options: OAuthTokenOptions;
  readonly #listeners = new Set<(token: string) => void>();
  #current: { token: string; expiresAt: number } | undefined;
  #fetching: Promise<string> | undefined;
  #refresh: NodeJS.Timeout | undefined;
  #failures = 0;

  constructor(options: OAuthTokenOptions) {
    this.#options = options;
  }

  /** A valid token: the current one, or a fresh one from the endpoint. */
  token(): Promise<string> {
    const current = this.#current;
    if (current && current.expiresAt > Date.now()) return Promise.resolve(current.token);
    return this.#fetch();
  }

  /** Calls `listener` with every token fetched from now on. */
  onToken(listener: (token: string) => void): void {
    this.#listeners.add(listener);
  }

  close(): void {
    clearTimeout(this.#refresh);
    this.#listeners.clear();
  }

  #fetch(): Promise<string> {
    this.#fetching ??= this.#request().finally(() => (this.#fetching = undefined));
    return this.#fetching;
  }

  async #request(): Promise<string> {
    const { url, clientId, clientSecret, scope, timeoutMs, logger } = this.#options;
    const form = new URLSearchParams({ grant_type: 'client_credentials' });
    if (scope) form.set('scope', scope);
    const basic = Buffer.from(
      `${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`,
    ).toString('base64');
    let body: { access_token?: unknown; expires_in?: unknown; error?: unknown };
    try {
      const res = await request(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${basic}`,
          accept: 'application/json',
        },
        body: form.toString(),
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
      body = (await res.body.json()) as typeof body;
      if (res.statusCode !== 200 || typeof body.access_token !== 'string') {
        throw new Error(
          `the token endpoint answered ${res.statusCode}${typeof body.error === 'string' ? ` (${body.error})` : ''}`,
        );
      }
    } catch (err) {
      this.#failures += 1;
      const delay = Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** (this.#failures - 1));
      logger.warn({ err, retryInMs: delay }, 'could not get an OAuth token for Kafka');
      this.#schedule(delay);
      throw new Error(`could not get an OAuth token for Kafka: ${(err as Error).message}`, {
        cause: err,
      });
    }
    this.#failures = 0;
    const lifetimeMs = (typeof body.expires_in === 'number' ? body.expires_in : 3600) * 1000;
    const token = body.access_token;
    this.#current = { token, expiresAt: Date.now() + lifetimeMs };
    this.#schedule(lifetimeMs * REFRESH_AT);
    for (const listener of this.#listeners) listener(token);
    return token;
  }

  #schedule(delayMs: number): void {
    clearTimeout(this.#refresh);
    this.#refresh = setTimeout(() => void this.#fetch().catch(() => undefined), delayMs);
    this.#refresh.unref();
  }
}
