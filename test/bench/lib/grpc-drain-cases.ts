import { randomUUID } from 'node:crypto';
import { Agent } from 'undici';
import { drainDirect } from './direct-consumer.js';
import { drainThroughGateway } from './gateway-drain.js';
import { cpuMeter, CpuWindow, type GrpcBenchRun } from './grpc-bench-run.js';
import { drainThroughGrpc, type GrpcDrainPlan } from './grpc-consume-drain.js';
import type { DrainCaseResult } from './grpc-report.js';
import { committedOffsets } from './kafka-offsets.js';
import { formatCount } from './markdown-table.js';
import { fillTopic } from './topic-filler.js';

/** How the drains read the pre-filled topic. */
export interface DrainSettings {
  readonly records: number;
  /** A gateway drain stops here even if records are left ("capped"). */
  readonly capMs: number;
  /** Unmeasured gRPC draining before the measured gateway cases. */
  readonly warmupMs: number;
  /** The gRPC streams; the REST drains use as many sessions, in the same mode. */
  readonly plans: readonly GrpcDrainPlan[];
  readonly restMaxRecords: number;
  readonly restPollTimeoutMs: number;
}

/**
 * Pre-fills a topic, then drains it once per case, each in a fresh group:
 * direct node-rdkafka first, then for each plan the gRPC Consume streams and
 * the REST long-poll + acks equivalent.
 */
export async function measureDrains(
  run: GrpcBenchRun,
  settings: DrainSettings,
): Promise<DrainCaseResult[]> {
  const { context } = run;
  const brokers = context.stack.kafkaBrokers;
  const topic = await run.newTopic('drain');
  context.log(`pre-filling the drain topic with ${formatCount(settings.records)} records`);
  const counts = await fillTopic(brokers, topic, run.partitions, settings.records, run.value);
  const group = (prefix: string): string => `bench-grpc-${prefix}-${randomUUID()}`;
  const committedEquals = async (g: string, upTo: readonly number[]): Promise<boolean> => {
    const committed = await committedOffsets(brokers, g, topic, run.partitions);
    return committed.every((offset, p) => offset === upTo[p]);
  };
  const common = { total: settings.records };
  const results: DrainCaseResult[] = [];
  const logRate = (r: DrainCaseResult): void =>
    context.log(
      `${r.label}: ${formatCount(r.records / r.seconds)} records/s${r.complete ? '' : ' (capped)'}`,
    );

  context.log('direct node-rdkafka: drain');
  const directCpu = new CpuWindow(cpuMeter(run));
  const direct = await drainDirect({
    brokers,
    topic,
    group: group('direct'),
    counts,
    timeoutMs: settings.capMs * 2,
    ...directCpu.hooks,
  });
  results.push({
    ...common,
    ...direct,
    label: 'direct node-rdkafka',
    method: 'KafkaConsumer, assign + consume(1000)',
    duplicates: undefined,
    fenced: undefined,
    ackMs: undefined,
    committedMatches: undefined,
    cpu: directCpu.usage,
  });
  logRate(results[0]!);

  const first = settings.plans[0];
  if (first) {
    context.log(`gRPC Consume: ${settings.warmupMs / 1000} s of unmeasured draining`);
    await drainThroughGrpc({
      address: run.address,
      topic,
      group: group('warmup'),
      counts,
      plan: first,
      timeoutMs: settings.warmupMs,
    });
  }

  const agent = new Agent({ connections: 16, pipelining: 1 });
  try {
    for (const plan of settings.plans) {
      const grpcGroup = group(`grpc-${plan.mode}`);
      const grpcCpu = new CpuWindow(cpuMeter(run));
      const grpcLabel = `gRPC Consume x${plan.streams}, ${plan.mode}`;
      context.log(`${grpcLabel}: drain (at most ${settings.capMs / 1000} s)`);
      const grpc = await drainThroughGrpc({
        address: run.address,
        topic,
        group: grpcGroup,
        counts,
        plan,
        timeoutMs: settings.capMs,
        ...grpcCpu.hooks,
      });
      results.push({
        ...common,
        label: grpcLabel,
        method: `credit ${formatCount(plan.credit)}, acks on the stream, ${plan.acksInFlight} in flight`,
        records: grpc.records,
        seconds: grpc.seconds,
        complete: grpc.complete,
        duplicates: grpc.duplicates,
        fenced: grpc.fenced,
        ackMs: grpc.ackRoundTrip,
        committedMatches: await committedEquals(grpcGroup, grpc.confirmedUpTo),
        cpu: grpcCpu.usage,
      });
      logRate(results.at(-1)!);

      const restCpu = new CpuWindow(cpuMeter(run));
      const restLabel = `REST long-poll x${plan.streams}, ${plan.mode}`;
      context.log(`${restLabel}: drain (at most ${settings.capMs / 1000} s)`);
      const rest = await drainThroughGateway({
        dispatcher: agent,
        origin: run.gateway.url,
        topic,
        group: group(`rest-${plan.mode}`),
        counts,
        plan: {
          sessions: plan.streams,
          mode: plan.mode,
          confirm: 'acks',
          pollTimeoutMs: settings.restPollTimeoutMs,
          maxRecords: settings.restMaxRecords,
        },
        timeoutMs: settings.capMs,
        ...restCpu.hooks,
      });
      results.push({
        ...common,
        label: restLabel,
        method: `max_records ${settings.restMaxRecords}, POST …/acks per batch`,
        records: rest.records,
        seconds: rest.seconds,
        complete: rest.complete,
        duplicates: rest.duplicates,
        fenced: rest.fenced,
        ackMs: rest.confirmMs,
        committedMatches: rest.committed.every((offset, p) => offset === rest.confirmedUpTo[p]),
        cpu: restCpu.usage,
      });
      logRate(results.at(-1)!);
    }
  } finally {
    await agent.close();
  }
  return results;
}
