import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** Pinned, so a run is reproducible; from PyPI. deploy/local/test-tools reads it here. */
export const SCHEMATHESIS_VERSION = '4.32.5';

/**
 * The `st` binary of Schemathesis in the virtualenv that deploy/local/test-tools
 * installs under the project's cache (KGW_CACHE_DIR, default ~/.cache/kafka-gateway).
 */
export function schemathesis(): string {
  const cache = process.env.KGW_CACHE_DIR ?? join(homedir(), '.cache', 'kafka-gateway');
  const st = join(cache, `schemathesis-${SCHEMATHESIS_VERSION}`, 'bin', 'st');
  if (!existsSync(st)) throw new Error(`${st} not found: run deploy/local/test-tools`);
  return st;
}
