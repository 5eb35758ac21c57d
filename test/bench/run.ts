/**
 * `npm run bench -- <scenario…>`: starts (or reuses) Kafka + Redis, builds and
 * starts the gateway as its own process, runs each named scenario, prints its
 * markdown to stdout and writes it into docs/BENCHMARKS.md. Progress goes to stderr.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Kafka from 'node-rdkafka';
import { REPO_ROOT } from '../support/stack.js';
import { openStack, type BenchStack } from './lib/bench-stack.js';
import { writeDocSection } from './lib/benchmarks-doc.js';
import { Cleanups } from './lib/cleanups.js';
import { buildGateway, startGateway } from './lib/gateway-process.js';
import type { Scenario } from './lib/scenario.js';
import { consumeScenario } from './consume.js';
import { grpcScenario } from './grpc.js';
import { ledgerScenario } from './ledger.js';
import { metricsCostScenario } from './metrics-cost.js';
import { processesScenario } from './processes.js';
import { produceScenario } from './produce.js';
import { recordsScenario } from './records.js';

const SCENARIOS: ReadonlyMap<string, Scenario> = new Map(
  [
    produceScenario,
    consumeScenario,
    recordsScenario,
    metricsCostScenario,
    processesScenario,
    grpcScenario,
    ledgerScenario,
  ].map((scenario) => [scenario.name, scenario]),
);

const DOC_PATH = join(REPO_ROOT, 'docs', 'BENCHMARKS.md');

const run = promisify(execFile);

function log(line: string): void {
  process.stderr.write(`bench: ${line}\n`);
}

function usage(): never {
  process.stderr.write(
    `usage: npm run bench -- <scenario…>\nscenarios: ${[...SCENARIOS.keys()].join(', ')}\n`,
  );
  process.exit(2);
}

/** The checked-out commit, and whether the working tree differs from it. */
async function gitDescription(): Promise<string> {
  try {
    const head = (await run('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO_ROOT })).stdout;
    const status = (await run('git', ['status', '--porcelain'], { cwd: REPO_ROOT })).stdout;
    return `\`${head.trim()}\`${status.trim() === '' ? '' : ' (working tree had uncommitted changes)'}`;
  } catch {
    return 'unknown (git failed)';
  }
}

async function kafkaVersion(): Promise<string> {
  const pom = await readFile(join(REPO_ROOT, 'deploy', 'local', 'pom.xml'), 'utf8');
  return /<kafka\.version>(.*?)<\/kafka\.version>/.exec(pom)?.[1] ?? 'unknown';
}

async function runHeader(stack: BenchStack): Promise<string> {
  const cores = cpus();
  const kafka =
    stack.origin === 'private'
      ? `Kafka ${await kafkaVersion()} (private 1-broker stack)`
      : `Kafka from KAFKA_BROKERS`;
  return (
    `Run of ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')} on kafka-gateway commit ${await gitDescription()}: ` +
    `Node ${process.version}, librdkafka ${Kafka.librdkafkaVersion}, ${kafka}, ` +
    `${cores.length} cores (${cores[0]?.model.trim() ?? 'unknown CPU'}).`
  );
}

const cleanups = new Cleanups();
let interrupted = false;

async function main(): Promise<void> {
  const names = process.argv.slice(2);
  const unknown = names.filter((name) => !SCENARIOS.has(name));
  if (names.length === 0 || unknown.length > 0) {
    if (unknown.length > 0) process.stderr.write(`unknown scenario: ${unknown.join(', ')}\n`);
    usage();
  }
  const scenarios = names.map((name) => SCENARIOS.get(name)!);

  const onSignal = (signal: NodeJS.Signals): void => {
    if (interrupted) {
      log(`${signal}: still cleaning up`);
      return;
    }
    interrupted = true;
    log(`${signal}: cleaning up`);
    void cleanups.run(log).finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    const started = Date.now();
    log('building the gateway (tsc -p tsconfig.build.json)');
    const [stack] = await Promise.all([
      openStack(cleanups, log, {
        registry: scenarios.some((scenario) => scenario.needsRegistry === true),
      }).then((s) => {
        log(
          `Kafka ${s.kafkaBrokers}, Redis ${s.redisUrl}, registry ${s.schemaRegistryUrl ?? 'none'} (${s.origin})`,
        );
        return s;
      }),
      buildGateway(),
    ]);
    // With a registry, the runner's gateway serves the schema formats too (the produce scenario's avro case).
    const gateway = await startGateway(
      stack,
      cleanups,
      stack.schemaRegistryUrl ? { KGW_SCHEMA_REGISTRY_URL: stack.schemaRegistryUrl } : {},
    );
    log(`gateway ready at ${gateway.url} (pid ${gateway.pid ?? '?'})`);

    for (const scenario of scenarios) {
      const header = await runHeader(stack);
      const results = await scenario.run({ stack, gateway, cleanups, log });
      const markdown = `${header}\n\n${results}`;
      process.stdout.write(`\n## ${scenario.title}\n\n${markdown}\n`);
      await writeDocSection(DOC_PATH, {
        name: scenario.name,
        title: scenario.title,
        description: scenario.description,
        results: markdown,
      });
      log(`wrote ${DOC_PATH}`);
    }
    log(`done in ${Math.round((Date.now() - started) / 1000)} s`);
  } finally {
    // The same run as a signal's, if one came first: either way the process exits once it is done.
    await cleanups.run(log);
  }
}

main().then(
  () => process.exit(interrupted ? 130 : 0),
  (err: unknown) => {
    if (!interrupted) log(err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exit(interrupted ? 130 : 1);
  },
);
