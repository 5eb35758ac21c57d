import { createHash } from 'node:crypto';
import { WatchedFile } from './watched-file.js';
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
  readonly #file: WatchedFile<ReadonlyMap<string, Principal>>;

  constructor(
    path: string,
    options: { recheckMs?: number; onReloadError?: (err: Error) => void } = {},
  ) {
    this.#file = new WatchedFile(path, 'API keys file', parseKeys, options);
  }

  /** The principal of a key, or undefined for an unknown (or revoked) one. */
  lookup(key: string): Principal | undefined {
    return this.#file.value.get(hashApiKey(key));
  }

  get size(): number {
    return this.#file.value.size;
  }
}

function parseKeys(json: unknown): ReadonlyMap<string, Principal> {
  const keys = (json as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys)) throw new Error('expected {"keys": [...]}');
  const byHash = new Map<string, Principal>();
  for (const entry of keys as KeyEntry[]) {
    if (typeof entry.principal !== 'string' || !/^[0-9a-f]{64}$/.test(entry.sha256 ?? '')) {
      throw new Error('each key needs "principal" and "sha256" (64 hex characters)');
    }
    byHash.set(entry.sha256, {
      name: entry.principal,
      groups: Array.isArray(entry.groups) ? entry.groups.map(String) : [],
      via: 'api-key',
    });
  }
  return byHash;
}
