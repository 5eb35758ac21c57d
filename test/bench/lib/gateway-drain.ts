import type { Dispatcher } from 'undici';
import { type ConsumedRecord, GatewaySession, mapLimited } from './gateway-session.js';
import { LatencySamples, type LatencySummary } from './latency-samples.js';

/** How a gateway drain reads and confirms records. */
export interface GatewayDrainPlan {
  readonly sessions: number;
  readonly mode: 'ordered' | 'shared';
  /** `acks`: POST …/acks naming every record; `offsets`: Confluent POST …/offsets, last offset per partition. */
  readonly confirm: 'acks' | 'offsets';
  readonly pollTimeoutMs: number;
  /** `max_records` of each poll; undefined: the gateway's default. */
  readonly maxRecords: number | undefined;
}

/** What one gateway drain measured. */
export interface GatewayDrainResult {
  /** Distinct records delivered and confirmed. */
  readonly records: number;
  readonly seconds: number;
  readonly complete: boolean;
  readonly polls: number;
  readonly emptyPolls: number;
  /** Records delivered more than once (a redelivery or a second claim). */
  readonly duplicates: number;
  /** Acks the gateway refused as no longer current. */
  readonly fenced: number;
  readonly pollMs: LatencySummary;
  readonly confirmMs: LatencySummary;
  /** Kafka's committed offset of each partition afterwards, as the gateway reports it. */
  readonly committed: readonly number[];
  /** Per partition, the first offset not delivered and confirmed: what `committed` should be. */
  readonly confirmedUpTo: readonly number[];
}

/**
 * Drains a pre-filled topic through the gateway: `plan.sessions` sessions of
 * a fresh group long-poll in parallel and confirm each batch before polling
 * again. Timed from the first poll to the confirmation that covers the last
 * record. Sessions are created before and deleted after the timed part.
 */
export async function drainThroughGateway(options: {
  readonly dispatcher: Dispatcher;
  readonly origin: string;
  readonly topic: string;
  readonly group: string;
  /** Records in each partition (offsets 0 … counts[p] - 1). */
  readonly counts: readonly number[];
  readonly plan: GatewayDrainPlan;
  readonly timeoutMs: number;
  readonly onStart?: () => void | Promise<void>;
  readonly onStop?: () => void | Promise<void>;
}): Promise<GatewayDrainResult> {
  const { dispatcher, origin, topic, group, counts, plan } = options;
  const sessions = await mapLimited(
    Array.from({ length: plan.sessions }, (_, i) => i),
    plan.sessions,
    async (i) => {
      const session = await GatewaySession.create(dispatcher, origin, group, `drain-${i}`, {
        mode: plan.mode,
        autoOffsetReset: 'earliest',
      });
      await session.subscribe([topic]);
      return session;
    },
  );
  const total = counts.reduce((a, b) => a + b, 0);
  const seen = counts.map((n) => new Uint8Array(n));
  const pollMs = new LatencySamples(4096);
  const confirmMs = new LatencySamples(4096);
  let confirmed = 0;
  let polls = 0;
  let emptyPolls = 0;
  let duplicates = 0;
  let fenced = 0;
  let finishedAt: number | undefined;
  // The window closes when the last record is confirmed, not when every
  // session's current long-poll has come back empty afterwards.
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => options.onStop?.())();
    // Awaited after the loops; until then a failure must not count as unhandled.
    stopping.catch(() => undefined);
    return stopping;
  };

  await options.onStart?.();
  const started = performance.now();
  const deadline = started + options.timeoutMs;
  const loop = async (session: GatewaySession): Promise<void> => {
    while (finishedAt === undefined && performance.now() < deadline) {
      const polledAt = performance.now();
      const records = await session.poll(plan.pollTimeoutMs, plan.maxRecords);
      pollMs.add(performance.now() - polledAt);
      polls += 1;
      if (records.length === 0) {
        emptyPolls += 1;
        continue;
      }
      let fresh = 0;
      for (const r of records) {
        const marks = seen[r.partition];
        if (!marks || r.offset >= marks.length) continue;
        if (marks[r.offset] === 1) duplicates += 1;
        else {
          marks[r.offset] = 1;
          fresh += 1;
        }
      }
      const confirmAt = performance.now();
      fenced += await confirm(session, plan.confirm, records);
      confirmMs.add(performance.now() - confirmAt);
      confirmed += fresh;
      if (confirmed >= total && finishedAt === undefined) {
        finishedAt = performance.now();
        void stop();
      }
    }
  };
  const loops = await Promise.allSettled(sessions.map(loop));
  await stop();
  const failed = loops.find((l): l is PromiseRejectedResult => l.status === 'rejected');
  if (failed) {
    await Promise.allSettled(sessions.map((s) => s.delete()));
    throw failed.reason;
  }
  const seconds = ((finishedAt ?? performance.now()) - started) / 1000;
  const committed = await sessions[0]!.committed(
    topic,
    counts.map((_, p) => p),
  );
  await mapLimited(sessions, sessions.length, (s) => s.delete());
  return {
    records: confirmed,
    seconds,
    complete: confirmed >= total,
    polls,
    emptyPolls,
    duplicates,
    fenced,
    pollMs: pollMs.summary(),
    confirmMs: confirmMs.summary(),
    committed,
    confirmedUpTo: seen.map((marks) => {
      const gap = marks.indexOf(0);
      return gap === -1 ? marks.length : gap;
    }),
  };
}

/** Confirms a polled batch the way the plan says; returns how many acks were fenced. */
async function confirm(
  session: GatewaySession,
  how: GatewayDrainPlan['confirm'],
  records: readonly ConsumedRecord[],
): Promise<number> {
  if (how === 'offsets') {
    await session.commitOffsets(records);
    return 0;
  }
  return (await session.ack(records)).fenced;
}
