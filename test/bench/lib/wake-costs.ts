import { Agent } from 'undici';
import { scrapeMetrics } from './gateway-metrics.js';
import { GatewaySession, mapLimited } from './gateway-session.js';
import { commandDelta, totalCalls, type RedisStats } from './redis-stats.js';
import { abortablePoll, nackRecords } from './session-requests.js';
import { pollUntil, sleep } from './timing.js';

/** Requests in flight while sessions are created, subscribed and deleted. */
const SETUP_CONCURRENCY = 32;
const WAITING = 'kgw_consume_long_polls_waiting';
const REDIS_SENT = 'kgw_redis_command_seconds_count';

/** What one wake-up cost while the polls waited, idle rates already taken off. */
export interface WakeCost {
  /** Commands Redis ran in the window (INFO commandstats, commands inside scripts included). */
  readonly redisCommands: number;
  /** Commands the gateway sent in the window (a script call counts once). */
  readonly redisSent: number;
  /** Waiting polls answered in the window: with records, and in all. */
  readonly answeredWithRecords: number;
  readonly answered: number;
  /** From the waking request's start to the first poll answered with records, ms. */
  readonly firstRecordMs: number | undefined;
  /** `kgw_consume_long_polls_waiting` at the end of the window. */
  readonly waitingAfter: number;
}

export interface WakeCostsResult {
  readonly polls: number;
  readonly waitingMax: number;
  readonly windowMs: number;
  /** Per window of `windowMs` while every poll only waits. */
  readonly idleRedisCommands: number;
  readonly idleRedisSent: number;
  /** The holder nacks the only record with delay 0: a partition wake. */
  readonly nack: WakeCost;
  /** Another session of the group subscribes: a group-wide wake. */
  readonly subscribe: WakeCost;
  /** From aborting the remaining polls until the waiting gauge read 0, ms (undefined: it did not). */
  readonly abortSettleMs: number | undefined;
  readonly failures: ReadonlyMap<string, number>;
}

interface PollOutcome {
  readonly at: number;
  readonly records: number;
}

/** Counters sampled at the two ends of a window. */
interface Snapshot {
  readonly commands: Awaited<ReturnType<RedisStats['commandCounts']>>;
  readonly sent: number;
}

/**
 * One record on a 1-partition topic, held by a "holder" session, while
 * `polls` other sessions of its group (shared mode) wait on it with long-polls
 * on their own connections. Counts the Redis commands of an idle window, of
 * the holder nacking the record, and of a group-wide wake (a subscribe).
 */
export async function measureWakeCosts(options: {
  readonly origin: string;
  readonly topic: string;
  readonly group: string;
  readonly polls: number;
  readonly pollTimeoutMs: number;
  readonly windowMs: number;
  readonly redis: RedisStats;
  readonly log: (line: string) => void;
}): Promise<WakeCostsResult> {
  const { origin, topic, group, redis, log } = options;
  const agent = new Agent({ connections: options.polls + 100, pipelining: 1 });
  const aborter = new AbortController();
  const shared = { mode: 'shared', autoOffsetReset: 'earliest' } as const;
  const sessions: GatewaySession[] = [];
  try {
    log(`creating ${options.polls} waiting sessions, a holder and a waker`);
    sessions.push(
      ...(await mapLimited(
        Array.from({ length: options.polls }, (_, i) => i),
        SETUP_CONCURRENCY,
        async (i) => {
          const s = await GatewaySession.create(agent, origin, group, `waiter-${i}`, shared);
          await s.subscribe([topic]);
          return s;
        },
      )),
    );
    const waiters = sessions.slice();
    const holder = await GatewaySession.create(agent, origin, group, 'holder', shared);
    sessions.push(holder);
    await holder.subscribe([topic]);
    const waker = await GatewaySession.create(agent, origin, group, 'waker', shared);
    sessions.push(waker);
    // Polled only now, so the record's ack timeout (30 s by default) runs while it is measured.
    const held = await holder.poll(10_000, 1);
    if (held.length !== 1) throw new Error(`the holder polled ${held.length} records, not 1`);

    log(`holding ${options.polls} long-polls (timeout ${options.pollTimeoutMs} ms)`);
    const outcomes: PollOutcome[] = [];
    const failures = new Map<string, number>();
    const answered = Promise.all(
      waiters.map((s) =>
        abortablePoll(agent, origin, s, options.pollTimeoutMs, 10, aborter.signal).then(
          (records) => void outcomes.push({ at: performance.now(), records: records.length }),
          (err: unknown) => {
            if (aborter.signal.aborted) return;
            const reason = err instanceof Error ? err.message.slice(0, 120) : String(err);
            failures.set(reason, (failures.get(reason) ?? 0) + 1);
          },
        ),
      ),
    );
    let waitingMax = 0;
    await pollUntil(
      `${WAITING} >= ${options.polls}`,
      async () => {
        waitingMax = Math.max(waitingMax, await waiting(agent, origin));
        return waitingMax >= options.polls;
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    );
    await sleep(500);

    const snapshot = async (): Promise<Snapshot> => ({
      commands: await redis.commandCounts(),
      sent: (await scrapeMetrics(agent, origin)).get(REDIS_SENT) ?? NaN,
    });
    const windowOf = async (
      wake: () => Promise<void>,
    ): Promise<{ commands: number; sent: number; from: number }> => {
      const before = await snapshot();
      const from = performance.now();
      await wake();
      await sleep(Math.max(0, options.windowMs - (performance.now() - from)));
      const after = await snapshot();
      return {
        commands: totalCalls(commandDelta(before.commands, after.commands)),
        sent: after.sent - before.sent,
        from,
      };
    };

    const idle = await windowOf(async () => {});
    const costOf = async (wake: () => Promise<void>): Promise<WakeCost> => {
      const seen = outcomes.length;
      const w = await windowOf(wake);
      const mine = outcomes.slice(seen);
      const first = mine.find((o) => o.records > 0);
      return {
        // Less the idle rate over the same time, so only the wake-up is charged.
        redisCommands: w.commands - idle.commands,
        redisSent: w.sent - idle.sent,
        answeredWithRecords: mine.filter((o) => o.records > 0).length,
        answered: mine.length,
        firstRecordMs: first ? first.at - w.from : undefined,
        waitingAfter: await waiting(agent, origin),
      };
    };
    log('partition wake: the holder nacks its record (delay_ms 0)');
    const nack = await costOf(async () => {
      const { nacked } = await nackRecords(agent, origin, holder, held, 0);
      if (nacked !== 1) throw new Error(`the nack answered nacked: ${nacked}`);
    });
    log('group wake: another session of the group subscribes');
    const subscribe = await costOf(() => waker.subscribe([topic]));

    log('aborting the remaining long-polls');
    const abortedAt = performance.now();
    aborter.abort();
    await answered;
    let abortSettleMs: number | undefined;
    for (const deadline = abortedAt + options.pollTimeoutMs + 5000; performance.now() < deadline;) {
      if ((await waiting(agent, origin)) <= 0) {
        abortSettleMs = performance.now() - abortedAt;
        break;
      }
      await sleep(100);
    }
    return {
      polls: options.polls,
      waitingMax,
      windowMs: options.windowMs,
      idleRedisCommands: idle.commands,
      idleRedisSent: idle.sent,
      nack,
      subscribe,
      abortSettleMs,
      failures,
    };
  } finally {
    aborter.abort();
    await mapLimited(sessions, SETUP_CONCURRENCY, (s) => s.delete().catch(() => undefined));
    await agent.close();
  }
}

async function waiting(agent: Agent, origin: string): Promise<number> {
  return (await scrapeMetrics(agent, origin)).get(WAITING) ?? NaN;
}
