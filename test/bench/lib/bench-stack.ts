import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseStackEnv, stack, type StackEnv } from '../../support/stack.js';
import type { Cleanups } from './cleanups.js';

/** Kafka + Redis for a bench run: the environment's, or a private stack started for it. */
export interface BenchStack extends StackEnv {
  /** Where they come from, for the report. */
  readonly origin: 'environment' | 'private';
  /** The broker's process id when this run started it (for CPU accounting). */
  readonly kafkaPid: number | undefined;
  /** A Confluent-compatible schema registry (SCHEMA_REGISTRY_URL), when there is one. */
  readonly schemaRegistryUrl: string | undefined;
}

/**
 * Uses KAFKA_BROKERS and REDIS_URL (and SCHEMA_REGISTRY_URL, if set) when both
 * are set; otherwise runs `deploy/local/stack up --brokers 1` (plus `--registry`
 * when `registry`) in a fresh temporary directory, whose `stack down` is
 * registered with `cleanups` before it starts.
 */
export async function openStack(
  cleanups: Cleanups,
  log: (line: string) => void,
  options: { readonly registry: boolean } = { registry: false },
): Promise<BenchStack> {
  const { KAFKA_BROKERS, REDIS_URL, SCHEMA_REGISTRY_URL } = process.env;
  if (KAFKA_BROKERS && REDIS_URL) {
    return {
      kafkaBrokers: KAFKA_BROKERS,
      redisUrl: REDIS_URL,
      vars: { KAFKA_BROKERS, REDIS_URL },
      origin: 'environment',
      kafkaPid: undefined,
      schemaRegistryUrl: SCHEMA_REGISTRY_URL || undefined,
    };
  }
  const runDir = await mkdtemp(join(tmpdir(), 'kgw-bench-stack-'));
  cleanups.add('stack down', async () => {
    log(`stopping the private stack in ${runDir}`);
    await stack(runDir, 'down').finally(() => rm(runDir, { recursive: true, force: true }));
  });
  const args = ['up', '--brokers', '1', ...(options.registry ? ['--registry'] : [])];
  const env = parseStackEnv(await stack(runDir, ...args));
  return {
    ...env,
    origin: 'private',
    kafkaPid: await servicePid(runDir, 'kafka-1'),
    schemaRegistryUrl: env.vars['SCHEMA_REGISTRY_URL'],
  };
}

/** The pid that `stack` recorded for a service ("<pid> <start time>"). */
async function servicePid(runDir: string, service: string): Promise<number | undefined> {
  try {
    const pid = Number((await readFile(join(runDir, `${service}.pid`), 'utf8')).split(' ')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}
