import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Pinned, so a run is reproducible; from PyPI. */
export const SCHEMATHESIS_VERSION = '4.32.5';

/**
 * The `st` binary of Schemathesis in a virtualenv under the project's cache
 * (KGW_CACHE_DIR, default ~/.cache/kafka-gateway), installed from PyPI with
 * python3 -m venv + pip the first time (about 15 s), reused after.
 */
export async function schemathesis(): Promise<string> {
  const cache = process.env.KGW_CACHE_DIR ?? join(homedir(), '.cache', 'kafka-gateway');
  const venv = join(cache, `schemathesis-${SCHEMATHESIS_VERSION}`);
  const st = join(venv, 'bin', 'st');
  if (existsSync(st)) return st;
  await run('python3', ['-m', 'venv', venv], { timeout: 120_000 });
  await run(
    join(venv, 'bin', 'pip'),
    ['install', '--quiet', '--disable-pip-version-check', `schemathesis==${SCHEMATHESIS_VERSION}`],
    { timeout: 600_000, maxBuffer: 10 * 1024 * 1024 },
  );
  return st;
}
