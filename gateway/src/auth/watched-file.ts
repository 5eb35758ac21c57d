import { readFileSync, statSync } from 'node:fs';
import { GatewayError } from '../errors.js';

/**
 * A JSON file turned into a value by `parse`, read again when its
 * modification time changes (checked at most once per `recheckMs`), so keys
 * and policies change without a restart. A file that does not parse stops
 * the boot the first time; later, the value last loaded stays in force and
 * the problem goes to `onReloadError`.
 */
export class WatchedFile<T> {
  readonly #path: string;
  readonly #what: string;
  readonly #parse: (json: unknown) => T;
  readonly #recheckMs: number;
  readonly #onReloadError: (err: Error) => void;
  #value: T;
  #mtimeMs = -1;
  #checkedAt = 0;

  constructor(
    path: string,
    what: string,
    parse: (json: unknown) => T,
    options: { recheckMs?: number; onReloadError?: (err: Error) => void } = {},
  ) {
    this.#path = path;
    this.#what = what;
    this.#parse = parse;
    this.#recheckMs = options.recheckMs ?? 1000;
    this.#onReloadError = options.onReloadError ?? (() => undefined);
    const first = this.#load();
    if (first instanceof Error) throw first;
    this.#value = first;
  }

  /** The current value (re-read first if the file changed since the last check). */
  get value(): T {
    const now = Date.now();
    if (now - this.#checkedAt >= this.#recheckMs) {
      this.#checkedAt = now;
      try {
        if (statSync(this.#path).mtimeMs !== this.#mtimeMs) {
          const next = this.#load();
          if (next instanceof Error) this.#onReloadError(next);
          else this.#value = next;
        }
      } catch (err) {
        this.#onReloadError(err as Error);
      }
    }
    return this.#value;
  }

  #load(): T | GatewayError {
    try {
      const mtimeMs = statSync(this.#path).mtimeMs;
      const value = this.#parse(JSON.parse(readFileSync(this.#path, 'utf8')) as unknown);
      this.#mtimeMs = mtimeMs;
      return value;
    } catch (err) {
      return new GatewayError(
        'KGW_CONFIG_INVALID',
        `${this.#what} ${this.#path}: ${(err as Error).message}`,
      );
    }
  }
}
