import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const STACK_SCRIPT = join(REPO_ROOT, 'deploy', 'local', 'stack');

export interface StackEnv {
  readonly kafkaBrokers: string;
  readonly redisUrl: string;
  /** Every variable printed, e.g. the security settings of `up --secure`. */
  readonly vars: Readonly<Record<string, string>>;
}

/** Runs `deploy/local/stack <args>` against one run directory. */
export async function stack(runDir: string, ...args: string[]): Promise<string> {
  const { stdout } = await run(STACK_SCRIPT, args, {
    env: { ...process.env, KGW_STACK_DIR: runDir },
    maxBuffer: 10 * 1024 * 1024,
    timeout: 300_000,
  });
  return stdout;
}

/** Parses the `export NAME=value` lines that `stack up` prints. */
export function parseStackEnv(stdout: string): StackEnv {
  const vars = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const match = /^export ([A-Z_]+)=(.*)$/.exec(line.trim());
    if (match) vars.set(match[1]!, match[2]!);
  }
  const kafkaBrokers = vars.get('KAFKA_BROKERS');
  const redisUrl = vars.get('REDIS_URL');
  if (!kafkaBrokers || !redisUrl)
    throw new Error(`stack printed no KAFKA_BROKERS/REDIS_URL:\n${stdout}`);
  return { kafkaBrokers, redisUrl, vars: Object.fromEntries(vars) };
}

/** `stack up <args>` in a fresh run directory of a test's own (prefix names it under the OS tmp dir). */
export async function privateStack(
  prefix: string,
  ...args: string[]
): Promise<{ runDir: string; env: StackEnv }> {
  const runDir = await mkdtemp(join(tmpdir(), prefix));
  return { runDir, env: parseStackEnv(await stack(runDir, 'up', ...args)) };
}

/** `stack down` and removes the run directory; nothing when the stack never started (''). */
export async function stopPrivateStack(runDir: string): Promise<void> {
  if (!runDir) return;
  await stack(runDir, 'down');
  await rm(runDir, { recursive: true, force: true });
}
