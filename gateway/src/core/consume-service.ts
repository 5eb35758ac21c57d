import { GatewayError } from '../errors.js';
import type { GroupClients } from '../kafka/group-clients.js';
import type { KafkaMetadataClient } from '../kafka/metadata-client.js';
import type { FetchedRecord, RecordFetcher } from '../kafka/record-fetcher.js';
import type { TopicMetadataCache } from '../kafka/topic-metadata-cache.js';
import type { Logger } from '../observability/logger.js';
import type {
  PartitionStore,
  PartitionState,
  TopicPartition,
  ClaimRequest,
} from '../store/partition-store.js';
import type { SessionConfig, SessionStore } from '../store/session-store.js';
import type { WakeChannel } from '../store/wake-channel.js';
import type { DeliveredRecord, PollOptions, RecordRef } from './consume-types.js';
import { DeadLetterWriter } from './dead-letter.js';
import type { OffsetCommitter } from './offset-committer.js';
import type { SessionService } from './session-service.js';
import type { TailWatcher } from './tail-watcher.js';

export interface ConsumeServiceDeps {
  readonly sessions: SessionStore;
  readonly sessionService: SessionService;
  readonly partitions: PartitionStore;
  readonly fetcher: RecordFetcher;
  readonly groupClients: GroupClients;
  readonly committer: OffsetCommitter;
  readonly metadata: TopicMetadataCache;
  readonly metadataClient: KafkaMetadataClient;
  readonly wake: WakeChannel;
  readonly tail: TailWatcher;
  readonly deadLetter: DeadLetterWriter;
  readonly logger: Logger;
  /** Records of one partition in flight at once; a full window hands out nothing more. */
  readonly maxInFlightPerPartition: number;
  readonly kafkaTimeoutMs: number;
  /** Records handed out on a topic, with the delivery attempt of each. */
  readonly onDelivered?: (topic: string, attempts: readonly number[]) => void;
  /** Records acked on a topic, with how long each was out, in seconds. */
  readonly onAcked?: (topic: string, ackSeconds: readonly number[]) => void;
  readonly onLeaseMoves?: (moved: number) => void;
  readonly onNacked?: (topic: string, records: number) => void;
}

interface Owned {
  readonly tp: TopicPartition;
  readonly lease: { owner: string; epoch: number } | null;
}

/** How long a read waits for records Kafka already reported (the first one is usually there at once). */
const FETCH_WAIT_MS = 200;

/** Long-poll, ack, nack and commit for consumer sessions whose state lives in Redis. */
export class ConsumeService {
  readonly #deps: ConsumeServiceDeps;
  #closing = false;
  readonly #waiting = new Set<() => void>();

  constructor(deps: ConsumeServiceDeps) {
    this.#deps = deps;
  }

  /** Long-polls: answers as soon as records are claimed, or with none at the timeout. */
  async poll(
    group: string,
    id: string,
    options: PollOptions,
    /** The session when the caller already read it (saves a Redis round trip). */
    known?: SessionConfig,
  ): Promise<DeliveredRecord[]> {
    const session = known ?? (await this.#deps.sessionService.get(group, id));
    if (await this.#deps.sessions.groupInUse(group)) {
      throw new GatewayError(
        'KGW_GROUP_IN_USE',
        `group '${group}' has native Kafka consumers; the gateway does not serve it alongside them`,
      );
    }
    const deadline = Date.now() + options.timeoutMs;
    for (;;) {
      const { records, wakeAt, positions } = await this.#attempt(session, options);
      if (records.length > 0 || Date.now() >= deadline || this.#closing) return records;
      await this.#wait(session.group, positions, Math.min(wakeAt ?? deadline, deadline));
    }
  }

  /** Acks records this session holds; returns how many counted and how many were fenced. */
  async ack(
    group: string,
    id: string,
    refs: readonly RecordRef[],
  ): Promise<{ acked: number; fenced: number }> {
    const session = await this.#deps.sessionService.get(group, id);
    let acked = 0;
    let fenced = 0;
    const touched: TopicPartition[] = [];
    for (const [tp, entries] of byPartition(refs)) {
      const result = await this.#deps.partitions.ack(
        group,
        tp,
        id,
        entries.map((r) => ({ offset: r.offset, delivery: r.attempt ?? 0 })),
      );
      acked += result.acked;
      fenced += result.fenced;
      touched.push(tp);
      if (result.acked > 0)
        this.#deps.onAcked?.(tp.topic, ackSeconds(result.deadlines, session.ackTimeoutMs));
    }
    await this.#deps.committer.commit(group, touched);
    if (acked > 0) await this.#deps.partitions.wake(group);
    return { acked, fenced };
  }

  /**
   * Confluent commit: each ref names the last record processed on its
   * partition; every record this session holds there up to it is acked. No
   * refs: everything this session holds is acked.
   */
  async commit(group: string, id: string, refs: readonly RecordRef[]): Promise<{ acked: number }> {
    const session = await this.#deps.sessionService.get(group, id);
    const { partitions, committer } = this.#deps;
    const targets =
      refs.length > 0
        ? refs
        : (await partitions.partitions(group)).map((tp) => ({
            ...tp,
            offset: Number.MAX_SAFE_INTEGER,
          }));
    let acked = 0;
    const touched: TopicPartition[] = [];
    for (const ref of targets) {
      const tp = { topic: ref.topic, partition: ref.partition };
      const result = await partitions.ack(group, tp, id, [], ref.offset);
      acked += result.acked;
      touched.push(tp);
      if (result.acked > 0)
        this.#deps.onAcked?.(tp.topic, ackSeconds(result.deadlines, session.ackTimeoutMs));
    }
    await committer.commit(group, touched);
    if (acked > 0) await partitions.wake(group);
    return { acked };
  }

  /** Makes held records deliverable again after delayMs, each with its delivery count kept. */
  async nack(
    group: string,
    id: string,
    refs: readonly RecordRef[],
    delayMs: number,
    error: string,
  ): Promise<{ nacked: number; fenced: number }> {
    await this.#deps.sessionService.get(group, id);
    let nacked = 0;
    let fenced = 0;
    const dueAt = Date.now() + delayMs;
    for (const [tp, entries] of byPartition(refs)) {
      const result = await this.#deps.partitions.nack(
        group,
        tp,
        id,
        entries.map((r) => ({ offset: r.offset, delivery: r.attempt ?? 0 })),
        dueAt,
        error,
      );
      nacked += result.nacked;
      fenced += result.fenced;
      if (result.nacked > 0) this.#deps.onNacked?.(tp.topic, result.nacked);
    }
    if (nacked > 0) await this.#deps.partitions.wake(group);
    return { nacked, fenced };
  }

  /** Kafka's committed offsets for the group, unchanged. */
  async committed(
    group: string,
    id: string,
    tps: readonly TopicPartition[],
  ): Promise<Array<TopicPartition & { offset: number }>> {
    await this.#deps.sessionService.get(group, id);
    return this.#deps.groupClients.committed(group, tps);
  }

  /** Seeks: the next records delivered on these partitions start at the given offsets. */
  async seek(
    group: string,
    id: string,
    positions: ReadonlyArray<TopicPartition & { offset: number }>,
  ): Promise<void> {
    await this.#deps.sessionService.get(group, id);
    for (const p of positions) await this.#deps.partitions.seek(group, p, p.offset);
    await this.#deps.partitions.wake(group);
  }

  async seekTo(
    group: string,
    id: string,
    tps: readonly TopicPartition[],
    where: 'beginning' | 'end',
  ): Promise<void> {
    const positions = await Promise.all(
      tps.map(async (tp) => {
        const marks = await this.#deps.metadataClient.watermarks(
          tp.topic,
          tp.partition,
          this.#deps.kafkaTimeoutMs,
        );
        return { ...tp, offset: where === 'beginning' ? marks.low : marks.high };
      }),
    );
    await this.seek(group, id, positions);
  }

  /** Answers every waiting long-poll now (with what it has: nothing) for a graceful shutdown. */
  close(): void {
    this.#closing = true;
    for (const wake of [...this.#waiting]) wake();
  }

  get waiting(): number {
    return this.#waiting.size;
  }

  async #attempt(
    session: SessionConfig,
    options: PollOptions,
  ): Promise<{
    records: DeliveredRecord[];
    wakeAt: number | null;
    positions: Array<TopicPartition & { after: number }>;
  }> {
    const { partitions } = this.#deps;
    const now = Date.now();
    const owned = await this.#owned(session);
    if (owned.length === 0) return { records: [], wakeAt: null, positions: [] };

    let states = await partitions.states(
      session.group,
      owned.map((o) => o.tp),
      now,
      options.maxRecords,
      session.maxAttempts,
    );
    const uninitialised = owned.filter((_, i) => states[i]!.next === null);
    if (uninitialised.length > 0) {
      await this.#initialise(
        session,
        uninitialised.map((o) => o.tp),
      );
      states = await partitions.states(
        session.group,
        owned.map((o) => o.tp),
        now,
        options.maxRecords,
        session.maxAttempts,
      );
    }
    await this.#deadLetterDue(session, owned, states);

    // Start at a random partition so no partition starves under max_records.
    const order = rotate(
      owned.map((o, i) => ({ owned: o, state: states[i]! })),
      Math.floor(Math.random() * owned.length),
    );
    let budget = options.maxRecords;
    let bytes = options.maxBytes;
    const claims: ClaimRequest[] = [];
    const payloads = new Map<string, FetchedRecord>();
    const deadline = now + session.ackTimeoutMs;
    for (const { owned: o, state } of order) {
      if (budget <= 0 || bytes <= 0) break;
      const room = session.autoCommit
        ? budget
        : Math.min(budget, this.#deps.maxInFlightPerPartition - state.inFlight);
      if (room <= 0 || state.next === null) continue;
      const retries = state.due.slice(0, room).map((d) => d.offset);
      const retryRecords =
        retries.length > 0
          ? await this.#deps.fetcher.readOffsets(o.tp.topic, o.tp.partition, retries)
          : new Map<number, FetchedRecord>();
      const retryOffsets: number[] = [];
      for (const offset of retries) {
        const r = retryRecords.get(offset);
        if (!r || bytes <= 0) continue;
        retryOffsets.push(offset);
        payloads.set(key(o.tp, offset), r);
        bytes -= r.size;
      }
      const left = room - retryOffsets.length;
      const fresh = left > 0 && bytes > 0 ? await this.#freshRecords(o.tp, state.next, left) : [];
      const newOffsets: number[] = [];
      for (const r of fresh) {
        if (bytes <= 0 && newOffsets.length > 0) break;
        newOffsets.push(r.offset);
        payloads.set(key(o.tp, r.offset), r);
        bytes -= r.size;
      }
      budget -= retryOffsets.length + newOffsets.length;
      if (retryOffsets.length === 0 && newOffsets.length === 0) continue;
      claims.push({
        tp: o.tp,
        holder: session.id,
        lease: o.lease,
        deadline,
        autoCommit: session.autoCommit,
        retryOffsets,
        newStart: state.next,
        newOffsets,
        newNext: newOffsets.length > 0 ? newOffsets[newOffsets.length - 1]! + 1 : state.next,
      });
    }

    const results = await partitions.claim(session.group, claims);
    const records: DeliveredRecord[] = [];
    results.forEach((result, i) => {
      const claim = claims[i]!;
      for (const c of result.claimed) {
        const record = payloads.get(key(claim.tp, c.offset));
        if (record) records.push({ record, attempt: c.delivery });
      }
      if (result.claimed.length > 0) {
        this.#deps.onDelivered?.(
          claim.tp.topic,
          result.claimed.map((c) => c.delivery),
        );
      }
    });
    if (session.autoCommit && claims.length > 0) {
      await this.#deps.committer
        .commit(
          session.group,
          claims.map((c) => c.tp),
        )
        .catch((err: unknown) => {
          this.#deps.logger.warn(
            { err, group: session.group },
            'auto-commit to Kafka failed; the worker retries',
          );
        });
    }
    const wakes = states.map((s) => s.nextWakeAt).filter((w): w is number => w !== null);
    return {
      records,
      wakeAt: wakes.length > 0 ? Math.max(Date.now() + 10, Math.min(...wakes)) : null,
      positions: owned.map((o, i) => ({ ...o.tp, after: states[i]!.next ?? 0 })),
    };
  }

  /**
   * New records from `next`, only when Kafka has some (idle polls cost no
   * fetch), asking for no more than the log holds, so the read returns as soon
   * as they arrived instead of waiting out a timeout.
   */
  async #freshRecords(tp: TopicPartition, next: number, max: number): Promise<FetchedRecord[]> {
    let high = this.#deps.tail.high(tp.topic, tp.partition, 1000);
    if (high === undefined || high <= next) {
      // Unknown or seemingly nothing new: ask Kafka (cached for a second by the watcher).
      if (high === undefined) {
        high = (
          await this.#deps.metadataClient.watermarks(
            tp.topic,
            tp.partition,
            this.#deps.kafkaTimeoutMs,
          )
        ).high;
        this.#deps.tail.observe(tp.topic, tp.partition, high);
      }
      if (high <= next) return [];
    }
    return this.#deps.fetcher.read(
      tp.topic,
      tp.partition,
      next,
      Math.min(max, high - next),
      FETCH_WAIT_MS,
    );
  }

  async #owned(session: SessionConfig): Promise<Owned[]> {
    const { sessionService, partitions, sessions } = this.#deps;
    const subscription = await sessionService.partitionsOf(session);
    // Marks the session alive (once per attempt) and counts the live ones for the fair share.
    const live = await sessions.touch(session.group, session.id, session.leaseTimeoutMs);
    if (subscription.manual || session.mode === 'shared') {
      return subscription.partitions.map((tp) => ({ tp, lease: null }));
    }
    const share = Math.ceil(subscription.partitions.length / Math.max(1, live));
    const leases = await partitions.leases(
      session.group,
      subscription.partitions,
      session.id,
      session.leaseTimeoutMs,
      share,
    );
    if (leases.released > 0) await partitions.wake(session.group);
    if (leases.moved > 0) this.#deps.onLeaseMoves?.(leases.moved);
    return leases.held.map((h) => ({ tp: h.tp, lease: { owner: session.id, epoch: h.epoch } }));
  }

  /** First use of a partition by the group: Kafka's committed offset, else auto.offset.reset. */
  async #initialise(session: SessionConfig, tps: readonly TopicPartition[]): Promise<void> {
    const committed = await this.#deps.groupClients.committed(session.group, tps);
    await Promise.all(
      tps.map(async (tp, i) => {
        let start = committed[i]?.offset ?? -1;
        if (start < 0) {
          const marks = await this.#deps.metadataClient.watermarks(
            tp.topic,
            tp.partition,
            this.#deps.kafkaTimeoutMs,
          );
          start = session.autoOffsetReset === 'earliest' ? marks.low : marks.high;
        }
        await this.#deps.partitions.init(session.group, tp, start);
      }),
    );
  }

  async #deadLetterDue(
    session: SessionConfig,
    owned: readonly Owned[],
    states: readonly PartitionState[],
  ): Promise<void> {
    const touched: TopicPartition[] = [];
    for (let i = 0; i < owned.length; i += 1) {
      const dead = states[i]!.dead;
      if (dead.length === 0) continue;
      const tp = owned[i]!.tp;
      await this.#deps.deadLetter.write(
        session.group,
        tp,
        dead,
        DeadLetterWriter.topicFor(tp.topic, session.deadLetterTopic),
      );
      touched.push(tp);
    }
    await this.#deps.committer.commit(session.group, touched);
  }

  async #wait(
    group: string,
    positions: Array<TopicPartition & { after: number }>,
    until: number,
  ): Promise<void> {
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        stopWake();
        stopTail();
        this.#waiting.delete(done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, until - Date.now()));
      const stopWake = this.#deps.wake.listen(group, done);
      const stopTail = this.#deps.tail.watch(positions, done);
      this.#waiting.add(done);
    });
  }
}

function key(tp: TopicPartition, offset: number): string {
  return `${tp.topic}:${tp.partition}:${offset}`;
}

function rotate<T>(items: readonly T[], by: number): T[] {
  return [...items.slice(by), ...items.slice(0, by)];
}

function byPartition(refs: readonly RecordRef[]): Map<TopicPartition, RecordRef[]> {
  const groups = new Map<string, { tp: TopicPartition; refs: RecordRef[] }>();
  for (const r of refs) {
    const k = `${r.topic}:${r.partition}`;
    let g = groups.get(k);
    if (!g) {
      g = { tp: { topic: r.topic, partition: r.partition }, refs: [] };
      groups.set(k, g);
    }
    g.refs.push(r);
  }
  return new Map([...groups.values()].map((g) => [g.tp, g.refs]));
}

/** Seconds each acked record was out: now minus (ack deadline minus ack timeout). */
function ackSeconds(deadlines: readonly number[], ackTimeoutMs: number): number[] {
  const now = Date.now();
  return deadlines.map((deadline) => Math.max(0, now - (deadline - ackTimeoutMs)) / 1000);
}
