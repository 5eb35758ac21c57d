import type { Redis } from 'ioredis';
import { consumerKeys, partitionKeyList } from './consumer-keys.js';
import { LEASES } from './lua/lease-scripts.js';
import {
  ACK,
  BURY,
  CLAIM,
  COMMIT_POINT,
  DELIVERY_INFO,
  INIT,
  MARK_COMMITTED,
  NACK,
  RELEASE_HOLDER,
  SEEK,
  STATE,
} from './lua/partition-scripts.js';
import { RedisScripts, redisError } from './redis-scripts.js';

export interface TopicPartition {
  readonly topic: string;
  readonly partition: number;
}

export interface PartitionState {
  /** Next offset never handed out; null until initialised. */
  readonly next: number | null;
  readonly inFlight: number;
  /** Earliest in-flight deadline or future retry time, or null. */
  readonly nextWakeAt: number | null;
  /** Retries due now, with how often each was delivered already. */
  readonly due: ReadonlyArray<{ offset: number; deliveries: number }>;
  /** Due records already delivered max-attempts times: bound for the dead-letter topic. */
  readonly dead: readonly number[];
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
  readonly newNext: number;
}

export interface ClaimResult {
  readonly fenced: boolean;
  readonly next: number;
  readonly claimed: ReadonlyArray<{ offset: number; delivery: number }>;
}

export interface AckEntry {
  readonly offset: number;
  /** The delivery this ack answers; 0 accepts the current one. */
  readonly delivery: number;
}

const SCRIPTS = {
  init: INIT,
  state: STATE,
  claim: CLAIM,
  ack: ACK,
  nack: NACK,
  bury: BURY,
  deliveryInfo: DELIVERY_INFO,
  commitPoint: COMMIT_POINT,
  markCommitted: MARK_COMMITTED,
  seek: SEEK,
  releaseHolder: RELEASE_HOLDER,
  leases: LEASES,
} as const;

type ScriptName = keyof typeof SCRIPTS;

function keysOf(group: string, tp: TopicPartition): string[] {
  return partitionKeyList(consumerKeys.partition(group, tp.topic, tp.partition));
}

/** Per-partition delivery state of a group: positions, in-flight records, retries, leases. */
export class PartitionStore {
  readonly #redis: Redis;
  readonly #scripts: RedisScripts<ScriptName>;

  constructor(redis: Redis) {
    this.#redis = redis;
    this.#scripts = new RedisScripts(redis, SCRIPTS);
  }

  /** Sets the starting offset unless another instance did first; returns the position. */
  async init(group: string, tp: TopicPartition, start: number): Promise<number> {
    await this.#redis
      .sadd(consumerKeys.partitions(group), `${tp.topic}:${tp.partition}`)
      .catch((err: unknown) => {
        throw redisError(err);
      });
    return Number(await this.#scripts.run('init', keysOf(group, tp), [start]));
  }

  async states(
    group: string,
    tps: readonly TopicPartition[],
    now: number,
    maxDue: number,
    maxAttempts: number,
  ): Promise<PartitionState[]> {
    const replies = await this.#scripts.batch(
      tps.map((tp) => ({
        name: 'state' as const,
        keys: keysOf(group, tp),
        args: [now, maxDue, maxAttempts],
      })),
    );
    return replies.map((reply) => parseState(reply as (string | number | null)[]));
  }

  async claim(group: string, requests: readonly ClaimRequest[]): Promise<ClaimResult[]> {
    const replies = await this.#scripts.batch(
      requests.map((r) => ({
        name: 'claim' as const,
        keys: keysOf(group, r.tp),
        args: [
          Date.now(),
          r.deadline,
          r.holder,
          r.lease?.owner ?? '',
          r.lease?.epoch ?? 0,
          r.autoCommit ? '1' : '0',
          r.newStart,
          r.newNext,
          r.retryOffsets.length,
          ...r.retryOffsets,
          ...r.newOffsets,
        ],
      })),
    );
    return replies.map((reply) => {
      const values = reply as string[];
      if (values[0] === 'fenced') return { fenced: true, next: -1, claimed: [] };
      const claimed: { offset: number; delivery: number }[] = [];
      for (let i = 1; i < values.length; i += 2)
        claimed.push({ offset: Number(values[i]), delivery: Number(values[i + 1]) });
      return { fenced: false, next: Number(values[0]), claimed };
    });
  }

  /** Acks records the holder has in flight (and, with upTo, all of its records up to that offset). */
  async ack(
    group: string,
    tp: TopicPartition,
    holder: string,
    entries: readonly AckEntry[],
    upTo: number | null = null,
  ): Promise<{ acked: number; fenced: number; lowestUnacked: number; deadlines: number[] }> {
    const reply = (await this.#scripts.run('ack', keysOf(group, tp), [
      holder,
      upTo === null ? '' : upTo,
      ...entries.flatMap((e) => [e.offset, e.delivery]),
    ])) as (number | string)[];
    return {
      acked: Number(reply[0]),
      fenced: Number(reply[1]),
      lowestUnacked: Number(reply[2]),
      deadlines: reply.slice(3).map(Number),
    };
  }

  async nack(
    group: string,
    tp: TopicPartition,
    holder: string,
    entries: readonly AckEntry[],
    dueAt: number,
    error: string,
  ): Promise<{ nacked: number; fenced: number }> {
    const reply = (await this.#scripts.run('nack', keysOf(group, tp), [
      holder,
      dueAt,
      error,
      ...entries.flatMap((e) => [e.offset, e.delivery]),
    ])) as [number, number];
    return { nacked: Number(reply[0]), fenced: Number(reply[1]) };
  }

  /** Forgets dead-lettered records (they count as acked); returns the lowest unacked offset. */
  async bury(group: string, tp: TopicPartition, offsets: readonly number[]): Promise<number> {
    return Number(await this.#scripts.run('bury', keysOf(group, tp), offsets));
  }

  async deliveryInfo(
    group: string,
    tp: TopicPartition,
    offsets: readonly number[],
  ): Promise<{ deliveries: number; lastError: string }[]> {
    const reply = (await this.#scripts.run('deliveryInfo', keysOf(group, tp), offsets)) as string[];
    return offsets.map((_, i) => ({
      deliveries: Number(reply[2 * i]),
      lastError: reply[2 * i + 1] ?? '',
    }));
  }

  /** Per partition: the lowest unacked offset (what Kafka should hold) and the last offset committed there. */
  async commitPoints(
    group: string,
    tps: readonly TopicPartition[],
  ): Promise<{ lowestUnacked: number; committed: number; inFlight: number }[]> {
    const replies = await this.#scripts.batch(
      tps.map((tp) => ({ name: 'commitPoint' as const, keys: keysOf(group, tp), args: [] })),
    );
    return replies.map((r) => {
      const [low, kc, inFlight] = r as [string, string, number];
      return { lowestUnacked: Number(low), committed: Number(kc), inFlight: Number(inFlight) };
    });
  }

  async markCommitted(group: string, tp: TopicPartition, offset: number): Promise<void> {
    await this.#scripts.run('markCommitted', keysOf(group, tp), [offset]);
  }

  async seek(group: string, tp: TopicPartition, offset: number): Promise<void> {
    await this.#redis
      .sadd(consumerKeys.partitions(group), `${tp.topic}:${tp.partition}`)
      .catch((err: unknown) => {
        throw redisError(err);
      });
    await this.#scripts.run('seek', keysOf(group, tp), [offset]);
  }

  /** A leaving session's in-flight records become due now and its leases lapse. */
  async releaseHolder(
    group: string,
    tps: readonly TopicPartition[],
    holder: string,
  ): Promise<number> {
    const now = Date.now();
    const replies = await this.#scripts.batch(
      tps.map((tp) => ({
        name: 'releaseHolder' as const,
        keys: keysOf(group, tp),
        args: [holder, now],
      })),
    );
    return replies.reduce<number>((sum, n) => sum + Number(n), 0);
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

  /** Tells long-polls of the group on every instance to look again. */
  async wake(group: string): Promise<void> {
    await this.#redis.publish(consumerKeys.wake(group), '1').catch(() => undefined);
  }
}

function parseState(reply: (string | number | null)[]): PartitionState {
  const [next, inFlight, wake, ...rest] = reply;
  const firstBar = rest.indexOf('|');
  const secondBar = rest.indexOf('|', firstBar + 1);
  const dueOffsets = rest.slice(0, firstBar);
  const deliveries = rest.slice(firstBar + 1, secondBar);
  const dead = rest.slice(secondBar + 1);
  const wakeAt = Number(wake);
  return {
    next: next === null || next === undefined ? null : Number(next),
    inFlight: Number(inFlight),
    nextWakeAt: wakeAt >= 0 ? wakeAt : null,
    due: dueOffsets.map((o, i) => ({ offset: Number(o), deliveries: Number(deliveries[i]) })),
    dead: dead.map(Number),
  };
}
