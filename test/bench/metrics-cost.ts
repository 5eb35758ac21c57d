import { randomBytes } from 'node:crypto';
import { measureThroughput, microsPerRecord, type ThroughputResult } from './lib/closed-loop.js';
import { median } from './lib/proc-stats.js';
import { CpuMeter } from './lib/cpu-meter.js';
import { startGateway } from './lib/gateway-process.js';
import { benchTopicName, createTopic } from './lib/kafka-topics.js';
import type { BenchContext, Scenario } from './lib/scenario.js';
import { V2ProduceTarget } from './lib/v2-produce-target.js';

const ROUNDS = 2;
const RECORDS_PER_REQUEST = 100;
const CONCURRENCY = 16;

interface Round {
  readonly metrics: 'on' | 'off';
  readonly result: ThroughputResult;
}

/** The cost of recording metrics on the produce hot path: the same load with metrics on and silenced. */
export const metricsCostScenario: Scenario = {
  name: 'metrics-cost',
  title: 'Cost of metrics on the produce path',
  description: [
    'The v2 produce load of case (c) (100 records of 1 KiB per request, 16 requests outstanding)',
    'against a gateway with metrics recording (`KGW_METRICS_ENABLED=true`, the default) and one whose',
    'metric handles record nothing (`false`), alternated over two rounds each in one run. The gateway',
    "CPU per record is the steadier number; its ratio is the metrics' share of the produce path.",
  ].join('\n'),
  async run(context: BenchContext): Promise<string> {
    const { stack, cleanups, log } = context;
    const value = randomBytes(1024);
    const rounds: Round[] = [];
    for (let i = 0; i < ROUNDS * 2; i += 1) {
      const metrics = i % 2 === 0 ? 'on' : 'off';
      const gateway = await startGateway(stack, cleanups, {
        KGW_METRICS_ENABLED: metrics === 'on' ? 'true' : 'false',
      });
      const topic = benchTopicName(`metrics-${metrics}`);
      await createTopic(stack.kafkaBrokers, topic, 6);
      const target = new V2ProduceTarget({
        name: `metrics ${metrics}`,
        baseUrl: gateway.url,
        topic,
        value,
        recordsPerSend: RECORDS_PER_REQUEST,
        connections: CONCURRENCY,
      });
      try {
        const result = await measureThroughput(target, {
          concurrency: CONCURRENCY,
          warmupMs: 3000,
          windowMs: 8000,
          drainTimeoutMs: 15_000,
          cpu: new CpuMeter({ gateway: gateway.pid, kafka: stack.kafkaPid }),
        });
        log(
          `metrics ${metrics}: ${Math.round(result.recordsPerSec)} records/s, ${microsPerRecord(result)?.toFixed(1)} µs/record`,
        );
        rounds.push({ metrics, result });
      } finally {
        await target.close();
        await gateway.stop();
      }
    }
    const summary = (metrics: 'on' | 'off'): { rate: number; micros: number } => {
      const mine = rounds.filter((r) => r.metrics === metrics);
      return {
        rate: median(mine.map((r) => r.result.recordsPerSec)),
        micros: median(mine.map((r) => microsPerRecord(r.result) ?? NaN)),
      };
    };
    const on = summary('on');
    const off = summary('off');
    const rows = rounds.map(
      (r, i) =>
        `| ${i + 1} | ${r.metrics} | ${Math.round(r.result.recordsPerSec).toLocaleString('en-US')} | ${microsPerRecord(r.result)?.toFixed(1) ?? '?'} | ${r.result.cpu?.machine?.toFixed(0) ?? '?'}% |`,
    );
    return [
      '| round | metrics | records/s | gateway CPU µs/record | machine CPU |',
      '| --: | --- | --: | --: | --: |',
      ...rows,
      '',
      `Median with metrics: ${Math.round(on.rate).toLocaleString('en-US')} records/s at ${on.micros.toFixed(1)} µs/record; ` +
        `silenced: ${Math.round(off.rate).toLocaleString('en-US')} records/s at ${off.micros.toFixed(1)} µs/record. ` +
        `Metrics cost **${(((on.micros - off.micros) / on.micros) * 100).toFixed(1)}%** of the gateway's CPU per record ` +
        `(throughput ratio on/off ${(on.rate / off.rate).toFixed(2)}).`,
    ].join('\n');
  },
};
