import { randomUUID } from 'node:crypto';
import { GatewayError, isGatewayError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import type { CommitPoint, PartitionLedger, TopicPartition } from '../store/partition-ledger.js';
import type { SessionStore } from '../store/session-store.js';
import { encodeOffsetMap } from './offset-map.js';

/** What the committer needs of Kafka: offset commits with metadata, outside the group. */
export interface OffsetCommitClient {
  commit(
    group: string,
    entries: ReadonlyArray<TopicPartition & { offset: number; metadata: string }>,
  ): Promise<void>;
}

export interface GroupCommitterDeps {
  readonly ledger: PartitionLedger;
  readonly kafka: OffsetCommitClient;
  readonly sessions: SessionStore;
  readonly logger: Logger;
  /** Bound on one commit: waiting for the group's lock plus Kafka's answer. */
  readonly timeoutMs: number;
  /** Kafka OffsetCommit requests sent, and partitions in them. */
  readonly onCommit?: (partitions: number) => void;
}

interface Pending {
  readonly tps: Map<string, TopicPartition>;
  waiters: Array<{ resolve: (n: number) => void; reject: (err: unknown) => void }>;
  running: boolean;
}

/**
 * Moves a group's Kafka committed offsets to the ledger's commit points
 * (lowest unresolved offset + the offset map of what is resolved above it).
 * Group commit: calls that arrive while a commit of the group runs share the
 * next one, so 200 concurrent ackers cost a handful of OffsetCommits. Across
 * gateways, a lock in Redis serialises the group's commits and each is read
 * under it, so Kafka's committed offset only moves forward (I3). No polling
 * loop: the coordinator client answers when Kafka does.
 */
export class GroupCommitter {
  readonly #deps: GroupCommitterDeps;
  readonly #groups = new Map<string, Pending>();
  /** Partitions of acks answered from Redis, waiting for their batched commit, by group. */
  readonly #soon = new Map<string, { tps: Map<string, TopicPartition>; timer: NodeJS.Timeout }>();

  constructor(deps: GroupCommitterDeps) {
    this.#deps = deps;
  }

  /** Resolves once Kafka holds the commit points of these partitions as of this call; returns partitions written. */
  commit(group: string, tps: readonly TopicPartition[]): Promise<number> {
    if (tps.length === 0) return Promise.resolve(0);
    let pending = this.#groups.get(group);
    if (!pending) {
      pending = { tps: new Map(), waiters: [], running: false };
      this.#groups.set(group, pending);
    }
    for (const tp of tps) pending.tps.set(`${tp.topic}:${tp.partition}`, tp);
    const done = new Promise<number>((resolve, reject) =>
      pending.waiters.push({ resolve, reject }),
    );
    if (!pending.running) void this.#drain(group, pending);
    return done;
  }

  /**
   * Commits these partitions within REDIS_ACK_COMMIT_DELAY_MS, batched with
   * every other call for the group meanwhile (acks that answered once Redis
   * had them). A failure is logged: the group's next commit (any ack, poll
   * with auto-commit, or the worker's sweep) carries the same points.
   */
  commitSoon(group: string, tps: readonly TopicPartition[]): void {
    if (tps.length === 0) return;
    let batch = this.#soon.get(group);
    if (!batch) {
      const created = {
        tps: new Map<string, TopicPartition>(),
        timer: setTimeout(() => {
          this.#soon.delete(group);
          this.commit(group, [...created.tps.values()]).catch((err: unknown) =>
            this.#deps.logger.warn(
              { err, group },
              'batched commit failed; the next one carries it',
            ),
          );
        }, REDIS_ACK_COMMIT_DELAY_MS),
      };
      batch = created;
      this.#soon.set(group, batch);
    }
    for (const tp of tps) batch.tps.set(`${tp.topic}:${tp.partition}`, tp);
  }

  /** Sends every batched commit now (graceful shutdown); resolves when Kafka answered them. */
  async flush(): Promise<void> {
    const batches = [...this.#soon.entries()];
    this.#soon.clear();
    await Promise.allSettled(
      batches.map(([group, batch]) => {
        clearTimeout(batch.timer);
        return this.commit(group, [...batch.tps.values()]);
      }),
    );
  }

  /**
   * For a caller that reads the commit points in its own round trip (an ack
   * request): a lock token when no commit of the group runs in this process,
   * which then reserves the group until `finish`; null otherwise (use commit()).
   */
  reserve(group: string): string | null {
    let pending = this.#groups.get(group);
    if (pending?.running) return null;
    if (!pending) {
      pending = { tps: new Map(), waiters: [], running: false };
      this.#groups.set(group, pending);
    }
    pending.running = true;
    return randomUUID();
  }

  /** How long a round may hold the group's commit lock. */
  get lockTtlMs(): number {
    return this.#deps.timeoutMs + 2000;
  }

  /** Gives up a reservation whose begin never ran (its round trip failed). */
  release(group: string, token: string): void {
    const pending = this.#groups.get(group);
    void this.#deps.ledger.commitAbort(group, token).catch(() => undefined);
    if (pending) void this.#drain(group, pending);
  }

  /** Completes a reserved round with what the caller's begin read; then serves calls that queued meanwhile. */
  async finish(
    group: string,
    tps: readonly TopicPartition[],
    token: string,
    begun: { busy: number } | readonly CommitPoint[],
  ): Promise<number> {
    const pending = this.#groups.get(group)!;
    let ended: Promise<void> = Promise.resolve();
    try {
      // Lock busy (another instance commits): wait for it the usual way.
      const round = Array.isArray(begun)
        ? await this.#complete(group, tps, token, begun as readonly CommitPoint[])
        : await this.#round(group, tps);
      ended = round.ended;
      return round.written;
    } finally {
      // The next round of the group starts once this one has recorded its commit.
      void ended.then(() => this.#drain(group, pending));
    }
  }

  async #drain(group: string, pending: Pending): Promise<void> {
    pending.running = true;
    while (pending.waiters.length > 0) {
      const tps = [...pending.tps.values()];
      const waiters = pending.waiters;
      pending.tps.clear();
      pending.waiters = [];
      try {
        const { written, ended } = await this.#round(group, tps);
        for (const w of waiters) w.resolve(written);
        await ended;
      } catch (err) {
        for (const w of waiters) w.reject(err);
      }
    }
    pending.running = false;
    this.#groups.delete(group);
  }

  async #round(group: string, tps: readonly TopicPartition[]): Promise<Round> {
    const { ledger, timeoutMs } = this.#deps;
    const token = randomUUID();
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const begun = await ledger.commitBegin(group, tps, token, this.lockTtlMs);
      if (Array.isArray(begun)) return this.#complete(group, tps, token, begun);
      if (Date.now() + 5 > deadline) {
        throw new GatewayError(
          'KGW_TIMEOUT',
          `committing offsets of group '${group}' timed out waiting for another instance's commit`,
        );
      }
      await sleep(Math.min((begun as { busy: number }).busy, 5 + Math.random() * 10));
    }
  }

  /**
   * With the lock held and the points read: one OffsetCommit for what changed.
   * Resolves once Kafka has it; recording it in Redis (and releasing the lock)
   * is `ended`, off the caller's path: the group's next round here waits for it,
   * another instance's waits for the lock, and if it fails the lock runs out
   * and the next round writes the same points again (Kafka's offset does not move).
   */
  async #complete(
    group: string,
    tps: readonly TopicPartition[],
    token: string,
    points: readonly CommitPoint[],
  ): Promise<Round> {
    const { ledger, kafka } = this.#deps;
    const entries: Array<TopicPartition & { offset: number; metadata: string }> = [];
    points.forEach((p, i) => {
      if (p.lowest < 0) return; // not initialised
      const metadata = encodeOffsetMap(p.lowest, p.next, p.unresolved);
      if (p.lowest === p.committed && metadata === p.metadata) return; // Kafka has it already
      if (p.lowest < p.committed) {
        // Only a Redis that lost writes can say so: never move Kafka backward.
        this.#deps.logger.warn(
          { group, ...tps[i]!, lowest: p.lowest, committed: p.committed },
          'commit point below the committed offset; not committing it',
        );
        return;
      }
      entries.push({ ...tps[i]!, offset: p.lowest, metadata });
    });
    if (entries.length === 0)
      return { written: 0, ended: this.#quietly(ledger.commitAbort(group, token)) };
    try {
      await kafka.commit(group, entries);
    } catch (err) {
      await ledger.commitAbort(group, token).catch(() => undefined);
      // Native consumers joined: stop serving the group so records are not consumed twice.
      if (isGatewayError(err) && err.code === 'KGW_GROUP_IN_USE')
        await this.#deps.sessions.markGroupInUse(group, 60_000);
      throw err;
    }
    this.#deps.onCommit?.(entries.length);
    return {
      written: entries.length,
      ended: this.#quietly(ledger.commitEnd(group, token, entries)),
    };
  }

  #quietly(done: Promise<unknown>): Promise<void> {
    return done.then(
      () => undefined,
      (err: unknown) =>
        this.#deps.logger.debug({ err }, 'recording a commit in Redis failed; its lock runs out'),
    );
  }
}

/** Longest an ack answered from Redis waits for its Kafka commit (batched per group). */
export const REDIS_ACK_COMMIT_DELAY_MS = 100;

/** A commit round: partitions written to Kafka, and the Redis bookkeeping still running. */
interface Round {
  readonly written: number;
  readonly ended: Promise<void>;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
