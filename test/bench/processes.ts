import { randomBytes } from 'node:crypto';
import { measureThroughput, microsPerRecord, type ThroughputResult } from './lib/closed-loop.js';
import { median } from './lib/proc-stats.js';
import { CpuMeter, childrenOf, processSeconds } from './lib/cpu-meter.js';
import { startGateway, type GatewayProcess } from './lib/gateway-process.js';
import { benchTopicName, createTopic } from './lib/kafka-topics.js';
import { markdownTable, type Column } from './lib/markdown-table.js';
import type { BenchContext, Scenario } from './lib/scenario.js';
import { pollUntil } from './lib/timing.js';
import { V2ProduceTarget } from './lib/v2-produce-target.js';

const ROUNDS = 3;
const PROCESS_COUNTS = [1, 2] as const;

interface Load {
  readonly name: string;
  readonly recordsPerRequest: number;
  readonly connections: number;
}

const LOADS: readonly Load[] = [
  { name: '1 record per request', recordsPerRequest: 1, connections: 64 },
  { name: '100 records per request', recordsPerRequest: 100, connections: 16 },
];

interface Run {
  readonly load: Load;
  readonly processes: number;
  readonly result: ThroughputResult;
  /** The supervisor's, then each gateway process's share of the gateway CPU in the window, in % (empty with one process). */
  readonly split: readonly number[];
}

/** Waits until the supervisor has `processes` children and gives them time to listen. */
async function settled(gateway: GatewayProcess, processes: number): Promise<void> {
  if (processes === 1) return;
  await pollUntil('gateway processes', async () => childrenOf(gateway.pid!).length === processes, {
    timeoutMs: 15_000,
  });
  // Readiness answers as soon as one process listens; connections opened before the
  // others listen would all stay with it. Every process listens within ~1.5 s here.
  await new Promise((resolve) => setTimeout(resolve, 3000));
}

/** The same produce loads against KGW_PROCESSES=1 and 2: throughput and CPU per record. */
export const processesScenario: Scenario = {
  name: 'processes',
  title: 'Gateway processes per instance (KGW_PROCESSES)',
  description: [
    'v2 binary produce of 1 KiB records, 1 record per request over 64 connections and 100 per',
    'request over 16, against a gateway with `KGW_PROCESSES=1` and one with `KGW_PROCESSES=2`',
    '(a supervisor and two gateway processes sharing the port), alternated over three rounds each',
    'in one run after an unmeasured warm-up run (each run: 3 s warm-up, 6 s window). Gateway CPU is the supervisor plus its processes',
    '(`/proc` of the process tree); "split" is the supervisor\'s and each process\'s share of it,',
    "which shows the supervisor's connection hand-out spread the load. On this 2-core machine Kafka, Redis and",
    'the load generator share the cores with the gateway, so a second process cannot double the',
    'throughput here; the figure to read is CPU per record, which a second process must not',
    'make worse. A multi-core host gains throughput where one process was the limit.',
    '',
    '**Reading the run of 2026-12-02T11:29Z.** 100 records per request: two processes wrote 1.71×',
    "the records/s of one (the machine's cores were then both busy) at 0.86× the CPU per record:",
    'the target "no worse with two" is met. 1 record per request: throughput unchanged (0.96×),',
    'CPU per record **1.21×** with two, in every round: the target is not met for that load. Each',
    'process has its own producers, so each Kafka produce request batches about half as many',
    'records (`linger.ms` 5), and four busy processes (two gateways, Kafka, the load generator)',
    'switch on two cores; which of the two costs more was not measured. An idle gateway process',
    'uses about 0.5% of a core, so the fixed cost of a second one is not the reason.',
  ].join('\n'),
  async run(context: BenchContext): Promise<string> {
    const { stack, cleanups, log } = context;
    const value = randomBytes(1024);
    const runs: Run[] = [];
    // A fresh stack's first seconds are slower (JIT, Kafka warming up): an unmeasured run
    // first, so that the first measured case is not the one that pays for it.
    {
      const gateway = await startGateway(stack, cleanups, { KGW_PROCESSES: '1' });
      const topic = benchTopicName('processes-warmup');
      await createTopic(stack.kafkaBrokers, topic, 6);
      const target = new V2ProduceTarget({
        name: 'warm-up',
        baseUrl: gateway.url,
        topic,
        value,
        recordsPerSend: 1,
        connections: 64,
      });
      try {
        await measureThroughput(target, {
          concurrency: 64,
          warmupMs: 3000,
          windowMs: 3000,
          drainTimeoutMs: 15_000,
        });
      } finally {
        await target.close();
        await gateway.stop();
      }
    }
    for (const load of LOADS) {
      for (let round = 0; round < ROUNDS; round += 1) {
        for (const processes of round % 2 === 0 ? PROCESS_COUNTS : [...PROCESS_COUNTS].reverse()) {
          const gateway = await startGateway(stack, cleanups, {
            KGW_PROCESSES: String(processes),
          });
          await settled(gateway, processes);
          const topic = benchTopicName(`processes-${processes}`);
          await createTopic(stack.kafkaBrokers, topic, 6);
          const target = new V2ProduceTarget({
            name: `${processes} processes`,
            baseUrl: gateway.url,
            topic,
            value,
            recordsPerSend: load.recordsPerRequest,
            connections: load.connections,
          });
          const pids = processes === 1 ? [] : [gateway.pid!, ...childrenOf(gateway.pid!)];
          let before: number[] = [];
          let used: number[] = [];
          try {
            const result = await measureThroughput(target, {
              concurrency: load.connections,
              warmupMs: 3000,
              windowMs: 6000,
              drainTimeoutMs: 15_000,
              cpu: new CpuMeter({ gateway: gateway.pid, kafka: stack.kafkaPid }),
              onWindowStart: () => {
                before = pids.map((pid) => processSeconds(pid) ?? 0);
              },
              onWindowEnd: () => {
                used = pids.map((pid, i) => (processSeconds(pid) ?? 0) - before[i]!);
              },
            });
            const total = used.reduce((a, b) => a + b, 0);
            const split = total > 0 ? used.map((u) => (u / total) * 100) : [];
            log(
              `${load.name}, ${processes} process(es): ${Math.round(result.recordsPerSec)} records/s, ` +
                `${microsPerRecord(result)?.toFixed(1)} µs/record, split ${split.map((p) => p.toFixed(0)).join('/')}`,
            );
            runs.push({ load, processes, result, split });
          } finally {
            await target.close();
            await gateway.stop();
          }
        }
      }
    }

    const columns: Column[] = [
      { header: 'load' },
      { header: 'KGW_PROCESSES', align: 'right' },
      { header: 'records/s', align: 'right' },
      { header: 'gateway CPU', align: 'right' },
      { header: 'gateway CPU µs/record', align: 'right' },
      { header: 'CPU split: supervisor / processes' },
      { header: 'machine CPU', align: 'right' },
    ];
    const rows = runs.map((r) => [
      r.load.name,
      String(r.processes),
      Math.round(r.result.recordsPerSec).toLocaleString('en-US'),
      `${r.result.cpu?.gateway?.toFixed(0) ?? '?'}%`,
      microsPerRecord(r.result)?.toFixed(1) ?? '?',
      r.split.length === 0 ? '—' : r.split.map((p) => `${p.toFixed(0)}%`).join(' / '),
      `${r.result.cpu?.machine?.toFixed(0) ?? '?'}%`,
    ]);
    const summary = LOADS.map((load) => {
      const of = (processes: number): { rate: number; micros: number } => {
        const mine = runs.filter((r) => r.load === load && r.processes === processes);
        return {
          rate: median(mine.map((r) => r.result.recordsPerSec)),
          micros: median(mine.map((r) => microsPerRecord(r.result) ?? NaN)),
        };
      };
      const one = of(1);
      const two = of(2);
      return (
        `- ${load.name}: median ${Math.round(one.rate).toLocaleString('en-US')} records/s at ` +
        `${one.micros.toFixed(1)} µs/record with one process, ` +
        `${Math.round(two.rate).toLocaleString('en-US')} at ${two.micros.toFixed(1)} µs/record with two: ` +
        `CPU per record **${(two.micros / one.micros).toFixed(2)}×**, throughput ${(two.rate / one.rate).toFixed(2)}×.`
      );
    });
    return [markdownTable(columns, rows), '', ...summary].join('\n');
  },
};
