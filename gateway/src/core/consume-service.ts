import type { Access } from '../auth/access.js';
import { currentPrincipal } from '../auth/request-context.js';
import type { TopicPartition } from '../store/partition-ledger.js';
import type { SessionConfig } from '../store/session-store.js';
import { byPartition, type Acks } from './consume/acks.js';
import type { PollLoop } from './consume/poll-loop.js';
import type { Positions } from './consume/positions.js';
import type { DeliveredRecord, PollOptions, RecordRef } from './consume-types.js';
import type { SessionService } from './session-service.js';

export interface ConsumeServiceDeps {
  readonly sessionService: SessionService;
  readonly polls: PollLoop;
  readonly acks: Acks;
  readonly positions: Positions;
  /** When set, seeking a group's positions needs the commit permission on it. */
  readonly access?: Access;
}

/**
 * The consume use cases the transports call, by session name: long-poll,
 * ack, nack, extend, commit, positions. Each finds the session (404 when it
 * is gone) and hands over to the part that owns the concept.
 */
export class ConsumeService {
  readonly #deps: ConsumeServiceDeps;

  constructor(deps: ConsumeServiceDeps) {
    this.#deps = deps;
  }

  /**
   * Long-polls: answers as soon as records are claimed, or with none at the
   * timeout or abort. `check` sees the session before anything is claimed
   * (e.g. an Accept check); the session comes back for rendering.
   */
  async poll(
    group: string,
    id: string,
    options: PollOptions,
    /** Aborted when the client went away: records claimed meanwhile go back unspent. */
    signal?: AbortSignal,
    check?: (session: SessionConfig) => void,
  ): Promise<{ session: SessionConfig; records: DeliveredRecord[] }> {
    return this.#deps.polls.poll(group, id, options, signal, check);
  }

  /**
   * An ack folded into the next poll (one round trip for the record-at-a-time
   * loop): the acks and the poll's reads go to Redis together (the acks run
   * first), and the poll runs while the acks' Kafka commit does. The answer
   * waits for both: as with `POST …/acks`, a client that has the answer has
   * its acks committed. When the commit fails, the records the
   * poll claimed go back unspent and the commit's error is the answer.
   */
  async pollAfterAcks(
    group: string,
    id: string,
    acks: readonly RecordRef[],
    options: PollOptions,
    signal?: AbortSignal,
    check?: (session: SessionConfig) => void,
  ): Promise<{
    session: SessionConfig;
    records: DeliveredRecord[];
    acked: number;
    fenced: number;
  }> {
    await this.#owned(group, id);
    // The acks' pipeline is on the wire before the poll's first reads, on the same
    // connection, so Redis runs them first and the poll sees the room they free.
    // (The order saves a round trip; it is not needed for safety: a record this session
    // holds is claimable by nobody until its ack or its deadline.)
    const recorded = this.#deps.acks.ackRecorded(group, id, acks);
    const polled = this.#deps.polls.poll(group, id, options, signal, check);
    const [ack, poll] = await Promise.allSettled([recorded, polled]);
    if (ack.status === 'rejected') {
      if (poll.status === 'fulfilled')
        await this.release(group, id, poll.value.records).catch(() => undefined);
      throw ack.reason;
    }
    const { acked, fenced, committed } = ack.value;
    if (poll.status === 'rejected') {
      await committed.catch(() => undefined);
      throw poll.reason;
    }
    try {
      await committed;
    } catch (err) {
      await this.release(group, id, poll.value.records);
      throw err;
    }
    return { ...poll.value, acked, fenced };
  }

  /** Gives back delivered records the client never received (its connection closed first). */
  async release(group: string, id: string, records: readonly DeliveredRecord[]): Promise<void> {
    if (records.length === 0) return;
    const session = await this.#deps.sessionService.get(group, id);
    await this.#deps.polls.release(
      session,
      byPartition(
        records.map(({ record, attempt }) => ({
          topic: record.topic,
          partition: record.partition,
          offset: record.offset,
          attempt,
        })),
      ),
    );
  }

  async ack(
    group: string,
    id: string,
    refs: readonly RecordRef[],
  ): Promise<{ acked: number; fenced: number }> {
    await this.#owned(group, id);
    return this.#deps.acks.ack(group, id, refs);
  }

  async commit(group: string, id: string, refs: readonly RecordRef[]): Promise<{ acked: number }> {
    await this.#owned(group, id);
    // Named offsets may move the group past records never read here: Kafka must have them,
    // and the caller must be allowed to consume them.
    if (refs.length > 0) {
      await this.#deps.sessionService.requireExisting(refs);
      for (const topic of new Set(refs.map((r) => r.topic)))
        this.#deps.access?.require('consume', 'topic', topic);
    }
    return this.#deps.acks.commit(group, id, refs);
  }

  /** Owners of sessions this process has checked (sessions never change owner). */
  readonly #owners = new Map<string, string | undefined>();

  /**
   * With authentication on, only the session's creator may ack through it
   * (others get 404, as if it did not exist). One Redis read per session and
   * process; nothing when the caller is anonymous (authentication off).
   */
  async #owned(group: string, id: string): Promise<void> {
    const principal = currentPrincipal();
    if (principal.via === 'anonymous') return;
    const key = `${group}\u0000${id}`;
    if (this.#owners.has(key)) {
      const owner = this.#owners.get(key);
      if (owner === undefined || owner === principal.name) return;
    }
    const session = await this.#deps.sessionService.get(group, id); // 404 for another's
    if (this.#owners.size >= 10_000) this.#owners.clear();
    this.#owners.set(key, session.owner);
  }

  async nack(
    group: string,
    id: string,
    refs: readonly RecordRef[],
    delayMs: number,
    error: string,
  ): Promise<{ nacked: number; fenced: number }> {
    const session = await this.#deps.sessionService.get(group, id);
    return this.#deps.acks.nack(session, refs, delayMs, error);
  }

  /** Moves the ack deadline of held records (SQS ChangeMessageVisibility, share groups' renew). */
  async extend(
    group: string,
    id: string,
    refs: readonly RecordRef[],
    extendMs: number,
  ): Promise<{ extended: number; fenced: number }> {
    const session = await this.#deps.sessionService.get(group, id);
    return this.#deps.acks.extend(session, refs, extendMs);
  }

  async committed(
    group: string,
    id: string,
    tps: readonly TopicPartition[],
  ): Promise<Array<TopicPartition & { offset: number }>> {
    await this.#deps.sessionService.get(group, id);
    await this.#deps.sessionService.requireExisting(tps);
    return this.#deps.positions.committed(group, tps);
  }

  async seek(
    group: string,
    id: string,
    positions: ReadonlyArray<TopicPartition & { offset: number }>,
  ): Promise<void> {
    const session = await this.#deps.sessionService.get(group, id);
    this.#deps.access?.require('commit', 'group', group);
    await this.#deps.sessionService.requireExisting(positions);
    await this.#deps.sessionService.requireAssigned(session, positions);
    await this.#deps.positions.seek(group, positions);
  }

  async seekTo(
    group: string,
    id: string,
    tps: readonly TopicPartition[],
    where: 'beginning' | 'end',
  ): Promise<void> {
    const session = await this.#deps.sessionService.get(group, id);
    this.#deps.access?.require('commit', 'group', group);
    await this.#deps.sessionService.requireExisting(tps);
    await this.#deps.sessionService.requireAssigned(session, tps);
    await this.#deps.positions.seekTo(group, tps, where);
  }

  /** Answers every waiting long-poll now (with what it has: nothing) for a graceful shutdown. */
  close(): void {
    this.#deps.polls.close();
  }

  get waiting(): number {
    return this.#deps.polls.waiting;
  }
}
