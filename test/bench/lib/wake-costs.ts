import { setMaxListeners } from 'node:events';
import { Agent } from 'undici';
import { scrapeMetrics } from './gateway-metrics.js';
import { GatewaySession, mapLimited, type ConsumedRecord } from './gateway-session.js';
import { commandDelta, totalCalls, type RedisStats } from './redis-stats.js';
import { abortablePoll, nackRecords } from './session-requests.js';
import { pollUntil, sleep } from './timing.js';

/** Requests in flight while sessions are created, subscribed and deleted. */
const SETUP_CONCURRENCY = 32;
const WAITING = 'kgw_consume_long_polls_waiting';
const REDIS_SENT = 'kgw_redis_command_seconds_count';
/** The holder's polls for the one record: each may wait this long, this many times. */
const HOLDER_POLL_TIMEOUT_MS = 10_000;
const HOLDER_POLLS = 3;
/** After the group wake, before the second idle window: the woken polls settle back. */
const SETTLE_MS = 1000;

/** Redis commands and poll answers over one window while the polls wait. */
export interface WindowCount {
  /** Commands Redis ran (INFO commandstats, commands inside scripts included), in all and by name. */
  readonly commands: number;
  readonly byCommand: ReadonlyMap<string, number>;
  /** Commands the gateway sent (`kgw_redis_command_seconds_count`; a script call counts once). */
  readonly sent: number;
  /** Waiting polls answered in the window: with records, and in all. */
  readonly answeredWithRecords: number;
  readonly answered: number;
  /** From the window's start (the waking request) to the first poll answered with records, ms. */
  readonly firstRecordMs: number | undefined;
  /** `kgw_consume_long_polls_waiting` at the end of the window. */
  readonly waitingAfter: number;
}

/** A wake-up's window, and what it cost over the idle windows around it. */
export interface WakeCost extends WindowCount {
  readonly netCommands: number;
  readonly netSent: number;
}

export interface WakeCostsResult {
  readonly polls: number;
  readonly waitingMax: number;
  /** Polls the holder needed to get the record, and how long they took (ms). */
  readonly holderPolls: number;
  readonly holderMs: number;
  readonly holderPollTimeoutMs: number;
  readonly windowMs: number;
  /** While every poll only waits: before the nack, and after the group wake settled. */
  readonly idle: readonly [WindowCount, WindowCount];
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
  // Every waiting poll's request listens on the one signal.
  setMaxListeners(options.polls + 10, aborter.signal);
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
    const holderStarted = performance.now();
    let held: ConsumedRecord[] = [];
    let holderPolls = 0;
    while (held.length === 0 && holderPolls < HOLDER_POLLS) {
      holderPolls += 1;
      held = await holder.poll(HOLDER_POLL_TIMEOUT_MS, 1);
    }
    const holderMs = performance.now() - holderStarted;
    if (held.length !== 1) {
      throw new Error(
        `the holder's ${holderPolls} polls of ${HOLDER_POLL_TIMEOUT_MS} ms got ${held.length} records, not 1`,
      );
    }
    if (holderPolls > 1) log(`the holder got the record on its poll ${holderPolls}`);

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
    const windowOf = async (wake: () => Promise<void>): Promise<WindowCount> => {
      const seen = outcomes.length;
      const before = await snapshot();
      const from = performance.now();
      await wake();
      await sleep(Math.max(0, options.windowMs - (performance.now() - from)));
      const after = await snapshot();
      const byCommand = commandDelta(before.commands, after.commands);
      const mine = outcomes.slice(seen);
      const first = mine.find((o) => o.records > 0);
      return {
        commands: totalCalls(byCommand),
        byCommand,
        sent: after.sent - before.sent,
        answeredWithRecords: mine.filter((o) => o.records > 0).length,
        answered: mine.length,
        firstRecordMs: first ? first.at - from : undefined,
        waitingAfter: await waiting(agent, origin),
      };
    };
    const idle = async (): Promise<WindowCount> => windowOf(async () => {});

    const idleBefore = await idle();
    log('partition wake: the holder nacks its record (delay_ms 0)');
    const nack = await windowOf(async () => {
      const { nacked } = await nackRecords(agent, origin, holder, held, 0);
      if (nacked !== 1) throw new Error(`the nack answered nacked: ${nacked}`);
    });
    log('group wake: another session of the group subscribes');
    const subscribe = await windowOf(() => waker.subscribe([topic]));
    await sleep(SETTLE_MS);
    const idleAfter = await idle();

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
    // Each wake is charged its window less the mean of the idle windows around it.
    const idleCommands = (idleBefore.commands + idleAfter.commands) / 2;
    const idleSent = (idleBefore.sent + idleAfter.sent) / 2;
    const cost = (w: WindowCount): WakeCost => ({
      ...w,
      netCommands: w.commands - idleCommands,
      netSent: w.sent - idleSent,
    });
    return {
      polls: options.polls,
      waitingMax,
      holderPolls,
      holderMs,
      holderPollTimeoutMs: HOLDER_POLL_TIMEOUT_MS,
      windowMs: options.windowMs,
      idle: [idleBefore, idleAfter],
      nack: cost(nack),
      subscribe: cost(subscribe),
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
