import { Pool } from 'undici';
import type { LoadTarget, SendDone } from './load-target.js';

const HEADERS = { 'content-type': 'application/vnd.kafka.binary.v2+json' };

interface V2Offset {
  readonly error_code: number | null;
  readonly error: string | null;
}

interface V2Response {
  readonly offsets?: readonly V2Offset[];
  readonly code?: string;
}

/** `{"records":[{"value":"<base64>"},…]}` with `count` copies of `value`, built once. */
export function v2Body(value: Buffer, count: number): Buffer {
  const record = JSON.stringify({ value: value.toString('base64') });
  return Buffer.from(`{"records":[${new Array<string>(count).fill(record).join(',')}]}`);
}

/**
 * Confluent v2 produce (`POST /topics/{topic}`, binary embedded format) with a
 * fixed, pre-built body of `recordsPerSend` records, over an undici Pool.
 */
export class V2ProduceTarget implements LoadTarget {
  readonly name: string;
  readonly recordsPerSend: number;
  readonly #pool: Pool;
  readonly #path: string;
  readonly #body: Buffer;
  readonly #headers: Readonly<Record<string, string>>;
  #closed: Promise<void> | undefined;

  constructor(options: {
    readonly name: string;
    readonly baseUrl: string;
    readonly topic: string;
    readonly value: Buffer;
    readonly recordsPerSend: number;
    readonly connections: number;
    /** Sent with every request besides the content type (e.g. credentials). */
    readonly headers?: Readonly<Record<string, string>>;
    /** Another embedded format: its content type and the whole pre-built body (default: binary, `v2Body`). */
    readonly embedded?: { readonly contentType: string; readonly body: Buffer };
  }) {
    this.name = options.name;
    this.recordsPerSend = options.recordsPerSend;
    this.#pool = new Pool(options.baseUrl, { connections: options.connections, pipelining: 1 });
    this.#path = `/topics/${encodeURIComponent(options.topic)}`;
    this.#body = options.embedded?.body ?? v2Body(options.value, options.recordsPerSend);
    this.#headers = {
      ...HEADERS,
      ...(options.embedded ? { 'content-type': options.embedded.contentType } : {}),
      ...options.headers,
    };
  }

  async begin(): Promise<void> {}

  send(done: SendDone): void {
    const n = this.recordsPerSend;
    this.#pool
      .request({ method: 'POST', path: this.#path, headers: this.#headers, body: this.#body })
      .then(async ({ statusCode, body }) => ({ statusCode, text: await body.text() }))
      .then(
        ({ statusCode, text }) => {
          if (statusCode === 429) return done(0, 0, n, 'HTTP 429 KGW_QUEUE_FULL');
          const parsed = parse(text);
          if (statusCode !== 200 || !parsed?.offsets) {
            return done(0, n, 0, `HTTP ${statusCode} ${parsed?.code ?? text.slice(0, 80)}`);
          }
          let failed = 0;
          let reason: string | undefined;
          for (const offset of parsed.offsets) {
            if (offset.error_code !== null) {
              failed += 1;
              reason ??= `record error_code ${offset.error_code}: ${offset.error ?? ''}`;
            }
          }
          return done(n - failed, failed, 0, reason);
        },
        (err: unknown) => done(0, n, 0, `request failed: ${describe(err)}`),
      );
  }

  async end(): Promise<void> {}

  close(): Promise<void> {
    this.#closed ??= this.#pool.close();
    return this.#closed;
  }
}

function parse(text: string): V2Response | undefined {
  try {
    return JSON.parse(text) as V2Response;
  } catch {
    return undefined;
  }
}

/** A short description of a request error: its code when it has one. */
export function describe(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as Error & { code?: unknown }).code;
    return typeof code === 'string' ? `${code} ${err.message}` : err.message;
  }
  return String(err);
}
