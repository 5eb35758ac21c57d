import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { parseStackEnv, stack } from './stack.js';
import { ensureTestTools } from './test-tools.js';

declare module 'vitest' {
  export interface ProvidedContext {
    kafkaBrokers: string;
    redisUrl: string;
    /** The Confluent-compatible API of the stack's Apicurio Registry; '' when the environment names none. */
    schemaRegistryUrl: string;
  }
}

/**
 * Makes the tools the tests run available (deploy/local/test-tools), then
 * starts one local stack for the whole integration run, unless the environment
 * names one. The stack includes the schema registry (it starts while Kafka
 * does, so it adds little time; one JVM for every schema test file).
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  await ensureTestTools();
  const { KAFKA_BROKERS, REDIS_URL, SCHEMA_REGISTRY_URL } = process.env;
  if (KAFKA_BROKERS && REDIS_URL) {
    project.provide('kafkaBrokers', KAFKA_BROKERS);
    project.provide('redisUrl', REDIS_URL);
    project.provide('schemaRegistryUrl', SCHEMA_REGISTRY_URL ?? '');
    return async () => {};
  }
  const runDir = await mkdtemp(join(tmpdir(), 'kgw-test-stack-'));
  const started = Date.now();
  const env = parseStackEnv(await stack(runDir, 'up', '--brokers', '1', '--registry'));
  console.log(`test stack up in ${Date.now() - started} ms: ${env.kafkaBrokers} ${env.redisUrl}`);
  project.provide('kafkaBrokers', env.kafkaBrokers);
  project.provide('redisUrl', env.redisUrl);
  project.provide('schemaRegistryUrl', env.vars['SCHEMA_REGISTRY_URL'] ?? '');
  return async () => {
    await stack(runDir, 'down');
    await rm(runDir, { recursive: true, force: true });
  };
}
