import { Agent } from 'undici';
import type { CpuMeter, CpuReport } from './cpu-meter.js';
import { cpuSeconds } from './proc-stats.js';
import { scrapeMetrics } from './gateway-metrics.js';
import { GatewaySession, mapLimited } from './gateway-session.js';
import { LatencySamples, type LatencySummary } from './latency-samples.js';
import { sleep } from './timing.js';

/** Requests in flight while sessions are created, subscribed and deleted. */
const SETUP_CONCURRENCY = 32;
/** A failed poll or ack waits this long before the session tries again, so errors cannot spin. */
const ERROR_BACKOFF_MS = 100;

const COUNTERS = {
  commits: 'kgw_consume_offset_commits_total',
  commitPartitions: 'kgw_consume_offset_commit_partitions_total',
  recordsAcked: 'kgw_consume_records_acked_total',
  redisSent: 'kgw_redis_command_seconds_count',
} as const;

type CounterName = keyof typeof COUNTERS;
export type AckerCounters = Readonly<Record<CounterName, number>>;

/** What many sessions polling and acking at once cost in Kafka commits. */
export interface ConcurrentAckersResult {
  readonly sessions: number;
  readonly windowSeconds: number;
  /** Ack requests answered 2xx within the window. */
  readonly acks: number;
  /** Records those acks acked / fenced, by the gateway's answers. */
  readonly ackedRecords: number;
  readonly fencedRecords: number;
  /** Polls answered within the window: with records, and empty. */
  readonly polls: number;
  readonly emptyPolls: number;
  /** Latency of the acks answered within the window. */
  readonly ackLatency: LatencySummary;
  /** The gateway's counters over the window (after − before). */
  readonly counters: AckerCounters;
  /** CPU over the window (% of one core), when a meter was given; Redis's when its pid was. */
  readonly cpu: CpuReport | undefined;
  readonly redisCpu: number | undefined;
  /** Failed requests by reason, over the whole run including warm-up. */
  readonly failures: ReadonlyMap<string, number>;
}

async function readCounters(agent: Agent, origin: string): Promise<AckerCounters> {
  const metrics = await scrapeMetrics(agent, origin);
  const read = (name: CounterName): number => metrics.get(COUNTERS[name]) ?? NaN;
  return {
    commits: read('commits'),
    commitPartitions: read('commitPartitions'),
    recordsAcked: read('recordsAcked'),
    redisSent: read('redisSent'),
  };
}

function reasonOf(what: string, err: unknown): string {
  return `${what}: ${err instanceof Error ? err.message.slice(0, 120) : String(err)}`;
}

/**
 * `sessions` sessions of one group (shared mode) each loop poll → ack of what
 * it got, for a warm-up and then a measured window; the gateway's commit
 * counters are read at both ends of the window.
 */
export async function measureConcurrentAckers(options: {
  readonly origin: string;
  readonly topic: string;
  readonly group: string;
  readonly sessions: number;
  readonly connections: number;
  readonly pollTimeoutMs: number;
  readonly maxRecords: number;
  readonly warmupMs: number;
  readonly windowMs: number;
  /** Started and stopped with the window. */
  readonly cpu?: CpuMeter;
  readonly redisPid?: number | undefined;
  readonly log: (line: string) => void;
}): Promise<ConcurrentAckersResult> {
  const { origin, log } = options;
  const agent = new Agent({ connections: options.connections, pipelining: 1 });
  try {
    log(`creating ${options.sessions} shared sessions`);
    const sessions = await mapLimited(
      Array.from({ length: options.sessions }, (_, i) => i),
      SETUP_CONCURRENCY,
      async (i) => {
        const s = await GatewaySession.create(agent, origin, options.group, `acker-${i}`, {
          mode: 'shared',
          autoOffsetReset: 'earliest',
        });
        await s.subscribe([options.topic]);
        return s;
      },
    );

    const samples = new LatencySamples(64 * 1024);
    const failures = new Map<string, number>();
    const fail = (reason: string): void =>
      void failures.set(reason, (failures.get(reason) ?? 0) + 1);
    let windowFrom = Infinity;
    let windowTo = Infinity;
    let stopping = false;
    let acks = 0;
    let ackedRecords = 0;
    let fencedRecords = 0;
    let polls = 0;
    let emptyPolls = 0;

    const loop = async (session: GatewaySession): Promise<void> => {
      while (!stopping) {
        let records;
        try {
          records = await session.poll(options.pollTimeoutMs, options.maxRecords);
        } catch (err) {
          fail(reasonOf('poll', err));
          await sleep(ERROR_BACKOFF_MS);
          continue;
        }
        const polledAt = performance.now();
        const inWindow = polledAt >= windowFrom && polledAt < windowTo;
        if (inWindow) polls += 1;
        if (records.length === 0) {
          if (inWindow) emptyPolls += 1;
          continue;
        }
        // A poll's records are acked even when stopping, so none wait for redelivery.
        const started = performance.now();
        try {
          const answer = await session.ack(records);
          const done = performance.now();
          if (done >= windowFrom && done < windowTo) {
            samples.add(done - started);
            acks += 1;
            ackedRecords += answer.acked;
            fencedRecords += answer.fenced;
          }
        } catch (err) {
          fail(reasonOf('ack', err));
          await sleep(ERROR_BACKOFF_MS);
        }
      }
    };

    log(
      `${options.sessions} sessions poll (max_records ${options.maxRecords}) and ack: ` +
        `${options.warmupMs / 1000} s warm-up, ${options.windowMs / 1000} s window`,
    );
    const loops = Promise.all(sessions.map(loop));
    await sleep(options.warmupMs);
    const before = await readCounters(agent, origin);
    options.cpu?.start();
    const redisCpuBefore = cpuSeconds(options.redisPid);
    windowFrom = performance.now();
    await sleep(options.windowMs);
    windowTo = performance.now();
    const cpu = options.cpu?.stop();
    const redisCpuAfter = cpuSeconds(options.redisPid);
    const after = await readCounters(agent, origin);
    const windowSeconds = (windowTo - windowFrom) / 1000;
    stopping = true;
    await loops;
    await mapLimited(sessions, SETUP_CONCURRENCY, (s) => s.delete());

    const delta = (name: CounterName): number => after[name] - before[name];
    return {
      sessions: options.sessions,
      windowSeconds,
      acks,
      ackedRecords,
      fencedRecords,
      polls,
      emptyPolls,
      ackLatency: samples.summary(),
      counters: {
        commits: delta('commits'),
        commitPartitions: delta('commitPartitions'),
        recordsAcked: delta('recordsAcked'),
        redisSent: delta('redisSent'),
      },
      cpu,
      redisCpu:
        redisCpuBefore === undefined || redisCpuAfter === undefined
          ? undefined
          : ((redisCpuAfter - redisCpuBefore) / windowSeconds) * 100,
      failures,
    };
  } finally {
    await agent.close();
  }
}
