import { currentPrincipal } from '../../auth/request-context.js';
import { ownedByCaller } from '../session-service.js';
import { GatewayError } from '../../errors.js';
import type { KafkaMetadataClient } from '../../kafka/metadata-client.js';
import type { FetchedRecord, RecordFetcher } from '../../kafka/record-fetcher.js';
import type { Logger } from '../../observability/logger.js';
import type {
  ClaimRequest,
  PartitionLedger,
  PartitionState,
  TakenPartition,
  TopicPartition,
} from '../../store/partition-ledger.js';
import type { SessionConfig, SessionStore } from '../../store/session-store.js';
import type { WakeChannel } from '../../store/wake-channel.js';
import type { DeliveredRecord, PollOptions } from '../consume-types.js';
import { DeadLetterWriter } from '../dead-letter.js';
import type { GroupCommitter } from '../group-committer.js';
import type { SessionService } from '../session-service.js';
import type { TailWatcher } from '../tail-watcher.js';
import type { GroupGuard } from './group-guard.js';
import { readPayloads } from './payloads.js';
import { PollWait } from './poll-waits.js';
import type { Positions } from './positions.js';

export interface PollLoopDeps {
  readonly sessions: SessionStore;
  readonly sessionService: SessionService;
  readonly ledger: PartitionLedger;
  readonly fetcher: RecordFetcher;
  readonly metadataClient: KafkaMetadataClient;
  readonly positions: Positions;
  readonly committer: GroupCommitter;
  readonly deadLetter: DeadLetterWriter;
  readonly guard: GroupGuard;
  readonly wake: WakeChannel;
  readonly tail: TailWatcher;
  readonly logger: Logger;
  /** Unresolved records per partition and group (I2). */
  readonly window: number;
  /** Widest distance from the lowest unresolved offset a claim may reach (offset map fits). */
  readonly maxSpan: number;
  readonly kafkaTimeoutMs: number;
  readonly onDelivered?: (topic: string, attempts: readonly number[]) => void;
  readonly onLeaseMoves?: (moved: number) => void;
  readonly onSkipped?: (topic: string, reason: string, count: number) => void;
  readonly onReturned?: (count: number) => void;
}

/** Polls asking for at most this many records take them in their first round trip. */
const TAKE_MAX_RECORDS = 100;

/** What a poll's first read took, per partition in the order read. */
interface Taken {
  readonly tps: readonly TopicPartition[];
  readonly taken: ReadonlyArray<TakenPartition | null>;
}

/** Partition states read before the attempt, in the order they were read. */
interface Preread {
  readonly tps: readonly TopicPartition[];
  readonly states: ReadonlyArray<PartitionState | null>;
}

interface Owned {
  readonly tp: TopicPartition;
  readonly lease: { owner: string; epoch: number } | null;
  readonly state: PartitionState;
}

/** Attempts a poll repeats at once after losing claims to other sessions, before it waits. */
const MAX_RACE_RETRIES = 3;

/** Longest a read waits for records Kafka already reported (the first one is usually there at once). */
const FETCH_WAIT_MS = 200;

/**
 * The long-poll: attempts (read state, fetch, claim) until records are
 * claimed, the timeout passes, the client leaves, or the gateway closes.
 * Redis round trips per attempt: poll start (subscription, liveness, group
 * in use), leases + states, claims.
 */
export class PollLoop {
  readonly #deps: PollLoopDeps;
  readonly #waits = new Set<PollWait>();
  /** Per session (shared mode or assigned): the partitions its last poll read. */
  readonly #speculations = new Map<
    string,
    {
      readonly tps: TopicPartition[];
      readonly maxAttempts: number;
      readonly autoCommit: boolean;
      readonly ackTimeoutMs: number;
    }
  >();
  #closing = false;

  constructor(deps: PollLoopDeps) {
    this.#deps = deps;
  }

  /**
   * `check` sees the session before anything is claimed (e.g. the transport's
   * Accept check); the session comes back with the records for rendering.
   */
  async poll(
    group: string,
    id: string,
    options: PollOptions,
    signal?: AbortSignal,
    check?: (session: SessionConfig) => void,
  ): Promise<{ session: SessionConfig; records: DeliveredRecord[] }> {
    const { sessions, sessionService, guard } = this.#deps;
    // Shared mode and manual assignment: when this process knows which partitions the
    // session read last, the first read goes out alongside the session's (one round trip, not
    // two): a small poll takes its records right there (TAKE: read and claim in one script,
    // only for a live session; given back if the session turns out not to be the caller's
    // or its subscription changed), a larger or auto-committing one reads the states. The
    // wait listens before that read, as it does before every attempt's.
    // Per caller too: another principal naming this session never makes it take anything.
    const key = `${group}\u0000${id}\u0000${currentPrincipal().name}`;
    const spec = this.#speculations.get(key);
    const order = spec ? rotate(spec.tps, Math.floor(Math.random() * spec.tps.length)) : [];
    const early = spec
      ? {
          wait: new PollWait(this.#deps.wake, this.#deps.tail, group, spec.tps, 'some', id),
          read: this.#firstRead(group, id, order, spec, options).catch(() => null),
        }
      : undefined;
    let adopted: PollWait | undefined;
    let firstStates: Preread | null = null;
    let firstTaken: Taken | null = null;
    let start;
    let session;
    let subscription;
    let some;
    try {
      let native;
      [start, native] = await Promise.all([sessions.pollStart(group, id), guard.check(group)]);
      session = start.session;
      if (!session || !ownedByCaller(session)) {
        this.#speculations.delete(key);
        throw new GatewayError(
          'KGW_CONSUMER_NOT_FOUND',
          `consumer instance '${id}' not found in group '${group}'`,
        );
      }
      check?.(session);
      if (start.inUse || native) throw groupInUse(group);
      subscription = await sessionService.resolve(start.subscription, session);
      // Shared mode: any waiting poll can take any record, so a wake needs only as many as records.
      some = session.mode === 'shared' || subscription.manual;
      if (early && some && sameTps(spec!.tps, subscription.partitions)) {
        adopted = early.wait;
        const read = await early.read;
        if (read && read !== 'invalid') {
          if ('states' in read) firstStates = read;
          else if (read.taken.some((t) => t && t.claimed.length > 0)) firstTaken = read;
          else firstStates = { tps: order, states: read.taken.map((t) => t?.state ?? null) };
        }
      }
    } finally {
      if (early && early.wait !== adopted) {
        early.wait.close();
        // Records taken for a poll that does not go on (not the caller's, a changed
        // subscription, a refusal): back at once, attempt not spent.
        void early.read.then((read) =>
          read && read !== 'invalid' && 'taken' in read
            ? this.#giveBack(group, id, read)
            : undefined,
        );
      }
    }
    const timeoutMs = Math.min(
      options.timeoutMs ?? session.requestTimeoutMs,
      options.maxTimeoutMs ?? Infinity,
    );
    const deadline = Date.now() + Math.max(0, timeoutMs);
    const wait =
      adopted ??
      new PollWait(
        this.#deps.wake,
        this.#deps.tail,
        group,
        subscription.partitions,
        some ? 'some' : 'all',
        id,
      );
    if (some && subscription.partitions.length > 0) {
      if (this.#speculations.size >= 10_000) this.#speculations.clear();
      this.#speculations.set(key, {
        tps: subscription.partitions,
        maxAttempts: session.maxAttempts,
        autoCommit: session.autoCommit,
        ackTimeoutMs: session.ackTimeoutMs,
      });
    } else this.#speculations.delete(key);
    this.#waits.add(wait);
    try {
      // The first attempt runs while the wake channels subscribe (no round trip spent waiting
      // for them); if it found nothing and a subscription was new, a wake may have been
      // published before it was heard, so one more attempt runs once Redis confirmed it.
      let recheck = wait.fresh;
      let live = start.live;
      let races = 0;
      let full = false;
      if (firstTaken) {
        const records = await this.#deliverTaken(session, firstTaken, options, deadline, signal);
        if (records.length > 0 || this.#closing) return { session, records };
        if (signal?.aborted || Date.now() >= deadline) return { session, records: [] };
        full = true; // what it took was not there after all: read every partition next
      }
      for (let first = true; ; first = false) {
        wait.reset();
        if (!first) {
          const again = await sessions.pollStart(group, id);
          if (!again.session) return { session, records: [] }; // deleted meanwhile
          if (again.inUse) throw groupInUse(group);
          live = again.live;
        }
        const attempt = await this.#attempt(
          session,
          subscription,
          live,
          options,
          deadline,
          signal,
          firstStates,
          full,
        );
        firstStates = null;
        if (attempt.records.length > 0 || this.#closing)
          return { session, records: attempt.records };
        if (signal?.aborted || Date.now() >= deadline) return { session, records: [] };
        // It read only the partitions that seemed to offer enough, and they gave nothing
        // (a compacted log, another session first): read every partition at once.
        if (attempt.partial && !full) {
          full = true;
          continue;
        }
        full = false;
        // Another session took the records this attempt read (shared mode): more may be
        // there already, which no wake-up announces. Look again at once, a few times.
        if (attempt.raced && races < MAX_RACE_RETRIES) {
          races += 1;
          continue;
        }
        if (recheck) {
          recheck = false;
          await wait.ready;
          continue;
        }
        await wait.until(Math.min(attempt.wakeAt ?? deadline, deadline), attempt.positions, signal);
        if (signal?.aborted || Date.now() >= deadline) return { session, records: [] };
      }
    } finally {
      wait.close();
      this.#waits.delete(wait);
    }
  }

  /** The first read of a poll sent alongside the session's: a take, or the states (see poll()). */
  async #firstRead(
    group: string,
    id: string,
    order: readonly TopicPartition[],
    spec: {
      readonly maxAttempts: number;
      readonly autoCommit: boolean;
      readonly ackTimeoutMs: number;
    },
    options: PollOptions,
  ): Promise<Preread | Taken | 'invalid'> {
    const { ledger, fetcher, window, maxSpan } = this.#deps;
    const now = Date.now();
    if (spec.autoCommit || options.maxRecords > TAKE_MAX_RECORDS) {
      const enough = this.#enough(order, options.maxRecords, spec.autoCommit);
      const states = await ledger.scan(
        group,
        order,
        now,
        options.maxRecords,
        spec.maxAttempts,
        enough,
      );
      return { tps: order, states };
    }
    const taken = await ledger.take(group, id, order, {
      now,
      deadline: now + spec.ackTimeoutMs,
      window,
      maxSpan,
      want: options.maxRecords,
      maxAttempts: spec.maxAttempts,
      fetchedEnds: order.map((tp) => fetcher.fetchedEnd(tp.topic, tp.partition)),
    });
    return taken === 'invalid' ? 'invalid' : { tps: order, taken };
  }

  /**
   * The records a take claimed, with their payloads (cache, else Kafka). An
   * offset the log lacks below a record Kafka returned is a gap (compaction,
   * transaction markers, aborted records): resolved as skipped, as a claim
   * after a fetch would have passed over it. What the poll cannot hand out (not
   * read in time, past max_bytes, the client left) goes back, attempt not spent.
   */
  async #deliverTaken(
    session: SessionConfig,
    taken: Taken,
    options: PollOptions,
    deadline: number,
    signal: AbortSignal | undefined,
  ): Promise<DeliveredRecord[]> {
    const { fetcher, ledger } = this.#deps;
    const records: DeliveredRecord[] = [];
    const delivered: Array<{
      tp: TopicPartition;
      refs: Array<{ offset: number; attempt: number }>;
    }> = [];
    const back: Array<{ tp: TopicPartition; refs: Array<{ offset: number; attempt: number }> }> =
      [];
    let bytes = options.maxBytes;
    try {
      for (let i = 0; i < taken.tps.length; i += 1) {
        const t = taken.taken[i];
        if (!t || t.claimed.length === 0) continue;
        const tp = taken.tps[i]!;
        const from = t.state.next ?? 0;
        const retries = t.claimed.filter((c) => c.offset < from).map((c) => c.offset);
        const fresh = t.claimed.filter((c) => c.offset >= from).map((c) => c.offset);
        const payloads =
          retries.length > 0
            ? await this.#retryPayloads(session.group, tp, retries)
            : new Map<number, FetchedRecord>();
        if (fresh.length > 0) {
          const first = fresh[0]!;
          const last = fresh[fresh.length - 1]!;
          const waitMs = Math.max(1, Math.min(FETCH_WAIT_MS, deadline - Date.now()));
          const read = await fetcher.read(tp.topic, tp.partition, first, last - first + 1, waitMs);
          let seen = -1;
          for (const r of read) {
            if (r.offset <= last) payloads.set(r.offset, r);
            seen = Math.max(seen, r.offset);
          }
          const gaps = fresh.filter((o) => o < seen && !payloads.has(o));
          if (gaps.length > 0) await ledger.skip(session.group, tp, gaps, 'not in the log');
        }
        const out = { tp, refs: [] as Array<{ offset: number; attempt: number }> };
        const keep = { tp, refs: [] as Array<{ offset: number; attempt: number }> };
        for (const c of t.claimed) {
          const record = payloads.get(c.offset);
          if (record && (bytes > 0 || records.length === 0)) {
            records.push({ record, attempt: c.attempt });
            keep.refs.push(c);
            bytes -= record.size;
          } else out.refs.push(c); // a gap or a gone record is resolved already: not held, ignored
        }
        if (keep.refs.length > 0) delivered.push(keep);
        if (out.refs.length > 0) back.push(out);
      }
    } catch (err) {
      // Kafka or Redis failed before anything was handed out: all of it back, attempt not
      // spent (a failing fetch must not use up attempts and dead-letter records).
      await this.#giveBack(session.group, session.id, taken);
      throw err;
    }
    if (signal?.aborted) back.push(...delivered.splice(0));
    if (back.length > 0) await this.release(session, back);
    if (signal?.aborted) return [];
    if (delivered.length > 0) this.#deps.sessions.markActive(session.group);
    for (const d of delivered)
      this.#deps.onDelivered?.(
        d.tp.topic,
        d.refs.map((r) => r.attempt),
      );
    return records;
  }

  /** Gives back everything a take claimed (its poll did not go on). */
  async #giveBack(group: string, id: string, taken: Taken): Promise<void> {
    const claimed = taken.tps
      .map((tp, i) => ({ tp, refs: [...(taken.taken[i]?.claimed ?? [])] }))
      .filter((c) => c.refs.length > 0);
    if (claimed.length === 0) return;
    try {
      const n = await this.#deps.ledger.unclaim(group, id, claimed);
      if (n > 0) this.#deps.onReturned?.(n);
      await this.#deps.ledger.wakePartitions(
        group,
        claimed.map((c) => ({ tp: c.tp, count: c.refs.length })),
        0,
      );
    } catch (err) {
      // They come back at their ack deadline instead.
      this.#deps.logger.warn({ err, group }, 'giving back records a refused poll took failed');
    }
  }

  /** Answers every waiting long-poll now (with what it has: nothing) for a graceful shutdown. */
  close(): void {
    this.#closing = true;
    for (const wait of this.#waits) wait.fire();
  }

  get waiting(): number {
    return this.#waits.size;
  }

  async #attempt(
    session: SessionConfig,
    subscription: { manual: boolean; partitions: TopicPartition[] },
    live: number,
    options: PollOptions,
    deadline: number,
    signal: AbortSignal | undefined,
    /** States read alongside the session for exactly these partitions (not ordered mode). */
    preread: Preread | null,
    /** Read every partition's state, not only until enough records are offered. */
    full: boolean,
  ): Promise<{
    records: DeliveredRecord[];
    wakeAt: number | null;
    positions: Array<TopicPartition & { after: number }>;
    /** Some new offsets it read were claimed by another session first. */
    raced?: boolean;
    /** Some partitions' states or payloads were not read (enough seemed offered by the others). */
    partial?: boolean;
  }> {
    const { ledger, window, maxSpan } = this.#deps;
    const now = Date.now();
    const { owned, partial } = await this.#owned(
      session,
      subscription,
      live,
      options.maxRecords,
      preread,
      full,
    );
    if (owned.length === 0) return { records: [], wakeAt: null, positions: [], partial };
    this.#buryDead(session, owned);

    // Start at a random partition so no partition starves under max_records.
    const order = rotate(owned, Math.floor(Math.random() * owned.length));
    let budget = options.maxRecords;
    let bytes = options.maxBytes;
    const claims: ClaimRequest[] = [];
    const payloads = new Map<string, FetchedRecord>();
    const ackDeadline = now + session.ackTimeoutMs;
    // Payloads are read in parallel (one partition after the other, six new to the fetchers made
    // a poll overrun its timeout), from as many partitions as seem to offer the poll's records
    // (the same rule as the state scan; every one when `full`); then the poll takes from them in
    // order within its budget, and what it does not take stays cached.
    let offered = 0;
    let unread = false;
    const rooms = order.map(({ tp, state }) => {
      if (state.next === null) return 0;
      const room = session.autoCommit
        ? options.maxRecords
        : Math.min(options.maxRecords, window - state.unresolved);
      if (room <= 0) return 0;
      if (!full && offered >= options.maxRecords) {
        unread = true;
        return 0;
      }
      const high = this.#deps.tail.high(tp.topic, tp.partition, 1000);
      offered += Math.min(
        room,
        state.due.length + (high === undefined ? room : Math.max(0, high - state.next)),
      );
      return room;
    });
    const reads = await Promise.all(
      order.map(async ({ tp, state }, i) => {
        const room = rooms[i]!;
        if (room <= 0 || state.next === null) return null;
        const retries = state.due.slice(0, room).map((d) => d.offset);
        const retryRead =
          retries.length > 0
            ? await this.#retryPayloads(session.group, tp, retries)
            : new Map<number, FetchedRecord>();
        const left = room - retries.filter((o) => retryRead.has(o)).length;
        const fresh = left > 0 ? await this.#fresh(tp, state.next, left, deadline) : [];
        return { retries, retryRead, fresh };
      }),
    );
    for (const [i, { tp, lease, state }] of order.entries()) {
      const read = reads[i];
      if (!read || budget <= 0 || bytes <= 0 || state.next === null) continue;
      const room = session.autoCommit ? budget : Math.min(budget, window - state.unresolved);
      const retryOffsets: number[] = [];
      for (const offset of read.retries.slice(0, Math.max(0, room))) {
        const r = read.retryRead.get(offset);
        if (!r || bytes <= 0) continue;
        retryOffsets.push(offset);
        payloads.set(key(tp, offset), r);
        bytes -= r.size;
      }
      const left = room - retryOffsets.length;
      const newOffsets: number[] = [];
      for (const r of left > 0 && bytes > 0 ? read.fresh : []) {
        if (newOffsets.length >= left || (bytes <= 0 && newOffsets.length > 0)) break;
        newOffsets.push(r.offset);
        payloads.set(key(tp, r.offset), r);
        bytes -= r.size;
      }
      budget -= retryOffsets.length + newOffsets.length;
      if (retryOffsets.length === 0 && newOffsets.length === 0) continue;
      claims.push({
        tp,
        holder: session.id,
        lease,
        deadline: ackDeadline,
        autoCommit: session.autoCommit,
        retryOffsets,
        newStart: state.next,
        newOffsets,
      });
    }

    const results = await ledger.claim(session.group, claims, { window, maxSpan });
    const records: DeliveredRecord[] = [];
    const claimed: Array<{ tp: TopicPartition; refs: Array<{ offset: number; attempt: number }> }> =
      [];
    results.forEach((result, i) => {
      const claim = claims[i]!;
      if (result.claimed.length === 0) return;
      claimed.push({ tp: claim.tp, refs: [...result.claimed] });
      for (const c of result.claimed) {
        const record = payloads.get(key(claim.tp, c.offset));
        if (record) records.push({ record, attempt: c.attempt });
      }
    });
    if (signal?.aborted && records.length > 0 && !session.autoCommit) {
      // The client left while we claimed: nothing was delivered, nothing spent.
      await this.release(session, claimed);
      return { records: [], wakeAt: null, positions: [] };
    }
    if (claimed.length > 0) this.#deps.sessions.markActive(session.group);
    for (const c of claimed)
      this.#deps.onDelivered?.(
        c.tp.topic,
        c.refs.map((r) => r.attempt),
      );
    if (session.autoCommit && claimed.length > 0) {
      await this.#deps.committer
        .commit(
          session.group,
          claimed.map((c) => c.tp),
        )
        .catch((err: unknown) => {
          this.#deps.logger.warn(
            { err, group: session.group },
            'auto-commit to Kafka failed; the worker retries',
          );
        });
    }
    const raced = results.some(
      (r, i) =>
        !r.fenced &&
        r.claimed.length === 0 &&
        claims[i]!.newOffsets.length > 0 &&
        r.next !== claims[i]!.newStart,
    );
    const wakes = owned.map((o) => o.state.nextWakeAt).filter((w): w is number => w !== null);
    // Where each partition stands now (a fenced claim says nothing: keep what the state said).
    const byTp = new Map<TopicPartition, number>();
    results.forEach((r, i) => {
      if (!r.fenced) byTp.set(claims[i]!.tp, r.next);
    });
    return {
      records,
      raced,
      // Nothing from the partitions read while others were left unread: the next attempt reads all.
      partial: partial || (unread && records.length === 0),
      wakeAt: wakes.length > 0 ? Math.max(Date.now() + 10, Math.min(...wakes)) : null,
      positions: owned.map((o) => ({
        topic: o.tp.topic,
        partition: o.tp.partition,
        after: byTp.get(o.tp) ?? o.state.next ?? 0,
      })),
    };
  }

  /** Gives back records a client never received: due again now, attempt not spent. */
  async release(
    session: SessionConfig,
    claimed: ReadonlyArray<{
      tp: TopicPartition;
      refs: ReadonlyArray<{ offset: number; attempt: number }>;
    }>,
  ): Promise<void> {
    if (session.autoCommit || claimed.length === 0) return;
    const n = await this.#deps.ledger.unclaim(session.group, session.id, claimed);
    if (n > 0) this.#deps.onReturned?.(n);
    await this.#deps.ledger.wakePartitions(
      session.group,
      claimed.map((c) => ({ tp: c.tp, count: c.refs.length })),
      0,
    );
  }

  /**
   * Partitions this attempt may read, with their state (one round trip, leases
   * included). Shared mode and assignments read them in a random order only
   * until they offer enough records for the poll (unless `full`).
   */
  async #owned(
    session: SessionConfig,
    subscription: { manual: boolean; partitions: TopicPartition[] },
    live: number,
    maxDue: number,
    preread: Preread | null,
    full: boolean,
  ): Promise<{ owned: Owned[]; partial: boolean }> {
    const { ledger, positions } = this.#deps;
    const tps = subscription.partitions;
    if (tps.length === 0) return { owned: [], partial: false };
    const ordered = !subscription.manual && session.mode === 'ordered';
    if (!ordered) {
      const order =
        preread && !full ? preread.tps : rotate(tps, Math.floor(Math.random() * tps.length));
      const read = (): Promise<Array<PartitionState | null>> =>
        ledger.scan(
          session.group,
          order,
          Date.now(),
          maxDue,
          session.maxAttempts,
          full ? null : this.#enough(order, maxDue, session.autoCommit),
        );
      let states = preread && !full ? preread.states : await read();
      const uninitialised = order.filter((_, i) => states[i] && states[i]!.next === null);
      if (uninitialised.length > 0) {
        await positions.initialise(session, uninitialised);
        states = await read();
      }
      const owned: Owned[] = [];
      order.forEach((tp, i) => {
        const state = states[i];
        if (state) owned.push({ tp, lease: null, state });
      });
      return { owned, partial: owned.length < order.length };
    }
    const read = async (): Promise<
      [Array<{ tp: TopicPartition; epoch: number }>, PartitionState[]]
    > => {
      const [leases, states] = await Promise.all([
        ledger.leases(
          session.group,
          tps,
          session.id,
          session.leaseTimeoutMs,
          Math.ceil(tps.length / Math.max(1, live)),
        ),
        ledger.states(session.group, tps, Date.now(), maxDue, session.maxAttempts),
      ]);
      if (leases.released > 0) await ledger.wake(session.group);
      if (leases.moved > 0) this.#deps.onLeaseMoves?.(leases.moved);
      return [leases.held, states];
    };
    let [held, states] = await read();
    const uninitialised = tps.filter((_, i) => states[i]!.next === null);
    if (uninitialised.length > 0) {
      await positions.initialise(session, uninitialised);
      [held, states] = await read();
    }
    const index = new Map(tps.map((tp, i) => [tp, i]));
    return {
      owned: held.map((h) => ({
        tp: h.tp,
        lease: { owner: session.id, epoch: h.epoch },
        state: states[index.get(h.tp)!]!,
      })),
      partial: false,
    };
  }

  /** When a partition scan may stop: the records wanted, the window, the known high watermarks. */
  #enough(
    order: readonly TopicPartition[],
    want: number,
    autoCommit: boolean,
  ): { want: number; window: number; highs: Array<number | undefined> } {
    return {
      want,
      window: autoCommit ? 0 : this.#deps.window,
      highs: order.map((tp) => this.#deps.tail.high(tp.topic, tp.partition, 1000)),
    };
  }

  /** Dead records go to the dead-letter topic in the background: never in this poll's way. */
  #buryDead(session: SessionConfig, owned: readonly Owned[]): void {
    for (const { tp, state } of owned) {
      if (state.dead === 0) continue;
      void this.#deps.deadLetter
        .buryDue(session.group, tp, DeadLetterWriter.topicFor(tp.topic, session.deadLetterTopic))
        .then((n) => (n > 0 ? this.#deps.committer.commit(session.group, [tp]) : 0))
        .catch((err: unknown) =>
          this.#deps.logger.warn({ err, group: session.group, ...tp }, 'dead-lettering failed'),
        );
    }
  }

  /** Retry payloads; offsets Kafka no longer has are resolved as skipped (I4). */
  async #retryPayloads(
    group: string,
    tp: TopicPartition,
    offsets: readonly number[],
  ): Promise<Map<number, FetchedRecord>> {
    const { fetcher, metadataClient, kafkaTimeoutMs, ledger } = this.#deps;
    const { records, gone } = await readPayloads(
      fetcher,
      metadataClient,
      kafkaTimeoutMs,
      tp,
      offsets,
    );
    if (gone.length > 0) {
      const n = await ledger.skip(group, tp, gone, 'gone from Kafka');
      if (n > 0) {
        this.#deps.onSkipped?.(tp.topic, 'gone', n);
        this.#deps.logger.warn(
          { group, ...tp, offsets: gone },
          'records Kafka no longer has were skipped',
        );
        await this.#deps.committer.commit(group, [tp]).catch(() => undefined);
      }
    }
    return records;
  }

  /**
   * New records from `next`, only when Kafka has some (idle polls cost no
   * fetch), asking for no more than the log holds, so the read returns as soon
   * as they arrived instead of waiting out a timeout, and never past the poll's deadline.
   */
  async #fresh(
    tp: TopicPartition,
    next: number,
    max: number,
    deadline: number,
  ): Promise<FetchedRecord[]> {
    const { tail, metadataClient, kafkaTimeoutMs, fetcher } = this.#deps;
    let high = tail.high(tp.topic, tp.partition, 1000);
    if (high === undefined) {
      high = (await metadataClient.watermarks(tp.topic, tp.partition, kafkaTimeoutMs)).high;
      tail.observe(tp.topic, tp.partition, high);
    }
    if (high <= next) return [];
    const waitMs = Math.max(1, Math.min(FETCH_WAIT_MS, deadline - Date.now()));
    return fetcher.read(tp.topic, tp.partition, next, Math.min(max, high - next), waitMs);
  }
}

function sameTps(a: readonly TopicPartition[], b: readonly TopicPartition[]): boolean {
  return (
    a.length === b.length &&
    a.every((tp, i) => tp.topic === b[i]!.topic && tp.partition === b[i]!.partition)
  );
}

function groupInUse(group: string): GatewayError {
  return new GatewayError(
    'KGW_GROUP_IN_USE',
    `group '${group}' has native Kafka consumers; the gateway does not serve it alongside them`,
  );
}

function key(tp: TopicPartition, offset: number): string {
  return `${tp.topic}:${tp.partition}:${offset}`;
}

function rotate<T>(items: readonly T[], by: number): T[] {
  return [...items.slice(by), ...items.slice(0, by)];
}
