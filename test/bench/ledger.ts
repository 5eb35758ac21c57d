import { randomBytes, randomUUID } from 'node:crypto';
import { Agent } from 'undici';
import { measureConcurrentAckers, type ConcurrentAckersResult } from './lib/concurrent-ackers.js';
import { CpuMeter } from './lib/cpu-meter.js';
import { DelayProxy, redisAddress, redisUrlVia } from '../support/delay-proxy.js';
import { startGateway, type GatewayProcess } from './lib/gateway-process.js';
import { benchTopicName, createTopic, deleteTopics } from './lib/kafka-topics.js';
import {
  renderLedgerReport,
  type LedgerReportInput,
  type WakeOutcome,
} from './lib/ledger-report.js';
import { formatCount, formatMs } from './lib/markdown-table.js';
import { median } from './lib/proc-stats.js';
import { RedisStats } from './lib/redis-stats.js';
import type { BenchContext, Scenario } from './lib/scenario.js';
import { measureSequentialCalls } from './lib/sequential-calls.js';
import { fillTopic } from './lib/topic-filler.js';
import { measureWakeCosts } from './lib/wake-costs.js';

const VALUE_BYTES = 1024;
/** Added by the proxy in each direction. */
const DELAY_MS = 10;
const SEQUENTIAL_RECORDS = 2000;
const SEQUENTIAL_ITERATIONS = 30;
const SEQUENTIAL_POLL_TIMEOUT_MS = 1000;
const SEQUENTIAL_MAX_RECORDS = 10;
const ACKERS = 200;
const ACKER_CONNECTIONS = 256;
const ACKER_PARTITIONS = 6;
const ACKER_RECORDS = 60_000;
const ACKER_POLL_TIMEOUT_MS = 500;
const ACKER_MAX_RECORDS = 5;
const ACKER_WARMUP_MS = 2000;
const ACKER_WINDOW_MS = 10_000;
const WAKE_POLLS = 1000;
const WAKE_POLL_TIMEOUT_MS = 30_000;
const WAKE_WINDOW_MS = 2000;

const DESCRIPTION = `
What the consume ledger costs per request, in Redis round trips, Kafka
OffsetCommits and Redis commands. ${VALUE_BYTES}-byte records, one broker;
every phase uses fresh topics and groups, \`format: binary\`, \`auto.offset.reset: earliest\`.

- **Sequential Redis round trips per poll and per ack.** A second gateway
  process is started whose \`REDIS_URL\` points at a TCP proxy on loopback
  (\`test/support/delay-proxy.ts\`) that holds every chunk ${DELAY_MS} ms in each direction,
  keeping each connection's order; the runner's gateway, talking to Redis
  directly, is the baseline. On a 1-partition topic of ${formatCount(SEQUENTIAL_RECORDS)} records, each
  gateway gets one ordered session in a group of its own: a warm-up poll + ack,
  then ${SEQUENTIAL_ITERATIONS} × (\`GET …/records?timeout=${SEQUENTIAL_POLL_TIMEOUT_MS}&max_records=${SEQUENTIAL_MAX_RECORDS}\`, then \`POST …/acks\`
  of those records), one call at a time, each timed. Round trips =
  (median via proxy − median direct) / (2 × ${DELAY_MS} ms): commands sent together
  (pipelined, or in one script) share one. The poll's number is the whole
  route, including its read of the session. The proxy's timers overshoot a
  little, so the count is also given divided by twice the hold it measured;
  a target is judged on the nearest whole number of round trips.
- **Kafka OffsetCommits under ${ACKERS} concurrent ackers.** On the runner's gateway,
  ${ACKERS} sessions of one group in shared mode on a ${ACKER_PARTITIONS}-partition topic pre-filled with
  ${formatCount(ACKER_RECORDS)} records each loop \`GET …/records?timeout=${ACKER_POLL_TIMEOUT_MS}&max_records=${ACKER_MAX_RECORDS}\` → \`POST …/acks\`
  over an undici \`Agent\` of ${ACKER_CONNECTIONS} connections: ${ACKER_WARMUP_MS / 1000} s warm-up, then a ${ACKER_WINDOW_MS / 1000} s window.
  OffsetCommits/s is the rise of \`kgw_consume_offset_commits_total\` (OffsetCommit
  requests sent to Kafka) over the window; acked records per OffsetCommit
  divides \`kgw_consume_records_acked_total\`'s rise by it. Redis commands sent per
  ack is \`kgw_redis_command_seconds_count\`'s rise over the ack requests answered,
  so the polls' commands are in it. CPU is in % of one core over the window: the
  gateway, the load generator, Kafka (when the run started it), Redis and the machine.
- **Redis commands per wake with ${formatCount(WAKE_POLLS)} waiting polls.** On the runner's gateway, a
  1-partition topic holds 1 record. ${formatCount(WAKE_POLLS)} sessions of one group (shared mode) are
  created and subscribed, then a "holder" session of the group polls the
  record, then each of the ${formatCount(WAKE_POLLS)} holds \`GET …/records?timeout=${WAKE_POLL_TIMEOUT_MS}\` on its own
  connection until \`kgw_consume_long_polls_waiting\` reaches ${formatCount(WAKE_POLLS)}. Redis commands
  (\`INFO commandstats\`, commands inside scripts included) and the gateway's own
  \`kgw_redis_command_seconds_count\` are counted over ${WAKE_WINDOW_MS / 1000} s idle, then over ${WAKE_WINDOW_MS / 1000} s from
  the holder's \`POST …/nacks\` (\`delay_ms: 0\`, a partition wake), then over ${WAKE_WINDOW_MS / 1000} s
  from another session's \`POST …/subscription\` (which publishes on the group
  channel: a group-wide wake), then over ${WAKE_WINDOW_MS / 1000} s idle again once the woken polls
  settled; each wake is charged its window less the mean of the two idle
  windows ("net"). Then the polls are aborted and the sessions deleted. This
  phase runs before the ackers' (on a gateway that had just served them, a new
  topic was seen to stay unread).

Targets: at most ${3} sequential Redis round trips per poll and ${2} per ack request;
OffsetCommits coalesced under ${ACKERS} concurrent ackers (fewer OffsetCommit requests
than ack requests); Redis commands per wake measured with ${formatCount(WAKE_POLLS)} waiting polls,
and a nack of one record answers exactly one of them.
`;

/** The consume ledger's costs: Redis round trips per call, OffsetCommits under load, Redis per wake. */
export const ledgerScenario: Scenario = {
  name: 'ledger',
  title: 'Consume ledger costs',
  description: DESCRIPTION,
  async run(context) {
    const { stack, cleanups } = context;
    const topics: string[] = [];
    cleanups.add('delete ledger bench topics', () => deleteTopics(stack.kafkaBrokers, topics));
    const newTopic = async (prefix: string, partitions: number): Promise<string> => {
      const topic = benchTopicName(`ledger-${prefix}`);
      topics.push(topic);
      await createTopic(stack.kafkaBrokers, topic, partitions);
      return topic;
    };
    const linesBefore = context.gateway.linesWritten();
    const value = randomBytes(VALUE_BYTES);

    const sequential = await runRoundTrips(context, await newTopic('round-trips', 1), value);

    const redis = await RedisStats.connect(stack.redisUrl);
    let wakes: WakeOutcome;
    let ackers: ConcurrentAckersResult;
    try {
      // Before the ackers: a gateway that just served them was seen to leave a new topic unread.
      wakes = await runWakes(context, redis, await newTopic('wakes', 1), value);
      ackers = await runAckers(context, redis, await newTopic('ackers', ACKER_PARTITIONS), value);
    } finally {
      await redis.close();
    }

    return renderLedgerReport({
      roundTrips: sequential.roundTrips,
      ackers: {
        ...ackers,
        partitions: ACKER_PARTITIONS,
        records: ACKER_RECORDS,
        maxRecords: ACKER_MAX_RECORDS,
      },
      wakes,
      gatewayLines: linesSince(context.gateway, linesBefore),
      proxiedGatewayLines: sequential.proxiedGatewayLines,
    });
  },
};

/**
 * Redis commands per wake. A failure (the gateway not handing out
 * the one record, say) is reported in the results rather than ending the run.
 */
async function runWakes(
  context: BenchContext,
  redis: RedisStats,
  topic: string,
  value: Buffer,
): Promise<WakeOutcome> {
  const { stack, log } = context;
  await fillTopic(stack.kafkaBrokers, topic, 1, 1, value);
  try {
    const wakes = await measureWakeCosts({
      origin: context.gateway.url,
      topic,
      group: groupName('wakes'),
      polls: WAKE_POLLS,
      pollTimeoutMs: WAKE_POLL_TIMEOUT_MS,
      windowMs: WAKE_WINDOW_MS,
      redis,
      log,
    });
    log(
      `wakes: nack ${formatCount(wakes.nack.netCommands)} Redis commands net ` +
        `(${wakes.nack.answeredWithRecords} polls got the record), ` +
        `group wake ${formatCount(wakes.subscribe.netCommands)}`,
    );
    return wakes;
  } catch (err) {
    const failed = err instanceof Error ? err.message : String(err);
    log(`wakes: not measured: ${failed}`);
    return { failed };
  }
}

/** Kafka OffsetCommits under many concurrent ackers. */
async function runAckers(
  context: BenchContext,
  redis: RedisStats,
  topic: string,
  value: Buffer,
): Promise<ConcurrentAckersResult> {
  const { stack, log } = context;
  log(`pre-filling ${topic} with ${formatCount(ACKER_RECORDS)} records`);
  await fillTopic(stack.kafkaBrokers, topic, ACKER_PARTITIONS, ACKER_RECORDS, value);
  const ackers = await measureConcurrentAckers({
    origin: context.gateway.url,
    topic,
    group: groupName('ackers'),
    sessions: ACKERS,
    connections: ACKER_CONNECTIONS,
    pollTimeoutMs: ACKER_POLL_TIMEOUT_MS,
    maxRecords: ACKER_MAX_RECORDS,
    warmupMs: ACKER_WARMUP_MS,
    windowMs: ACKER_WINDOW_MS,
    cpu: new CpuMeter({ gateway: context.gateway.pid, kafka: stack.kafkaPid }),
    redisPid: await redis.pid(),
    log,
  });
  log(
    `ackers: ${formatCount(ackers.acks / ackers.windowSeconds)} acks/s, ` +
      `${(ackers.counters.commits / ackers.windowSeconds).toFixed(1)} OffsetCommits/s`,
  );
  return ackers;
}

/**
 * Sequential round trips: the same poll + ack loop against the runner's gateway
 * and against a second gateway whose Redis is behind the delay proxy.
 */
async function runRoundTrips(
  context: BenchContext,
  topic: string,
  value: Buffer,
): Promise<{
  roundTrips: LedgerReportInput['roundTrips'];
  proxiedGatewayLines: readonly string[];
}> {
  const { stack, cleanups, log } = context;
  log(`pre-filling ${topic} with ${formatCount(SEQUENTIAL_RECORDS)} records`);
  await fillTopic(stack.kafkaBrokers, topic, 1, SEQUENTIAL_RECORDS, value);
  const proxy = await DelayProxy.start(redisAddress(stack.redisUrl), DELAY_MS);
  cleanups.add('close the Redis delay proxy', () => proxy.close());
  const agent = new Agent({ connections: 4, pipelining: 1 });
  let proxied: GatewayProcess | undefined;
  try {
    proxied = await startGateway(stack, cleanups, {
      REDIS_URL: redisUrlVia(stack.redisUrl, proxy.port),
    });
    log(
      `gateway with Redis ${DELAY_MS} ms away each way at ${proxied.url} (pid ${proxied.pid ?? '?'})`,
    );
    const plan = {
      dispatcher: agent,
      topic,
      iterations: SEQUENTIAL_ITERATIONS,
      pollTimeoutMs: SEQUENTIAL_POLL_TIMEOUT_MS,
      maxRecords: SEQUENTIAL_MAX_RECORDS,
    };
    const direct = await measureSequentialCalls({
      ...plan,
      origin: context.gateway.url,
      group: groupName('direct'),
    });
    proxy.resetStats();
    const viaProxy = await measureSequentialCalls({
      ...plan,
      origin: proxied.url,
      group: groupName('proxied'),
    });
    const proxyStats = proxy.stats();
    log(
      `round trips: poll ${formatMs(median(direct.pollMs))} → ${formatMs(median(viaProxy.pollMs))} ms, ` +
        `ack ${formatMs(median(direct.ackMs))} → ${formatMs(median(viaProxy.ackMs))} ms`,
    );
    return {
      roundTrips: {
        delayMs: DELAY_MS,
        records: SEQUENTIAL_RECORDS,
        maxRecords: SEQUENTIAL_MAX_RECORDS,
        direct,
        proxied: viaProxy,
        proxy: proxyStats,
      },
      proxiedGatewayLines: proxied.logs.slice(-5),
    };
  } finally {
    await agent.close();
    await proxied?.stop();
    await proxy.close();
  }
}

/** Up to 5 of the lines a gateway logged (warn and above) since `before`. */
function linesSince(gateway: GatewayProcess, before: number): readonly string[] {
  const written = Math.min(gateway.linesWritten() - before, 5);
  return written > 0 ? gateway.logs.slice(-written) : [];
}

function groupName(prefix: string): string {
  return `bench-ledger-${prefix}-${randomUUID()}`;
}
