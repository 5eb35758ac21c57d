import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { GatewayError } from '../errors.js';
import type { Principal } from './principal.js';

interface KeyEntry {
  readonly principal: string;
  readonly sha256: string;
  readonly groups?: readonly string[];
}

/** SHA-256 of an API key, hex: what the keys file stores (never the key itself). */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/**
 * API keys from a JSON file (`{"keys":[{"principal","sha256","groups"}]}`),
 * stored hashed. The file is read again when its modification time changes
 * (checked at most once per `recheckMs`), so keys rotate without a restart:
 * add the new key, move clients, remove the old one. A file that does not
 * parse keeps the keys last loaded (and is reported once).
 */
export class ApiKeys {
  readonly #path: string;
  readonly #recheckMs: number;
  readonly #onReloadError: (err: Error) => void;
  #byHash = new Map<string, Principal>();
  #mtimeMs = -1;
  #checkedAt = 0;

  constructor(
    path: string,
    options: { recheckMs?: number; onReloadError?: (err: Error) => void } = {},
  ) {
    this.#path = path;
    this.#recheckMs = options.recheckMs ?? 1000;
    this.#onReloadError = options.onReloadError ?? (() => undefined);
    this.#load(true);
  }

  /** The principal of a key, or undefined for an unknown (or revoked) one. */
  lookup(key: string): Principal | undefined {
    this.#maybeReload();
    return this.#byHash.get(hashApiKey(key));
  }

  get size(): number {
    return this.#byHash.size;
  }

  #maybeReload(): void {
    const now = Date.now();
    if (now - this.#checkedAt < this.#recheckMs) return;
    this.#checkedAt = now;
    try {
      if (statSync(this.#path).mtimeMs !== this.#mtimeMs) this.#load(false);
    } catch (err) {
      this.#onReloadError(err as Error);
    }
  }

  #load(initial: boolean): void {
    try {
      const mtimeMs = statSync(this.#path).mtimeMs;
      const parsed = JSON.parse(readFileSync(this.#path, 'utf8')) as { keys?: unknown };
      if (!Array.isArray(parsed.keys)) throw new Error('expected {"keys": [...]}');
      const byHash = new Map<string, Principal>();
      for (const entry of parsed.keys as KeyEntry[]) {
        if (typeof entry.principal !== 'string' || !/^[0-9a-f]{64}$/.test(entry.sha256 ?? '')) {
          throw new Error('each key needs "principal" and "sha256" (64 hex characters)');
        }
        byHash.set(entry.sha256, {
          name: entry.principal,
          groups: Array.isArray(entry.groups) ? entry.groups.map(String) : [],
          via: 'api-key',
        });
      }
      this.#byHash = byHash;
      this.#mtimeMs = mtimeMs;
    } catch (err) {
      const problem = new GatewayError(
        'KGW_CONFIG_INVALID',
        `API keys file ${this.#path}: ${(err as Error).message}`,
      );
      if (initial) throw problem;
      this.#onReloadError(problem);
    }
  }
}
