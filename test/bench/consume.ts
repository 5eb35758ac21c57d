import { randomBytes, randomUUID } from 'node:crypto';
import { Agent } from 'undici';
import {
  renderConsumeReport,
  type DrainCaseResult,
  type LatencyCaseResult,
} from './lib/consume-report.js';
import { CpuMeter } from './lib/cpu-meter.js';
import { drainDirect } from './lib/direct-consumer.js';
import {
  directTail,
  gatewayTail,
  measureEndToEnd,
  type StartTailConsumer,
} from './lib/end-to-end-latency.js';
import { drainThroughGateway, type GatewayDrainPlan } from './lib/gateway-drain.js';
import { counterDelta, gatewayCounters, type GatewayCounters } from './lib/gateway-metrics.js';
import { startGateway } from './lib/gateway-process.js';
import { measureIdleLongPolls, type IdlePollsResult } from './lib/idle-long-polls.js';
import { INSPECTOR_NODE_OPTIONS, InspectorGc, inspectorUrl } from './lib/inspector-gc.js';
import { benchTopicName, createTopic, deleteTopics } from './lib/kafka-topics.js';
import { formatCount, formatMs } from './lib/markdown-table.js';
import { RedisStats } from './lib/redis-stats.js';
import { ResourceWindow } from './lib/resource-window.js';
import type { BenchContext, Scenario } from './lib/scenario.js';
import { sleep } from './lib/timing.js';
import { fillTopic } from './lib/topic-filler.js';

const VALUE_BYTES = 1024;
const PARTITIONS = 6;
/** Records pre-filled for the drains: enough for several seconds of the gateway's rate. */
const DRAIN_RECORDS = 200_000;
const DIRECT_DRAIN_TIMEOUT_MS = 45_000;
/** A gateway drain stops here even if records are left, to keep the run short; records/s stays valid. */
const GATEWAY_DRAIN_CAP_MS = 20_000;
/** librdkafka reports fetch statistics once a second: wait this long before reading them. */
const FETCH_STATS_SETTLE_MS = 1500;
/** Unmeasured gateway draining before the measured cases, so its JIT is warm. */
const GATEWAY_WARMUP_MS = 3000;
const POLL_TIMEOUT_MS = 1000;
const MAX_RECORDS = 500;
const SESSIONS = 3;
const LATENCY_RATE = 1000;
const LATENCY_SETTLE_MS = 1500;
const LATENCY_WARMUP_MS = 2000;
const LATENCY_WINDOW_MS = 10_000;
const LATENCY_DRAIN_MS = 5000;
const IDLE_POLLS = 1000;
const IDLE_POLL_TIMEOUT_MS = 30_000;

interface GatewayCase {
  readonly id: DrainCaseResult['id'];
  readonly label: string;
  readonly plan: GatewayDrainPlan;
}

const plan = (
  mode: GatewayDrainPlan['mode'],
  confirm: GatewayDrainPlan['confirm'],
): GatewayDrainPlan => ({
  sessions: SESSIONS,
  mode,
  confirm,
  pollTimeoutMs: POLL_TIMEOUT_MS,
  maxRecords: MAX_RECORDS,
});

const GATEWAY_CASES: readonly GatewayCase[] = [
  {
    id: 'b',
    label: `(b) gateway, ${SESSIONS} ordered sessions, acks`,
    plan: plan('ordered', 'acks'),
  },
  {
    id: 'c',
    label: `(c) gateway, ${SESSIONS} ordered sessions, offsets`,
    plan: plan('ordered', 'offsets'),
  },
  {
    id: 'd',
    label: `(d) gateway, ${SESSIONS} shared sessions, acks`,
    plan: plan('shared', 'acks'),
  },
  {
    id: 'e',
    label: '(e) gateway, 1 ordered session, default poll size, acks',
    plan: { ...plan('ordered', 'acks'), sessions: 1, maxRecords: undefined },
  },
];

const DESCRIPTION = `
Records of ${VALUE_BYTES} bytes on topics with ${PARTITIONS} partitions, one broker; every gateway
session is created in a fresh group with \`format: binary\` and \`auto.offset.reset: earliest\`.
The worker process does not run: an ack commits to Kafka within its own request.

- **Drain.** A topic is pre-filled with ${formatCount(DRAIN_RECORDS)} records (a plain
  node-rdkafka producer, not measured), then read to the end once per case, each
  in its own group: **(a) direct**, a node-rdkafka \`KafkaConsumer\` assigned every
  partition, \`consume(1000)\` in a loop, committing every second and at the end;
  **(b)–(d) gateway**, ${SESSIONS} sessions long-polling in parallel
  (\`GET …/records?timeout=${POLL_TIMEOUT_MS}&max_records=${MAX_RECORDS}\`) and confirming each
  batch before the next poll, either with \`POST …/acks\` naming every record and its
  attempt, or with Confluent's \`POST …/offsets\` (last offset per partition);
  **(e)** one ordered session polling without \`max_records\` (the gateway's default poll
  size: \`KGW_MAX_POLL_RECORDS\`, \`KGW_MAX_POLL_BYTES\` and the in-flight window bound it) and acking. Timed
  from the first read to the confirmation of the last record; records/s is
  confirmed records / that time. A gateway case stops after ${GATEWAY_DRAIN_CAP_MS / 1000} s even if
  records are left ("capped"), to keep the run short. Before the cases, one
  unmeasured direct drain and ${GATEWAY_WARMUP_MS / 1000} s of gateway draining warm the JITs.
  Every record is checked off by offset, so duplicates show, and Kafka's
  committed offsets are read back and compared with what was confirmed.
  "Kafka bytes fetched / delivered" is \`kgw_fetch_bytes_total\` over the drain divided
  by the value bytes delivered: how much the gateway's shared fetchers read per byte handed out.
- **Redis commands per record**: \`INFO commandstats\` before and after each drain.
  Commands that Lua scripts run count as well as the \`EVALSHA\` itself, so this
  is the work Redis did; "(sent)" is what the gateway sent, a script call counting
  once (its \`kgw_redis_command_seconds_count\`).
- **End-to-end latency** at ${formatCount(LATENCY_RATE)} records/s: a node-rdkafka producer
  (\`linger.ms=0\`, \`acks=all\`) writes open-loop into a fresh topic, each value starting
  with its send time; a consumer in the same process subtracts it on arrival.
  Baseline: a node-rdkafka consumer in flowing mode; gateway: one ordered session
  that polls and acks each batch before polling again, so an ack's duration
  delays the next poll. ${LATENCY_WARMUP_MS / 1000} s warm-up, ${LATENCY_WINDOW_MS / 1000} s window.
- **Idle long-polls**: ${formatCount(IDLE_POLLS)} sessions of one group (shared mode) on an empty
  topic each hold \`GET …/records?timeout=${IDLE_POLL_TIMEOUT_MS}\` on its own connection (undici
  \`Agent\`), against a second gateway process started for this phase with its
  inspector on loopback (\`NODE_OPTIONS=${INSPECTOR_NODE_OPTIONS}\`). Before each memory sample
  a full collection is forced through it (\`HeapProfiler.collectGarbage\`), so samples
  show live memory rather than however much garbage was waiting. The gateway's
  VmRSS (\`/proc/<pid>/status\`) and \`/metrics\` heap are sampled (medians of 5) before,
  while they wait, and after they were answered. Per poll = (held − before) /
  polls, so it includes the connection's and request's own objects. While they wait, one \`POST …/subscription\` of another session of the group
  publishes one wake-up, and the Redis commands and gateway CPU it causes are counted.

Targets: the best gateway drain reaches at least 40% of (a)'s records/s; an idle
long-poll costs at most 20 KiB of gateway memory; \`kgw_consume_long_polls_waiting\`
reaches about ${formatCount(IDLE_POLLS)} while they are held.
`;

/** The consume path: drain rate, end-to-end latency, idle long-poll memory, Redis commands per record. */
export const consumeScenario: Scenario = {
  name: 'consume',
  title: 'Consume',
  description: DESCRIPTION,
  async run(context) {
    const { stack, cleanups } = context;
    const topics: string[] = [];
    cleanups.add('delete consume bench topics', () => deleteTopics(stack.kafkaBrokers, topics));
    const newTopic = async (prefix: string): Promise<string> => {
      const topic = benchTopicName(`consume-${prefix}`);
      topics.push(topic);
      await createTopic(stack.kafkaBrokers, topic, PARTITIONS);
      return topic;
    };
    const linesBefore = context.gateway.linesWritten();
    const redis = await RedisStats.connect(stack.redisUrl);
    const agent = new Agent({ connections: 64, pipelining: 1 });
    try {
      const pids = {
        gateway: context.gateway.pid,
        kafka: stack.kafkaPid,
        redis: await redis.pid(),
        stats: redis,
      };
      const window = (): ResourceWindow => new ResourceWindow(pids);
      const drains = await runDrains(context, agent, window, await newTopic('drain'));
      const latency = await runLatency(context, agent, newTopic);
      const idle = await runIdleLongPolls(context, redis, await newTopic('idle'));
      return renderConsumeReport({
        valueBytes: VALUE_BYTES,
        partitions: PARTITIONS,
        kafka:
          stack.origin === 'private'
            ? 'a private 1-broker stack'
            : `from KAFKA_BROKERS=${stack.kafkaBrokers}`,
        drains,
        latency,
        idle,
        gatewayLines: gatewayLines(context, linesBefore),
      });
    } finally {
      await agent.close();
      await redis.close();
    }
  },
};

/**
 * Idle long-polls on a gateway process of their own, started with its
 * inspector on loopback so a full collection can be forced before each memory
 * sample: the samples then hold live memory, not whatever garbage was waiting.
 */
async function runIdleLongPolls(
  context: BenchContext,
  redis: RedisStats,
  topic: string,
): Promise<IdlePollsResult> {
  const { stack, cleanups, log } = context;
  const gateway = await startGateway(stack, cleanups, {
    NODE_OPTIONS: INSPECTOR_NODE_OPTIONS,
    // The polls' sessions plus the one whose subscription publishes the wake-up.
    KGW_MAX_SESSIONS_PER_GROUP: String(IDLE_POLLS + 10),
  });
  let gc: InspectorGc | undefined;
  try {
    const url = inspectorUrl(gateway.logs);
    gc = url ? await InspectorGc.connect(url) : undefined;
    if (!gc)
      log(
        'idle long-polls: no inspector URL from the gateway; memory is sampled without a forced GC',
      );
    log(
      `idle long-polls: ${IDLE_POLLS} held for up to ${IDLE_POLL_TIMEOUT_MS / 1000} s on a second gateway (pid ${gateway.pid ?? '?'})`,
    );
    const collector = gc;
    return await measureIdleLongPolls({
      origin: gateway.url,
      gatewayPid: gateway.pid,
      topic,
      group: groupName('idle'),
      polls: IDLE_POLLS,
      pollTimeoutMs: IDLE_POLL_TIMEOUT_MS,
      redis,
      ...(collector ? { collectGarbage: () => collector.collectGarbage() } : {}),
      log,
    });
  } finally {
    gc?.close();
    await gateway.stop();
  }
}

/** Up to 5 of the lines the gateway logged (warn and above) since `before`. */
function gatewayLines(context: BenchContext, before: number): readonly string[] {
  const written = Math.min(context.gateway.linesWritten() - before, 5);
  return written > 0 ? context.gateway.logs.slice(-written) : [];
}

function groupName(prefix: string): string {
  return `bench-consume-${prefix}-${randomUUID()}`;
}

async function runDrains(
  context: BenchContext,
  agent: Agent,
  window: () => ResourceWindow,
  topic: string,
): Promise<DrainCaseResult[]> {
  const { stack, gateway, log } = context;
  log(`pre-filling ${topic} with ${formatCount(DRAIN_RECORDS)} records`);
  const filledAt = performance.now();
  const counts = await fillTopic(
    stack.kafkaBrokers,
    topic,
    PARTITIONS,
    DRAIN_RECORDS,
    randomBytes(VALUE_BYTES),
  );
  log(`pre-filled in ${((performance.now() - filledAt) / 1000).toFixed(1)} s`);

  log('warming up: one direct drain and a few seconds of gateway draining (not measured)');
  await drainDirect({
    brokers: stack.kafkaBrokers,
    topic,
    group: groupName('warmup'),
    counts,
    timeoutMs: DIRECT_DRAIN_TIMEOUT_MS,
  });
  await drainThroughGateway({
    dispatcher: agent,
    origin: gateway.url,
    topic,
    group: groupName('warmup'),
    counts,
    plan: plan('ordered', 'acks'),
    timeoutMs: GATEWAY_WARMUP_MS,
  });

  const results: DrainCaseResult[] = [];
  const direct = window();
  log('(a) direct node-rdkafka: drain');
  const a = await drainDirect({
    brokers: stack.kafkaBrokers,
    topic,
    group: groupName('a'),
    counts,
    timeoutMs: DIRECT_DRAIN_TIMEOUT_MS,
    onStart: () => direct.start(),
    onStop: async () => void (await direct.stop()),
  });
  results.push({ id: 'a', label: '(a) direct node-rdkafka', ...a, usage: direct.usage });
  log(`(a): ${formatCount(a.records / a.seconds)} records/s`);

  for (const c of GATEWAY_CASES) {
    const w = window();
    let before: GatewayCounters | undefined;
    let redisAfter: GatewayCounters | undefined;
    log(`${c.label}: drain (at most ${GATEWAY_DRAIN_CAP_MS / 1000} s)`);
    const r = await drainThroughGateway({
      dispatcher: agent,
      origin: gateway.url,
      topic,
      group: groupName(c.id),
      counts,
      plan: c.plan,
      timeoutMs: GATEWAY_DRAIN_CAP_MS,
      onStart: async () => {
        before = await gatewayCounters(agent, gateway.url);
        await w.start();
      },
      onStop: async () => {
        await w.stop();
        redisAfter = await gatewayCounters(agent, gateway.url);
      },
    });
    await sleep(FETCH_STATS_SETTLE_MS);
    const fetchAfter = await gatewayCounters(agent, gateway.url);
    const counters =
      before && redisAfter
        ? {
            redisCommands: counterDelta(before, redisAfter).redisCommands,
            fetchBytes: counterDelta(before, fetchAfter).fetchBytes,
            fetchRequests: counterDelta(before, fetchAfter).fetchRequests,
          }
        : undefined;
    results.push({
      id: c.id,
      label: c.label,
      records: r.records,
      seconds: r.seconds,
      complete: r.complete,
      usage: w.usage,
      gateway: r,
      counters,
    });
    log(
      `${c.label}: ${formatCount(r.records / r.seconds)} records/s` +
        (r.complete ? '' : ` (incomplete: ${formatCount(r.records)} records)`),
    );
  }
  return results;
}

/** End-to-end latency: the direct baseline, then one gateway session. */
async function runLatency(
  context: BenchContext,
  agent: Agent,
  newTopic: (prefix: string) => Promise<string>,
): Promise<LatencyCaseResult[]> {
  const { stack, gateway, log } = context;
  const cases: Array<{ label: string; topic: string; start: (t: string) => StartTailConsumer }> = [
    {
      label: '(a) direct node-rdkafka',
      topic: await newTopic('latency-a'),
      start: (topic) =>
        directTail({
          brokers: stack.kafkaBrokers,
          topic,
          group: groupName('latency-a'),
          partitions: PARTITIONS,
        }),
    },
    {
      label: '(b) gateway, 1 ordered session, acks',
      topic: await newTopic('latency-b'),
      start: (topic) =>
        gatewayTail({
          dispatcher: agent,
          origin: gateway.url,
          topic,
          group: groupName('latency-b'),
          pollTimeoutMs: POLL_TIMEOUT_MS,
          maxRecords: MAX_RECORDS,
        }),
    },
  ];
  const results: LatencyCaseResult[] = [];
  for (const c of cases) {
    log(`${c.label}: end-to-end latency at ${formatCount(LATENCY_RATE)} records/s`);
    const result = await measureEndToEnd({
      brokers: stack.kafkaBrokers,
      topic: c.topic,
      partitions: PARTITIONS,
      valueBytes: VALUE_BYTES,
      recordsPerSec: LATENCY_RATE,
      settleMs: LATENCY_SETTLE_MS,
      warmupMs: LATENCY_WARMUP_MS,
      windowMs: LATENCY_WINDOW_MS,
      drainTimeoutMs: LATENCY_DRAIN_MS,
      startConsumer: c.start(c.topic),
      cpu: new CpuMeter({ gateway: gateway.pid, kafka: stack.kafkaPid }),
    });
    log(
      `${c.label}: p50 ${formatMs(result.latency.p50)} ms, p99 ${formatMs(result.latency.p99)} ms`,
    );
    results.push({ label: c.label, result });
  }
  return results;
}
