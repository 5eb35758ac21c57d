import { Agent } from 'undici';
import { scrapeMetrics } from './gateway-metrics.js';
import { GatewaySession, mapLimited } from './gateway-session.js';
import { cpuSeconds, median, residentBytes } from './proc-stats.js';
import { commandDelta, type RedisStats, totalCalls } from './redis-stats.js';
import { sleep } from './timing.js';

/** Requests in flight while sessions are created, subscribed and deleted. */
const SETUP_CONCURRENCY = 32;
const WAITING_METRIC = 'kgw_consume_long_polls_waiting';

/** The gateway's memory at one moment: medians of five samples. */
export interface MemorySample {
  /** VmRSS of the gateway process. */
  readonly rssBytes: number;
  /** `nodejs_heap_size_used_bytes` from its /metrics. */
  readonly heapUsedBytes: number;
  /** `process_resident_memory_bytes` from its /metrics. */
  readonly metricsRssBytes: number;
}

/** What holding many idle long-polls cost the gateway. */
export interface IdlePollsResult {
  readonly polls: number;
  /** Whether a full collection ran before each memory sample. */
  readonly forcedGc: boolean;
  readonly before: MemorySample;
  readonly held: MemorySample;
  /** After every poll was answered at its timeout. */
  readonly after: MemorySample;
  readonly waitingMax: number;
  /** From sending the polls until the waiting gauge reached its maximum. */
  readonly secondsToWaiting: number;
  /** Gateway CPU (% of one core) and Redis commands per second while all polls only wait. */
  readonly idleGatewayCpuPercent: number;
  readonly idleRedisPerSec: number;
  /** One wake-up of the group (a subscribe publishes one): what it cost while every poll waited. */
  readonly wake: {
    readonly redisCommands: number;
    readonly gatewayCpuMs: number;
    readonly waitingAfter: number;
  };
  /** Polls answered 200 with no records / anything else, by reason. */
  readonly answeredEmpty: number;
  readonly failures: ReadonlyMap<string, number>;
}

async function sampleMemory(
  agent: Agent,
  origin: string,
  pid: number | undefined,
  collectGarbage: (() => Promise<void>) | undefined,
): Promise<MemorySample> {
  const rss: number[] = [];
  const heap: number[] = [];
  const metricsRss: number[] = [];
  for (let i = 0; i < 5; i += 1) {
    await collectGarbage?.();
    await sleep(200);
    rss.push(residentBytes(pid) ?? NaN);
    const metrics = await scrapeMetrics(agent, origin);
    heap.push(metrics.get('nodejs_heap_size_used_bytes') ?? NaN);
    metricsRss.push(metrics.get('process_resident_memory_bytes') ?? NaN);
  }
  return {
    rssBytes: median(rss),
    heapUsedBytes: median(heap),
    metricsRssBytes: median(metricsRss),
  };
}

async function waiting(agent: Agent, origin: string): Promise<number> {
  return (await scrapeMetrics(agent, origin)).get(WAITING_METRIC) ?? NaN;
}

/**
 * Creates `polls` sessions of one group (shared mode) on an empty topic, then
 * holds one `GET …/records?timeout=<pollTimeoutMs>` of each open at once
 * (one connection each) and compares the gateway's memory before, while and
 * after they are held. While they wait, it also measures what idling costs
 * and what a single wake-up of the group costs.
 */
export async function measureIdleLongPolls(options: {
  readonly origin: string;
  readonly gatewayPid: number | undefined;
  readonly topic: string;
  readonly group: string;
  readonly polls: number;
  readonly pollTimeoutMs: number;
  readonly redis: RedisStats;
  /** Forces a full collection in the gateway before each memory sample, when given. */
  readonly collectGarbage?: () => Promise<void>;
  readonly log: (line: string) => void;
}): Promise<IdlePollsResult> {
  const { origin, topic, group, redis, log } = options;
  const agent = new Agent({ connections: options.polls + 100, pipelining: 1 });
  try {
    log(`creating ${options.polls} sessions`);
    const sessions = await mapLimited(
      Array.from({ length: options.polls }, (_, i) => i),
      SETUP_CONCURRENCY,
      async (i) => {
        const s = await GatewaySession.create(agent, origin, group, `idle-${i}`, {
          mode: 'shared',
          autoOffsetReset: 'earliest',
        });
        await s.subscribe([topic]);
        return s;
      },
    );
    const waker = await GatewaySession.create(agent, origin, group, 'waker', {
      mode: 'shared',
      autoOffsetReset: 'earliest',
    });
    sessions.push(waker);
    // The group's first poll reads Kafka's committed offsets and sets every position.
    await sessions[0]!.poll(0, 1);
    await sleep(1000);
    const before = await sampleMemory(agent, origin, options.gatewayPid, options.collectGarbage);

    log(`holding ${options.polls} long-polls (timeout ${options.pollTimeoutMs} ms)`);
    let answeredEmpty = 0;
    const failures = new Map<string, number>();
    const sentAt = performance.now();
    const answered = Promise.all(
      sessions.slice(0, options.polls).map((s) =>
        s.poll(options.pollTimeoutMs, 500).then(
          (records) => {
            if (records.length === 0) answeredEmpty += 1;
            else failures.set('got records', (failures.get('got records') ?? 0) + 1);
          },
          (err: unknown) => {
            const reason = err instanceof Error ? err.message.slice(0, 120) : String(err);
            failures.set(reason, (failures.get(reason) ?? 0) + 1);
          },
        ),
      ),
    );
    let waitingMax = 0;
    let reachedAt = performance.now();
    for (let stable = 0; stable < 10 && performance.now() - sentAt < 20_000;) {
      await sleep(200);
      const now = await waiting(agent, origin);
      if (now > waitingMax) {
        waitingMax = now;
        reachedAt = performance.now();
        stable = 0;
      } else stable += 1;
      if (waitingMax >= options.polls) break;
    }
    await sleep(1000);
    const held = await sampleMemory(agent, origin, options.gatewayPid, options.collectGarbage);

    const idleMs = 2000;
    const idleCpu = cpuSeconds(options.gatewayPid);
    const idleRedis = await redis.commandCounts();
    await sleep(idleMs);
    const idleRedisCalls = totalCalls(commandDelta(idleRedis, await redis.commandCounts()));
    const idleCpuSeconds = (cpuSeconds(options.gatewayPid) ?? NaN) - (idleCpu ?? NaN);

    // A subscribe publishes on the group's wake channel, as acks, nacks and seeks do.
    const wakeCpu = cpuSeconds(options.gatewayPid);
    const wakeRedis = await redis.commandCounts();
    await waker.subscribe([topic]);
    await sleep(idleMs);
    const wakeRedisCalls = totalCalls(commandDelta(wakeRedis, await redis.commandCounts()));
    const wakeCpuSeconds = (cpuSeconds(options.gatewayPid) ?? NaN) - (wakeCpu ?? NaN);
    const waitingAfter = await waiting(agent, origin);

    log('waiting for the long-polls to time out');
    await answered;
    await sleep(1000);
    const after = await sampleMemory(agent, origin, options.gatewayPid, options.collectGarbage);
    await mapLimited(sessions, SETUP_CONCURRENCY, (s) => s.delete());
    return {
      polls: options.polls,
      forcedGc: options.collectGarbage !== undefined,
      before,
      held,
      after,
      waitingMax,
      secondsToWaiting: (reachedAt - sentAt) / 1000,
      idleGatewayCpuPercent: (idleCpuSeconds / (idleMs / 1000)) * 100,
      idleRedisPerSec: idleRedisCalls / (idleMs / 1000),
      wake: {
        // Less the idle rate over the same time, so only the wake-up is charged.
        redisCommands: Math.max(0, wakeRedisCalls - idleRedisCalls),
        gatewayCpuMs: Math.max(0, (wakeCpuSeconds - idleCpuSeconds) * 1000),
        waitingAfter,
      },
      answeredEmpty,
      failures,
    };
  } finally {
    await agent.close();
  }
}
