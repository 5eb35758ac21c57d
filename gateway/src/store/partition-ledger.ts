/**
 * The partition ledger: the Redis model of one (group, topic, partition) and
 * every script that changes it. Nothing else writes these keys.
 *
 * Model (keys in consumer-keys.ts, all under the group's hash tag): `next`,
 * the first offset never handed out; three sets of unresolved records below
 * it, each offset in at most one: in flight (→ ack deadline), retry (→ due
 * time), dead (→ when a dead-letter writer may claim it); per offset its
 * attempts, current holder, last error and dead-letter writer. Every offset
 * below `next` in none of the sets is resolved: acked, dead-lettered, or
 * skipped because Kafka no longer has it. `kc`/`km` are the offset and
 * metadata last committed to Kafka.
 *
 * Invariants (checked after every step by test/integration/store/ledger-model.test.ts):
 * - I1 an offset has at most one holder, and an ack, nack or extend counts only
 *   for the current delivery (holder + attempt); the lease epoch fences claims.
 *   Stale answers change nothing and are counted as fenced.
 * - I2 unresolved records (in flight + retry + dead) never exceed the window:
 *   only claims add to them, and a claim takes new offsets only while there is room.
 * - I3 the committed offset never passes an unresolved record (it is the lowest
 *   unresolved offset) and never moves backward: commits are serialised per
 *   group by a lock in Redis and written only when they move forward (a seek
 *   is the one explicit way back).
 * - I4 every offset below the end is eventually acked, dead-lettered once
 *   (one claimed writer at a time), or skipped with a counted reason.
 * - I5 an acked record is never delivered again, also after Redis is lost:
 *   each commit's metadata carries the resolved offsets above the committed
 *   one (core/offset-map.ts), and `init` rebuilds the sets from it. New offsets
 *   are claimed only within `maxSpan` of the lowest unresolved one, so that
 *   map always fits Kafka's metadata limit.
 */
import type { Redis } from 'ioredis';
import { consumerKeys, partitionKeyList } from './consumer-keys.js';
import { memberMessage } from './wake-channel.js';
import { LEASES } from './lua/lease-scripts.js';
import {
  ACK,
  BURY_CLAIM,
  BURY_END,
  CLAIM,
  COMMIT_ABORT,
  COMMIT_BEGIN,
  COMMIT_END,
  EXTEND,
  INIT,
  NACK,
  RELEASE_HOLDER,
  SEEK,
  SKIP,
  SNAPSHOT,
  STATES,
  TAKE,
  UNCLAIM,
} from './lua/ledger-scripts.js';
import { RedisScripts, redisError } from './redis-scripts.js';

export interface TopicPartition {
  readonly topic: string;
  readonly partition: number;
}

export interface PartitionState {
  /** Next offset never handed out; null until initialised. */
  readonly next: number | null;
  /** In flight + retry + dead: what the window bounds. */
  readonly unresolved: number;
  /** Earliest in-flight deadline or future retry time, or null. */
  readonly nextWakeAt: number | null;
  /** Dead records a dead-letter writer may claim now. */
  readonly dead: number;
  /** Retries due now, with how often each was delivered already. */
  readonly due: ReadonlyArray<{ offset: number; attempts: number }>;
}

export interface ClaimRequest {
  readonly tp: TopicPartition;
  readonly holder: string;
  /** Ordered mode: the lease this claim relies on. */
  readonly lease: { readonly owner: string; readonly epoch: number } | null;
  readonly deadline: number;
  readonly autoCommit: boolean;
  readonly retryOffsets: readonly number[];
  /** The position the new offsets were fetched from; they are claimed only if it is still current. */
  readonly newStart: number;
  readonly newOffsets: readonly number[];
}

export interface ClaimResult {
  readonly fenced: boolean;
  readonly next: number;
  readonly claimed: ReadonlyArray<{ offset: number; attempt: number }>;
}

/** What a take read and claimed on one partition (null: not read). */
export interface TakenPartition {
  /** The state before this take claimed anything. */
  readonly state: PartitionState;
  readonly claimed: ReadonlyArray<{ offset: number; attempt: number }>;
  /** Next offset never handed out, after the take. */
  readonly next: number;
}

/** One delivery named by an ack, nack, extend or unclaim; attempt 0 accepts the current one. */
export interface DeliveryRef {
  readonly offset: number;
  readonly attempt: number;
}

export interface PartitionDeliveries {
  readonly tp: TopicPartition;
  readonly refs: readonly DeliveryRef[];
  /** Ack only: also every record this holder has in flight up to this offset. */
  readonly upTo?: number;
  /**
   * Ack only, with upTo: a Confluent commit naming upTo as the last record
   * processed. Also resolves what nobody holds up to it (see ACK).
   */
  readonly commitTo?: boolean;
}

export interface AckResult {
  readonly acked: number;
  readonly fenced: number;
  /** The window was full and has room again: waiting polls may take more. */
  readonly freed: boolean;
  /** Records nobody held that a commitTo resolved (waiting retries, offsets never handed out). */
  readonly skipped: number;
  /** Ack deadlines of the acked records (for how long each was out). */
  readonly deadlines: readonly number[];
}

export interface DeadRecord {
  readonly offset: number;
  readonly attempts: number;
  readonly lastError: string;
}

/** What the commit lock holder reads of one partition. */
export interface CommitPoint {
  /** The lowest unresolved offset: what Kafka should hold; -1 before init. */
  readonly lowest: number;
  readonly next: number;
  readonly committed: number;
  readonly metadata: string;
  /** Unresolved offsets, ascending (all at or above `lowest`, below `next`). */
  readonly unresolved: readonly number[];
}

export interface LedgerSnapshot {
  readonly lowest: number;
  readonly committed: number;
  readonly unresolved: number;
  readonly inFlight: number;
}

const SCRIPTS = {
  init: INIT,
  states: STATES,
  take: TAKE,
  claim: CLAIM,
  ack: ACK,
  nack: NACK,
  extend: EXTEND,
  unclaim: UNCLAIM,
  buryClaim: BURY_CLAIM,
  buryEnd: BURY_END,
  skip: SKIP,
  commitBegin: COMMIT_BEGIN,
  commitEnd: COMMIT_END,
  commitAbort: COMMIT_ABORT,
  seek: SEEK,
  releaseHolder: RELEASE_HOLDER,
  snapshot: SNAPSHOT,
  leases: LEASES,
} as const;

type ScriptName = keyof typeof SCRIPTS;

/** Partitions whose states one script call reads. */
const STATES_PER_CALL = 128;

function keysOf(group: string, tp: TopicPartition): string[] {
  return partitionKeyList(consumerKeys.partition(group, tp.topic, tp.partition));
}

function pairs(refs: readonly DeliveryRef[]): number[] {
  return refs.flatMap((r) => [r.offset, r.attempt]);
}

/** Per-partition delivery state of a group in Redis; see the invariants above. */
export class PartitionLedger {
  readonly #redis: Redis;
  readonly #scripts: RedisScripts<ScriptName>;

  constructor(redis: Redis) {
    this.#redis = redis;
    this.#scripts = new RedisScripts(redis, SCRIPTS);
  }

  /**
   * Starts the partition's state unless another instance did first: next, what
   * Kafka holds, and the records to deliver again (unresolved when the state
   * was lost). Returns next.
   */
  async init(
    group: string,
    tp: TopicPartition,
    start: {
      readonly next: number;
      readonly committed: number;
      readonly metadata: string;
      readonly pending: readonly number[];
    },
  ): Promise<number> {
    const reply = await this.#scripts.run(
      'init',
      [...keysOf(group, tp), consumerKeys.partitions(group)],
      [
        start.next,
        start.committed,
        start.metadata,
        Date.now(),
        `${tp.topic}:${tp.partition}`,
        ...start.pending,
      ],
    );
    return Number(reply);
  }

  /** Brings back expired deliveries and reports each partition's state. */
  async states(
    group: string,
    tps: readonly TopicPartition[],
    now: number,
    maxDue: number,
    maxAttempts: number,
  ): Promise<PartitionState[]> {
    return (await this.scan(group, tps, now, maxDue, maxAttempts, null)) as PartitionState[];
  }

  /**
   * As states(), in the order given, stopping once the partitions read offer
   * `enough.want` records (due retries plus offsets below `enough.highs`, the
   * high watermarks the caller knows, within the window's room): the
   * partitions after that are not read (null). enough = null reads them all.
   */
  async scan(
    group: string,
    tps: readonly TopicPartition[],
    now: number,
    maxDue: number,
    maxAttempts: number,
    enough: {
      readonly want: number;
      /** Unresolved records a partition may have (0: no window, as with auto-commit). */
      readonly window: number;
      readonly highs: ReadonlyArray<number | undefined>;
    } | null,
  ): Promise<Array<PartitionState | null>> {
    // One script call per chunk of partitions (each call holds Redis only that long).
    const chunks: Array<readonly TopicPartition[]> = [];
    for (let i = 0; i < tps.length; i += STATES_PER_CALL)
      chunks.push(tps.slice(i, i + STATES_PER_CALL));
    const call = (chunk: readonly TopicPartition[], first: number, want: number) => ({
      name: 'states' as const,
      keys: chunk.flatMap((tp) => keysOf(group, tp)),
      args: [
        now,
        maxDue,
        maxAttempts,
        want,
        enough?.window ?? 0,
        ...(enough ? chunk.map((_, c) => enough.highs[first + c] ?? '') : []),
      ],
    });
    const parse = (reply: unknown): Array<PartitionState | null> =>
      (reply as (string | number | null)[][]).map((r) => (r.length === 0 ? null : parseState(r)));
    if (!enough) {
      const replies = await this.#scripts.batch(
        chunks.map((c, n) => call(c, n * STATES_PER_CALL, 0)),
      );
      return replies.flatMap(parse);
    }
    // Chunk after chunk, only until enough is offered.
    const out: Array<PartitionState | null> = [];
    let offered = 0;
    for (const chunk of chunks) {
      const want = enough.want - offered;
      if (want <= 0) {
        out.push(...chunk.map(() => null));
        continue;
      }
      const { keys, args } = call(chunk, out.length, want);
      for (const state of parse(await this.#scripts.run('states', keys, args))) {
        if (state) offered += offeredBy(state, enough.window, enough.highs[out.length]);
        out.push(state);
      }
    }
    return out;
  }

  /**
   * A poll's read and claim in one script call (see TAKE): in the order given,
   * until `want` records are taken, due retries and new offsets below each
   * partition's `fetchedEnds` entry. `invalid` when the holder's session is
   * gone or the group in native use (nothing taken).
   */
  async take(
    group: string,
    holder: string,
    tps: readonly TopicPartition[],
    options: {
      readonly now: number;
      readonly deadline: number;
      readonly window: number;
      readonly maxSpan: number;
      readonly want: number;
      readonly maxAttempts: number;
      readonly fetchedEnds: ReadonlyArray<number | undefined>;
    },
  ): Promise<'invalid' | Array<TakenPartition | null>> {
    const reply = (await this.#scripts.run(
      'take',
      [
        consumerKeys.sessions(group),
        consumerKeys.inUse(group),
        ...tps.flatMap((tp) => keysOf(group, tp)),
      ],
      [
        holder,
        options.now,
        options.deadline,
        options.window,
        options.maxSpan,
        options.want,
        options.maxAttempts,
        ...tps.map((_, i) => options.fetchedEnds[i] ?? ''),
      ],
    )) as unknown[];
    if (reply[0] === 'invalid') return 'invalid';
    return (reply as unknown[][]).map((r) => {
      if (r.length === 0) return null;
      const [state, got, next] = r as [(string | number | null)[], string[], string];
      const claimed: Array<{ offset: number; attempt: number }> = [];
      for (let i = 0; i < got.length; i += 2)
        claimed.push({ offset: Number(got[i]), attempt: Number(got[i + 1]) });
      return { state: parseState(state), claimed, next: Number(next) };
    });
  }

  /** Claims due retries and fetched new offsets, within the window and span. */
  async claim(
    group: string,
    requests: readonly ClaimRequest[],
    limits: { readonly window: number; readonly maxSpan: number },
  ): Promise<ClaimResult[]> {
    const now = Date.now();
    const replies = await this.#scripts.batch(
      requests.map((r) => ({
        name: 'claim' as const,
        keys: keysOf(group, r.tp),
        args: [
          now,
          r.deadline,
          r.holder,
          r.lease?.owner ?? '',
          r.lease?.epoch ?? 0,
          r.autoCommit ? '1' : '0',
          r.newStart,
          limits.window,
          limits.maxSpan,
          r.retryOffsets.length,
          ...r.retryOffsets,
          ...r.newOffsets,
        ],
      })),
    );
    return replies.map((reply) => {
      const values = reply as string[];
      if (values[0] === 'fenced') return { fenced: true, next: -1, claimed: [] };
      const claimed: { offset: number; attempt: number }[] = [];
      for (let i = 1; i < values.length; i += 2)
        claimed.push({ offset: Number(values[i]), attempt: Number(values[i + 1]) });
      return { fenced: false, next: Number(values[0]), claimed };
    });
  }

  /**
   * Acks the holder's current deliveries, every partition in one round trip,
   * which also reads the holder's session settings and, with `commit`, takes
   * the group's commit lock and reads the commit points after these acks (so
   * an uncontended ack request needs one more round trip, to end the commit).
   */
  async ack(
    group: string,
    holder: string,
    items: readonly PartitionDeliveries[],
    limits: { readonly window: number; readonly maxSpan: number },
    commit: {
      readonly tps: readonly TopicPartition[];
      readonly token: string;
      readonly lockTtlMs: number;
    } | null = null,
  ): Promise<{
    session: string | null;
    results: AckResult[];
    begun: { busy: number } | CommitPoint[] | null;
  }> {
    const replies = await this.#scripts.batch([
      { hget: [consumerKeys.sessions(group), holder] as const },
      ...items.map((item) => ({
        name: 'ack' as const,
        keys: [
          ...keysOf(group, item.tp),
          consumerKeys.sessions(group),
          consumerKeys.partitions(group),
        ],
        args: [
          holder,
          limits.window,
          item.upTo ?? '',
          item.commitTo && item.upTo !== undefined ? '1' : '',
          limits.maxSpan,
          `${item.tp.topic}:${item.tp.partition}`,
          ...pairs(item.refs),
        ],
      })),
      ...(commit ? [this.#beginCall(group, commit.tps, commit.token, commit.lockTtlMs)] : []),
    ]);
    const results = replies.slice(1, 1 + items.length).map((reply) => {
      const r = reply as (number | string)[];
      return {
        acked: Number(r[0]),
        fenced: Number(r[1]),
        freed: Number(r[2]) === 1,
        skipped: Number(r[3]),
        deadlines: r.slice(4).map(Number),
      };
    });
    return {
      session: (replies[0] as string | null) ?? null,
      results,
      begun: commit
        ? parseBegin(replies[1 + items.length] as (string | number)[], commit.tps.length)
        : null,
    };
  }

  /** The holder's current deliveries come back at dueAt (dead past maxAttempts). */
  async nack(
    group: string,
    holder: string,
    items: readonly PartitionDeliveries[],
    options: { readonly dueAt: number; readonly error: string; readonly maxAttempts: number },
  ): Promise<Array<{ nacked: number; fenced: number; dead: number }>> {
    const replies = await this.#scripts.batch(
      items.map((item) => ({
        name: 'nack' as const,
        keys: keysOf(group, item.tp),
        args: [holder, options.dueAt, options.error, options.maxAttempts, ...pairs(item.refs)],
      })),
    );
    return replies.map((reply) => {
      const [nacked, fenced, dead] = reply as [number, number, number];
      return { nacked: Number(nacked), fenced: Number(fenced), dead: Number(dead) };
    });
  }

  /** Moves the ack deadline of the holder's current deliveries. */
  async extend(
    group: string,
    holder: string,
    items: readonly PartitionDeliveries[],
    deadline: number,
  ): Promise<Array<{ extended: number; fenced: number }>> {
    const replies = await this.#scripts.batch(
      items.map((item) => ({
        name: 'extend' as const,
        keys: keysOf(group, item.tp),
        args: [holder, deadline, ...pairs(item.refs)],
      })),
    );
    return replies.map((reply) => {
      const [extended, fenced] = reply as [number, number];
      return { extended: Number(extended), fenced: Number(fenced) };
    });
  }

  /** Gives back deliveries a client never received, without spending their attempt. */
  async unclaim(
    group: string,
    holder: string,
    items: readonly PartitionDeliveries[],
  ): Promise<number> {
    const now = Date.now();
    const replies = await this.#scripts.batch(
      items.map((item) => ({
        name: 'unclaim' as const,
        keys: keysOf(group, item.tp),
        args: [holder, now, ...pairs(item.refs)],
      })),
    );
    return replies.reduce<number>((sum, n) => sum + Number(n), 0);
  }

  /** Claims up to max dead records for one dead-letter writer until claimUntil. */
  async buryClaim(
    group: string,
    tp: TopicPartition,
    token: string,
    claimUntil: number,
    max: number,
  ): Promise<DeadRecord[]> {
    const reply = (await this.#scripts.run('buryClaim', keysOf(group, tp), [
      Date.now(),
      token,
      claimUntil,
      max,
    ])) as string[];
    const out: DeadRecord[] = [];
    for (let i = 0; i < reply.length; i += 3)
      out.push({
        offset: Number(reply[i]),
        attempts: Number(reply[i + 1]),
        lastError: reply[i + 2] ?? '',
      });
    return out;
  }

  /** Ends a dead-letter claim: retryAt null resolves the records, else they wait until then. */
  async buryEnd(
    group: string,
    tp: TopicPartition,
    token: string,
    offsets: readonly number[],
    retryAt: number | null,
  ): Promise<number> {
    return Number(
      await this.#scripts.run('buryEnd', keysOf(group, tp), [token, retryAt ?? '', ...offsets]),
    );
  }

  /** Resolves records Kafka no longer has; returns how many were still unresolved. */
  async skip(
    group: string,
    tp: TopicPartition,
    offsets: readonly number[],
    reason: string,
  ): Promise<number> {
    if (offsets.length === 0) return 0;
    return Number(await this.#scripts.run('skip', keysOf(group, tp), [reason, ...offsets]));
  }

  /**
   * Takes the group's commit lock and reads what to commit, or 'busy' with the
   * lock's remaining time when another instance is committing.
   */
  async commitBegin(
    group: string,
    tps: readonly TopicPartition[],
    token: string,
    lockTtlMs: number,
  ): Promise<{ busy: number } | CommitPoint[]> {
    const [reply] = await this.#scripts.batch([this.#beginCall(group, tps, token, lockTtlMs)]);
    return parseBegin(reply as (string | number)[], tps.length);
  }

  #beginCall(group: string, tps: readonly TopicPartition[], token: string, lockTtlMs: number) {
    return {
      name: 'commitBegin' as const,
      keys: [consumerKeys.commitLock(group), ...tps.flatMap((tp) => keysOf(group, tp))],
      args: [token, lockTtlMs],
    };
  }

  /** Records what Kafka now holds and releases the lock (only while this token holds it). */
  async commitEnd(
    group: string,
    token: string,
    committed: ReadonlyArray<TopicPartition & { offset: number; metadata: string }>,
  ): Promise<boolean> {
    const reply = await this.#scripts.run(
      'commitEnd',
      [
        consumerKeys.commitLock(group),
        ...committed.map((c) => consumerKeys.partition(group, c.topic, c.partition).state),
      ],
      [token, ...committed.flatMap((c) => [c.offset, c.metadata])],
    );
    return Number(reply) === 1;
  }

  async commitAbort(group: string, token: string): Promise<void> {
    await this.#scripts.run('commitAbort', [consumerKeys.commitLock(group)], [token]);
  }

  async seek(group: string, tp: TopicPartition, offset: number): Promise<void> {
    await this.#redis
      .sadd(consumerKeys.partitions(group), `${tp.topic}:${tp.partition}`)
      .catch((err: unknown) => {
        throw redisError(err);
      });
    await this.#scripts.run('seek', keysOf(group, tp), [offset]);
  }

  /** A leaving session's in-flight records come back now and its leases lapse. */
  async releaseHolder(
    group: string,
    tps: readonly TopicPartition[],
    holder: string,
    maxAttempts: number,
  ): Promise<number> {
    const now = Date.now();
    const replies = await this.#scripts.batch(
      tps.map((tp) => ({
        name: 'releaseHolder' as const,
        keys: keysOf(group, tp),
        args: [holder, now, maxAttempts],
      })),
    );
    const released = replies.reduce<number>((sum, n) => sum + Number(n), 0);
    // What came back is deliverable now. One counted message on the group's channel wakes
    // every ordered-mode poll and as many distinct shared-mode ones as records (one message
    // per partition would wake the same longest-waiting poll on each).
    if (released > 0)
      await this.#redis
        .publish(consumerKeys.wake(group), `${now}:${released}`)
        .catch(() => undefined);
    return released;
  }

  /** Read-only counts for metrics. */
  async snapshots(group: string, tps: readonly TopicPartition[]): Promise<LedgerSnapshot[]> {
    const replies = await this.#scripts.batch(
      tps.map((tp) => ({ name: 'snapshot' as const, keys: keysOf(group, tp), args: [] })),
    );
    return replies.map((r) => {
      const [lowest, committed, unresolved, inFlight] = r as [string, string, number, number];
      return {
        lowest: Number(lowest),
        committed: Number(committed),
        unresolved: Number(unresolved),
        inFlight: Number(inFlight),
      };
    });
  }

  /** Ordered mode: renews, releases and takes leases so this instance holds its fair share. */
  async leases(
    group: string,
    tps: readonly TopicPartition[],
    instance: string,
    ttlMs: number,
    share: number,
  ): Promise<{
    released: number;
    moved: number;
    held: Array<{ tp: TopicPartition; epoch: number }>;
  }> {
    if (tps.length === 0) return { released: 0, moved: 0, held: [] };
    const reply = (await this.#scripts.run(
      'leases',
      tps.flatMap((tp) => keysOf(group, tp)),
      [instance, Date.now(), ttlMs, share],
    )) as (number | string)[];
    const held: Array<{ tp: TopicPartition; epoch: number }> = [];
    for (let i = 2; i < reply.length; i += 2)
      held.push({ tp: tps[Number(reply[i])]!, epoch: Number(reply[i + 1]) });
    return { released: Number(reply[0]), moved: Number(reply[1]), held };
  }

  /** Every partition the group has state for. */
  async partitions(group: string): Promise<TopicPartition[]> {
    try {
      const members = await this.#redis.smembers(consumerKeys.partitions(group));
      return members.map((m) => {
        const at = m.lastIndexOf(':');
        return { topic: m.slice(0, at), partition: Number(m.slice(at + 1)) };
      });
    } catch (err) {
      throw redisError(err);
    }
  }

  /** Tells long-polls of the group on every instance to look again (leases, seeks). */
  async wake(group: string): Promise<void> {
    await this.#redis.publish(consumerKeys.wake(group), '0').catch(() => undefined);
  }

  /**
   * Tells the group's long-polls that session `id` joined, changed its
   * subscription or left: ordered-mode polls look again (leases move), and
   * shared-mode polls only if they are that session's.
   */
  async wakeMember(group: string, id: string): Promise<void> {
    await this.#redis.publish(consumerKeys.wake(group), memberMessage(id)).catch(() => undefined);
  }

  /**
   * Tells long-polls waiting on these partitions that `count` records are
   * deliverable at `at`: each instance wakes its ordered-mode polls of the
   * partition and at most `count` of its shared-mode ones (any of them can take
   * any record, so waking more only makes them race for the same records).
   */
  async wakePartitions(
    group: string,
    wakes: ReadonlyArray<{ tp: TopicPartition; count: number }>,
    at: number,
  ): Promise<void> {
    if (wakes.length === 0) return;
    const pipeline = this.#redis.pipeline();
    for (const { tp, count } of wakes)
      pipeline.publish(consumerKeys.partitionWake(group, tp.topic, tp.partition), `${at}:${count}`);
    await pipeline.exec().catch(() => undefined);
  }
}

function parseBegin(
  reply: (string | number)[],
  partitions: number,
): { busy: number } | CommitPoint[] {
  if (reply[0] === 'busy') return { busy: Math.max(1, Number(reply[1])) };
  const points: CommitPoint[] = [];
  let i = 1;
  for (let p = 0; p < partitions; p += 1) {
    const n = Number(reply[i + 4]);
    points.push({
      lowest: Number(reply[i]),
      next: Number(reply[i + 1]),
      committed: Number(reply[i + 2]),
      metadata: String(reply[i + 3] ?? ''),
      unresolved: reply.slice(i + 5, i + 5 + n).map(Number),
    });
    i += 5 + n;
  }
  return points;
}

/** What the STATES script counts a partition as offering (see there). */
function offeredBy(state: PartitionState, window: number, high: number | undefined): number {
  const fresh =
    state.next === null || high === undefined ? Infinity : Math.max(0, high - state.next);
  const room = state.due.length + fresh;
  return window > 0 ? Math.min(room, Math.max(0, window - state.unresolved)) : room;
}

function parseState(reply: (string | number | null)[]): PartitionState {
  const [next, unresolved, wake, dead, ...rest] = reply;
  const bar = rest.indexOf('|');
  const offsets = rest.slice(0, bar);
  const attempts = rest.slice(bar + 1);
  const wakeAt = Number(wake);
  return {
    next: next === null || next === undefined ? null : Number(next),
    unresolved: Number(unresolved),
    nextWakeAt: wakeAt >= 0 ? wakeAt : null,
    dead: Number(dead),
    due: offsets.map((o, i) => ({ offset: Number(o), attempts: Number(attempts[i]) })),
  };
}
