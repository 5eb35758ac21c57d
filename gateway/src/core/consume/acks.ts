import type {
  PartitionDeliveries,
  PartitionLedger,
  TopicPartition,
} from '../../store/partition-ledger.js';
import { GatewayError, isGatewayError } from '../../errors.js';
import type { SessionConfig } from '../../store/session-store.js';
import type { RecordRef } from '../consume-types.js';
import type { GroupCommitter } from '../group-committer.js';

export interface AcksDeps {
  readonly ledger: PartitionLedger;
  readonly committer: GroupCommitter;
  readonly window: number;
  /** How far above the lowest unresolved offset a commit may move next (the offset map's bound). */
  readonly maxSpan: number;
  /** Records acked on a topic, with how long each was out, in seconds. */
  readonly onAcked?: (topic: string, ackSeconds: readonly number[]) => void;
  readonly onNacked?: (topic: string, records: number) => void;
  /** Answers that named a delivery no longer current (I1). */
  readonly onFenced?: (operation: 'ack' | 'nack' | 'extend', count: number) => void;
}

/**
 * Answers to deliveries: ack, Confluent commit, nack, extend. Each counts only
 * for the current delivery (holder + attempt, I1). An ack answers once Kafka
 * holds the new commit point (the read workflow's "acknowledge once offsets
 * are committed"), through the group committer, so concurrent acks share one
 * OffsetCommit.
 */
export class Acks {
  readonly #deps: AcksDeps;
  /** Sessions whose acks answer from Redis (their settings never change while they live). */
  readonly #fromRedis = new Set<string>();

  constructor(deps: AcksDeps) {
    this.#deps = deps;
  }

  async ack(
    group: string,
    id: string,
    refs: readonly RecordRef[],
  ): Promise<{ acked: number; fenced: number }> {
    return this.#resolve(group, id, byPartition(refs));
  }

  /**
   * Confluent commit: each ref names the last record processed on its
   * partition; every record this session holds there up to it is acked, and
   * what nobody holds up to it (waiting retries, records never handed out) is
   * resolved too, so Kafka's committed offset moves past the named one unless
   * another session still holds a record below it. No refs: everything this
   * session holds is acked.
   */
  async commit(group: string, id: string, refs: readonly RecordRef[]): Promise<{ acked: number }> {
    const items: PartitionDeliveries[] =
      refs.length > 0
        ? refs.map((r) => ({
            tp: { topic: r.topic, partition: r.partition },
            refs: [],
            upTo: r.offset,
            commitTo: true,
          }))
        : (await this.#deps.ledger.partitions(group)).map((tp) => ({
            tp,
            refs: [],
            upTo: Number.MAX_SAFE_INTEGER,
          }));
    const { acked } = await this.#resolve(group, id, items);
    return { acked };
  }

  async nack(
    session: SessionConfig,
    refs: readonly RecordRef[],
    delayMs: number,
    error: string,
  ): Promise<{ nacked: number; fenced: number }> {
    const items = byPartition(refs);
    const dueAt = Date.now() + delayMs;
    const results = await this.#deps.ledger.nack(session.group, session.id, items, {
      dueAt,
      error,
      maxAttempts: session.maxAttempts,
    });
    let nacked = 0;
    let fenced = 0;
    const back: Array<{ tp: TopicPartition; count: number }> = [];
    results.forEach((r, i) => {
      nacked += r.nacked;
      fenced += r.fenced;
      if (r.nacked > 0) {
        this.#deps.onNacked?.(items[i]!.tp.topic, r.nacked);
        if (r.nacked > r.dead) back.push({ tp: items[i]!.tp, count: r.nacked - r.dead });
      }
    });
    if (fenced > 0) this.#deps.onFenced?.('nack', fenced);
    // Polls waiting on these partitions look again when the records are due (dead ones: never).
    await this.#deps.ledger.wakePartitions(session.group, back, dueAt);
    return { nacked, fenced };
  }

  /** Moves the ack deadline of held records to now + extendMs. */
  async extend(
    session: SessionConfig,
    refs: readonly RecordRef[],
    extendMs: number,
  ): Promise<{ extended: number; fenced: number }> {
    const results = await this.#deps.ledger.extend(
      session.group,
      session.id,
      byPartition(refs),
      Date.now() + extendMs,
    );
    const extended = results.reduce((sum, r) => sum + r.extended, 0);
    const fenced = results.reduce((sum, r) => sum + r.fenced, 0);
    if (fenced > 0) this.#deps.onFenced?.('extend', fenced);
    return { extended, fenced };
  }

  /**
   * Acks in the ledger now and hands back the Kafka commit still running:
   * for an ack folded into a poll, whose answer waits for both.
   */
  async ackRecorded(
    group: string,
    id: string,
    refs: readonly RecordRef[],
  ): Promise<{ acked: number; fenced: number; committed: Promise<void> }> {
    return this.#record(group, id, byPartition(refs));
  }

  async #resolve(
    group: string,
    id: string,
    items: readonly PartitionDeliveries[],
  ): Promise<{ acked: number; fenced: number }> {
    const { acked, fenced, committed } = await this.#record(group, id, items);
    await committed;
    return { acked, fenced };
  }

  /**
   * One Redis round trip when no commit of the group runs here: one pipeline
   * reads the session, runs the ack scripts and begins the commit (lock +
   * commit points after these acks); then Kafka's OffsetCommit (the commit's
   * end runs after the answer). Otherwise the acks join the group's next
   * commit, or, for a session whose acks answer from Redis, its batched one.
   * Resolves once the ledger has the acks, with the commit's completion (which
   * explains a failure: the acks are recorded, only Kafka's copy is late).
   */
  async #record(
    group: string,
    id: string,
    items: readonly PartitionDeliveries[],
  ): Promise<{ acked: number; fenced: number; committed: Promise<void> }> {
    const { ledger, committer, window, maxSpan } = this.#deps;
    const tps = items.map((item) => item.tp);
    const key = `${group}\u0000${id}`;
    // A session known to answer from Redis does not begin a commit inline: it batches.
    const token = tps.length > 0 && !this.#fromRedis.has(key) ? committer.reserve(group) : null;
    let reply;
    try {
      reply = await ledger.ack(
        group,
        id,
        items,
        { window, maxSpan },
        token ? { tps, token, lockTtlMs: committer.lockTtlMs } : null,
      );
    } catch (err) {
      if (token) committer.release(group, token);
      throw err;
    }
    const session = reply.session ? (JSON.parse(reply.session) as SessionConfig) : null;
    const fromRedis = session?.ackDurability === 'redis';
    if (fromRedis) {
      if (this.#fromRedis.size >= 10_000) this.#fromRedis.clear();
      this.#fromRedis.add(key);
    } else this.#fromRedis.delete(key);
    let committing: Promise<number>;
    if (token) committing = committer.finish(group, tps, token, reply.begun!);
    else if (fromRedis) {
      committer.commitSoon(group, tps);
      committing = Promise.resolve(0);
    } else committing = committer.commit(group, tps);
    if (!session) {
      await committing.catch(() => undefined);
      throw new GatewayError(
        'KGW_CONSUMER_NOT_FOUND',
        `consumer instance '${id}' not found in group '${group}'`,
      );
    }
    if (fromRedis && token) {
      // Not yet known here to answer from Redis (its first ack): the commit runs, the ack does not wait.
      void committing.catch(() => committer.commitSoon(group, tps));
      committing = Promise.resolve(0);
    }
    let acked = 0;
    let fenced = 0;
    const freed: Array<{ tp: TopicPartition; count: number }> = [];
    reply.results.forEach((r, i) => {
      acked += r.acked;
      fenced += r.fenced;
      if (r.freed) freed.push({ tp: items[i]!.tp, count: r.acked });
      if (r.acked > 0)
        this.#deps.onAcked?.(items[i]!.tp.topic, ackSeconds(r.deadlines, session.ackTimeoutMs));
    });
    if (fenced > 0 && items.some((item) => item.refs.length > 0))
      this.#deps.onFenced?.('ack', fenced);
    // Only a window that was full and has room again can give waiting polls something new.
    void ledger.wakePartitions(group, freed, 0);
    const committed = committing.then(
      () => undefined,
      (err: unknown) => {
        // The acks are in the ledger; only Kafka's copy is late. Say so, and that a retry is safe.
        const cause = isGatewayError(err)
          ? err
          : new GatewayError('KGW_KAFKA_UNAVAILABLE', 'commit failed', { cause: err });
        throw new GatewayError(
          cause.code,
          `the acks were recorded (${acked} acked, ${fenced} fenced) but committing them to Kafka did not finish (${cause.message}); the group's next commit carries them, and sending the same acks again is safe`,
          { cause: err, details: { recorded: true, acked, fenced } },
        );
      },
    );
    // Awaited by the caller; until then a failure must not count as unhandled.
    committed.catch(() => undefined);
    return { acked, fenced, committed };
  }
}

export function byPartition(refs: readonly RecordRef[]): PartitionDeliveries[] {
  const groups = new Map<
    string,
    { tp: TopicPartition; refs: Array<{ offset: number; attempt: number }> }
  >();
  for (const r of refs) {
    const k = `${r.topic}:${r.partition}`;
    let g = groups.get(k);
    if (!g) {
      g = { tp: { topic: r.topic, partition: r.partition }, refs: [] };
      groups.set(k, g);
    }
    g.refs.push({ offset: r.offset, attempt: r.attempt ?? 0 });
  }
  return [...groups.values()];
}

/** Seconds each acked record was out: now minus (ack deadline minus ack timeout). */
function ackSeconds(deadlines: readonly number[], ackTimeoutMs: number): number[] {
  const now = Date.now();
  return deadlines.map((deadline) => Math.max(0, now - (deadline - ackTimeoutMs)) / 1000);
}
