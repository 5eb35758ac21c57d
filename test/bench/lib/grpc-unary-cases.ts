import { join } from 'node:path';
import { REPO_ROOT } from '../../support/stack.js';
import { measureThroughput } from './closed-loop.js';
import {
  findOrInstallGhz,
  ghzCompatibleProto,
  ghzScratchDir,
  ghzVersion,
  removeScratchDir,
  runGhz,
} from './ghz.js';
import { cpuMeter, type GrpcBenchRun } from './grpc-bench-run.js';
import { GRPC_SERVICE } from './grpc-gateway-client.js';
import type { UnaryCaseResult } from './grpc-report.js';
import { GrpcUnaryProduceTarget } from './grpc-unary-produce-target.js';
import { topicRecordCount } from './kafka-offsets.js';
import type { LoadTarget } from './load-target.js';
import { formatCount, formatMs } from './markdown-table.js';
import { TimedTarget } from './timed-target.js';
import { V2ProduceTarget } from './v2-produce-target.js';

/** How the unary cases load the gateway. */
export interface UnarySettings {
  readonly concurrency: number;
  readonly seconds: number;
  /** An unmeasured ghz run, or the closed loop's warm-up, before each case. */
  readonly warmupSeconds: number;
  readonly batchRecords: number;
  readonly drainTimeoutMs: number;
}

/**
 * Unary Produce with 1 and `batchRecords` records per request, driven by ghz
 * (or a grpc-js load generator when ghz cannot be installed), each next to
 * the REST v2 equivalent at the same concurrency. Adds notes on how ghz was run.
 */
export async function measureUnaryProduce(
  run: GrpcBenchRun,
  settings: UnarySettings,
  notes: string[],
): Promise<UnaryCaseResult[]> {
  const { context } = run;
  const ghz = await findOrInstallGhz(context.log);
  const scratch = await ghzScratchDir();
  try {
    const proto = await ghzCompatibleProto(
      join(REPO_ROOT, 'proto', 'kafka_gateway', 'v1', 'gateway.proto'),
      scratch,
    );
    if (ghz) {
      notes.push(
        `ghz ${await ghzVersion(ghz)} (what \`go install github.com/bojand/ghz/cmd/ghz@latest\` resolves to here) cannot parse proto3 \`optional\` fields, so it gets a copy of the proto with the \`optional\` labels removed (same wire format). Requests go in with \`-D <file>\`: a ${settings.batchRecords}-record body (~${Math.round((settings.batchRecords * run.value.length * 4) / 3 / 1024)} KiB of base64) is longer than one command-line argument may be.`,
      );
    } else {
      notes.push(
        '**ghz could not be installed**: unary Produce was driven by a grpc-js load generator in this process instead (same concurrency, one connection, latency timed per request).',
      );
    }
    const plural = (n: number): string => `${n} record${n === 1 ? '' : 's'}/request`;

    const grpcCase = async (records: number): Promise<UnaryCaseResult> => {
      const label = `gRPC Produce, ${plural(records)}`;
      const topic = await run.newTopic(`unary-grpc-${records}`);
      if (!ghz) {
        const target = new GrpcUnaryProduceTarget({
          address: run.address,
          topic,
          value: run.value,
          recordsPerSend: records,
        });
        return timedClosedLoop(run, settings, label, 'grpc-js (1 connection)', target);
      }
      const load = {
        address: run.address,
        protoFile: proto,
        call: `${GRPC_SERVICE}/Produce`,
        data: { topic, records: new Array(records).fill({ value: run.value.toString('base64') }) },
        concurrency: settings.concurrency,
      };
      context.log(`${label}: ghz warm-up (${settings.warmupSeconds} s)`);
      await runGhz(ghz, { ...load, durationSeconds: settings.warmupSeconds }, scratch);
      const before = await topicRecordCount(context.stack.kafkaBrokers, topic, run.partitions);
      context.log(`${label}: ghz -c ${settings.concurrency} -z ${settings.seconds}s`);
      const cpu = cpuMeter(run);
      cpu.start();
      const result = await runGhz(ghz, { ...load, durationSeconds: settings.seconds }, scratch);
      const usage = cpu.stop();
      const after = await topicRecordCount(context.stack.kafkaBrokers, topic, run.partitions);
      context.log(
        `${label}: ${formatCount(result.okPerSec)} requests/s, p99 ${formatMs(result.latency.p99)} ms`,
      );
      return {
        label,
        generator: 'ghz (1 connection)',
        recordsPerRequest: records,
        requestsPerSec: result.okPerSec,
        latency: result.latency,
        failedRecords: result.errors * records,
        reasons: result.errorReasons,
        topicCheck: { expected: result.ok * records, found: after - before },
        // ghz is the load generator here: its CPU moves from "everything else" to that column.
        cpu:
          result.ghzCpuPercent === undefined
            ? usage
            : { ...usage, generator: usage.generator + result.ghzCpuPercent },
      };
    };

    const restCase = async (records: number): Promise<UnaryCaseResult> => {
      const target = new V2ProduceTarget({
        name: `v2 x${records}`,
        baseUrl: run.gateway.url,
        topic: await run.newTopic(`unary-v2-${records}`),
        value: run.value,
        recordsPerSend: records,
        connections: settings.concurrency,
      });
      const generator = `undici Pool (${settings.concurrency} connections)`;
      return timedClosedLoop(run, settings, `REST v2, ${plural(records)}`, generator, target);
    };

    return [
      await grpcCase(1),
      await restCase(1),
      await grpcCase(settings.batchRecords),
      await restCase(settings.batchRecords),
    ];
  } finally {
    await removeScratchDir(scratch);
  }
}

/** A closed loop at the unary concurrency with per-request latency, for the in-process generators. */
async function timedClosedLoop(
  run: GrpcBenchRun,
  settings: UnarySettings,
  label: string,
  generator: string,
  inner: LoadTarget,
): Promise<UnaryCaseResult> {
  const window = { warmupMs: settings.warmupSeconds * 1000, windowMs: settings.seconds * 1000 };
  const target = new TimedTarget(inner, window);
  try {
    run.context.log(`${label}: ${settings.concurrency} in flight for ${settings.seconds} s`);
    const throughput = await measureThroughput(target, {
      ...window,
      concurrency: settings.concurrency,
      drainTimeoutMs: settings.drainTimeoutMs,
      cpu: cpuMeter(run),
    });
    const latency = target.latency();
    const requestsPerSec = throughput.recordsPerSec / target.recordsPerSend;
    run.context.log(
      `${label}: ${formatCount(requestsPerSec)} requests/s, p99 ${formatMs(latency.p99)} ms`,
    );
    return {
      label,
      generator,
      recordsPerRequest: target.recordsPerSend,
      requestsPerSec,
      latency,
      failedRecords: throughput.failures.failed + throughput.failures.rejected,
      reasons: throughput.failures.reasons,
      cpu: throughput.cpu,
    };
  } finally {
    await target.close();
  }
}
