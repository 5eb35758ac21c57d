import Kafka from 'node-rdkafka';
import type { Logger } from '../observability/logger.js';
import { librdkafkaSecurity, oauthTokens, type KafkaSecurity } from './client-security.js';
import { LazyConnection } from './lazy-connection.js';
import { translateKafkaError } from './translate-error.js';
import { disconnectWithin } from './disconnect.js';
import { ByteBoundedCache } from '../util/byte-bounded-cache.js';

/** A record read from Kafka. */
export interface FetchedRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: ReadonlyArray<{ readonly name: string; readonly value: Buffer }>;
  readonly timestamp: number;
  readonly size: number;
}

export interface RecordFetcherOptions {
  readonly brokers: readonly string[];
  readonly clientId: string;
  readonly logger: Logger;
  readonly security?: KafkaSecurity;
  /** Kafka consumers shared by every session of this process. */
  readonly poolSize: number;
  /** Bytes of records kept for fan-out to several groups and for redelivery. */
  readonly cacheMaxBytes: number;
  /** KIP-392: fetch from the nearest in-sync replica in this rack. */
  readonly rack?: string;
  /** Per-broker fetch requests and received bytes since the last call (librdkafka statistics). */
  readonly onBrokerStats?: (brokerId: number, fetchRequests: number, rxBytes: number) => void;
}

interface Slot {
  readonly consumer: Kafka.KafkaConsumer;
  readonly connection: LazyConnection;
  busy: Promise<void>;
  /** Assigned partitions ("topic\0partition") and the offset librdkafka returns next for each. */
  readonly positions: Map<string, { topic: string; partition: number; offset: number }>;
  lastUsed: number;
}

/**
 * Reads records by (topic, partition, offset) through a small pool of Kafka
 * consumers that never join a group: each read assigns one partition at the
 * asked offset (or keeps reading where it stopped), so any number of sessions
 * share a fixed number of librdkafka clients. A byte-bounded cache keyed by
 * partition and offset serves groups reading the same records and
 * redeliveries without another fetch.
 */
export class RecordFetcher {
  readonly #slots: Slot[];
  readonly #cache: ByteBoundedCache<string, FetchedRecord>;
  /** Fetches in progress by their first offset, shared by concurrent reads. */
  readonly #reading = new Map<string, Promise<FetchedRecord[]>>();
  /** Per partition: one past the highest offset a fetch returned (at most MAX_FETCHED_ENDS). */
  readonly #fetchedEnd = new Map<string, number>();
  #closed = false;
  #statsPump: NodeJS.Timeout | undefined;

  constructor(options: RecordFetcherOptions) {
    this.#cache = new ByteBoundedCache(options.cacheMaxBytes);
    this.#slots = Array.from({ length: options.poolSize }, (_, i) => {
      const consumer = new Kafka.KafkaConsumer(
        {
          'metadata.broker.list': options.brokers.join(','),
          'client.id': `${options.clientId}-fetcher-${i}`,
          // Required by librdkafka; this consumer never subscribes or commits.
          'group.id': `${options.clientId}-fetcher`,
          'enable.auto.commit': false,
          'enable.auto.offset.store': false,
          // EOF lets consume(n) return as soon as the partition's end is reached.
          'enable.partition.eof': true,
          'fetch.wait.max.ms': 100,
          'queued.max.messages.kbytes': 8192,
          'socket.connection.setup.timeout.ms': 5000,
          ...librdkafkaSecurity(options.security),
          ...(options.rack ? { 'client.rack': options.rack } : {}),
          ...(options.onBrokerStats ? { 'statistics.interval.ms': 1000 } : {}),
        },
        { 'auto.offset.reset': 'earliest' },
      );
      consumer.on('event.error', (err) =>
        options.logger.warn({ err, component: 'fetcher' }, 'librdkafka error'),
      );
      if (options.onBrokerStats) consumer.on('event.stats', statsListener(options.onBrokerStats));
      return {
        consumer,
        connection: new LazyConnection(consumer, oauthTokens(options.security)),
        busy: Promise.resolve(),
        positions: new Map(),
        lastUsed: 0,
      };
    });
    if (options.onBrokerStats) this.#startStatsPump();
  }

  /**
   * librdkafka serves statistics only while a consumer polls; a consumer idle
   * for a while is polled with nothing assigned so per-broker counts keep coming.
   */
  #startStatsPump(): void {
    this.#statsPump = setInterval(() => {
      for (const slot of this.#slots) {
        if (Date.now() - slot.lastUsed < 2000 || !slot.consumer.isConnected()) continue;
        void this.#withSlot(slot, async () => {
          if (slot.positions.size > 0) {
            slot.consumer.unassign();
            slot.positions.clear();
          }
          slot.consumer.setDefaultConsumeTimeout(1);
          await new Promise<void>((resolve) => slot.consumer.consume(1, () => resolve()));
        }).catch(() => undefined);
      }
    }, 2000);
    this.#statsPump.unref();
  }

  async #withSlot<T>(slot: Slot, work: () => Promise<T>): Promise<T> {
    const previous = slot.busy;
    let release!: () => void;
    slot.busy = new Promise((resolve) => (release = resolve));
    await previous;
    try {
      return await work();
    } finally {
      slot.lastUsed = Date.now();
      release();
    }
  }

  /**
   * Up to maxRecords records of one partition from `offset` on (fewer at the
   * end of the log; a compacted log may skip offsets), waiting up to waitMs
   * for the first one.
   */
  async read(
    topic: string,
    partition: number,
    offset: number,
    maxRecords: number,
    waitMs: number,
  ): Promise<FetchedRecord[]> {
    const cached = this.#fromCache(topic, partition, offset, maxRecords);
    if (cached.length >= maxRecords) return cached;
    const from = cached.length > 0 ? cached[cached.length - 1]!.offset + 1 : offset;
    // Many polls tailing one partition ask for the same offset at once: one fetch serves them all.
    const key = cacheKey(topic, partition, from);
    let shared = this.#reading.get(key);
    if (!shared) {
      shared = this.#fetch(topic, partition, from, maxRecords - cached.length, waitMs).finally(() =>
        this.#reading.delete(key),
      );
      this.#reading.set(key, shared);
    }
    const fetched = await shared;
    return [...cached, ...fetched].slice(0, maxRecords);
  }

  /**
   * The records at exactly these offsets (for redelivery), from the cache or
   * Kafka. `gone`: offsets Kafka no longer has (a fetch from there returned
   * later offsets: compaction, or retention moved the log start past them).
   * Offsets in neither were not read in time.
   */
  async readOffsets(
    topic: string,
    partition: number,
    offsets: readonly number[],
  ): Promise<{ records: Map<number, FetchedRecord>; gone: number[] }> {
    const found = new Map<number, FetchedRecord>();
    const gone: number[] = [];
    const missing: number[] = [];
    for (const o of offsets) {
      const hit = this.#cache.get(cacheKey(topic, partition, o));
      if (hit) found.set(o, hit);
      else missing.push(o);
    }
    missing.sort((a, b) => a - b);
    while (missing.length > 0) {
      const first = missing[0]!;
      const last = missing[missing.length - 1]!;
      const batch = await this.#fetch(
        topic,
        partition,
        first,
        Math.min(last - first + 1, 500),
        500,
      );
      if (batch.length === 0) break; // nothing arrived: the caller decides (watermarks)
      for (const r of batch) if (missing.includes(r.offset)) found.set(r.offset, r);
      const upTo = batch[batch.length - 1]!.offset;
      while (missing.length > 0 && missing[0]! <= upTo) {
        const o = missing.shift()!;
        if (!found.has(o)) gone.push(o);
      }
    }
    return { records: found, gone };
  }

  #fromCache(
    topic: string,
    partition: number,
    offset: number,
    maxRecords: number,
  ): FetchedRecord[] {
    const out: FetchedRecord[] = [];
    for (let o = offset; out.length < maxRecords; o += 1) {
      const hit = this.#cache.get(cacheKey(topic, partition, o));
      if (!hit) break;
      out.push(hit);
    }
    return out;
  }

  async #fetch(
    topic: string,
    partition: number,
    offset: number,
    maxRecords: number,
    waitMs: number,
  ): Promise<FetchedRecord[]> {
    if (this.#closed) return [];
    // The same partition goes to the same consumer, so sequential reads keep its position.
    const slot = this.#slots[hash(`${topic}:${partition}`) % this.#slots.length]!;
    return this.#withSlot(slot, () => {
      // Another read may have fetched these while this one queued for the consumer.
      const cached = this.#fromCache(topic, partition, offset, maxRecords);
      if (cached.length > 0) return Promise.resolve(cached);
      return this.#fetchWith(slot, topic, partition, offset, maxRecords, waitMs);
    });
  }

  async #fetchWith(
    slot: Slot,
    topic: string,
    partition: number,
    offset: number,
    maxRecords: number,
    waitMs: number,
  ): Promise<FetchedRecord[]> {
    try {
      await slot.connection.ensure(5000);
      await this.#position(slot, topic, partition, offset);
      const records: FetchedRecord[] = [];
      // Other assigned partitions' prefetched records come first in librdkafka's queue: take
      // them in large batches (they go to the cache for their readers) until this partition's
      // arrive or the wait is over, so a small read is never starved by a busy neighbour.
      // consume(n) waits up to its timeout for each of the n records, so a partition receiving a
      // steady trickle kept one read for n of them (500 records at 170/s: 3 s, far past the
      // poll's timeout): only the first record is waited for, the rest is what is queued now.
      const batch = Math.max(maxRecords, DRAIN_BATCH);
      const until = Date.now() + Math.max(1, waitMs);
      const consume = (n: number, timeoutMs: number): Promise<Kafka.Message[]> => {
        slot.consumer.setDefaultConsumeTimeout(timeoutMs);
        return new Promise<Kafka.Message[]>((resolve, reject) =>
          slot.consumer.consume(n, (err, got) =>
            err ? reject(translateKafkaError(err, 'fetch records')) : resolve(got),
          ),
        );
      };
      for (;;) {
        const head = await consume(1, Math.max(1, until - Date.now()));
        const messages = head.length > 0 ? [...head, ...(await consume(batch - 1, 1))] : head;
        for (const m of messages) {
          const record = toRecord(m);
          this.#remember(record);
          const position = slot.positions.get(tpKey(m.topic, m.partition));
          if (position && m.offset >= position.offset) position.offset = m.offset + 1;
          if (m.topic === topic && m.partition === partition && m.offset >= offset)
            records.push(record);
        }
        if (records.length > 0 || head.length === 0 || Date.now() >= until) break;
      }
      return records.slice(0, maxRecords);
    } catch (err) {
      slot.positions.clear();
      try {
        slot.consumer.unassign();
      } catch {
        // not connected: nothing assigned
      }
      throw err;
    }
  }

  /**
   * Makes librdkafka's next record for the partition the one at `offset`:
   * keeps it when already there (the prefetched data stays useful), seeks
   * within the assignment, or adds the partition to it (dropping the least
   * recently added one past MAX_ASSIGNED_PER_FETCHER).
   */
  async #position(slot: Slot, topic: string, partition: number, offset: number): Promise<void> {
    const key = tpKey(topic, partition);
    const current = slot.positions.get(key);
    if (current?.offset === offset) return;
    if (current) {
      await new Promise<void>((resolve, reject) =>
        slot.consumer.seek({ topic, partition, offset }, 1000, (err) =>
          err ? reject(translateKafkaError(err, 'seek')) : resolve(),
        ),
      );
      current.offset = offset;
      return;
    }
    slot.positions.set(key, { topic, partition, offset });
    while (slot.positions.size > MAX_ASSIGNED_PER_FETCHER) {
      slot.positions.delete(slot.positions.keys().next().value as string);
    }
    // Reassigning with every partition's own position keeps the others where they were.
    slot.consumer.assign(
      [...slot.positions.values()].map((p) => ({
        topic: p.topic,
        partition: p.partition,
        offset: p.offset,
      })),
    );
  }

  #remember(record: FetchedRecord): void {
    this.#cache.add(cacheKey(record.topic, record.partition, record.offset), record);
    const tp = tpKey(record.topic, record.partition);
    const end = this.#fetchedEnd.get(tp);
    if (end === undefined || record.offset >= end) {
      if (end === undefined && this.#fetchedEnd.size >= MAX_FETCHED_ENDS) this.#fetchedEnd.clear();
      this.#fetchedEnd.set(tp, record.offset + 1);
    }
  }

  /**
   * One past the highest offset a fetch of this process returned for the
   * partition: every offset below it is a record Kafka returned (so a read
   * from there returns at least one record) or a gap in the log (compaction,
   * transaction markers, aborted records). Undefined before the first fetch.
   */
  fetchedEnd(topic: string, partition: number): number | undefined {
    return this.#fetchedEnd.get(tpKey(topic, partition));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#statsPump);
    await Promise.all(
      this.#slots.map(async (slot) => {
        await slot.busy;
        await disconnectWithin(slot.consumer, 3000);
      }),
    );
    this.#cache.clear();
  }
}

/** Records one consume() call takes while looking for a partition's records among its neighbours'. */
const DRAIN_BATCH = 500;

/** Partitions whose fetched end is remembered (all are forgotten past it: they are only a hint). */
const MAX_FETCHED_ENDS = 100_000;

/** Partitions one fetcher keeps assigned; each keeps prefetching, so this bounds memory too. */
const MAX_ASSIGNED_PER_FETCHER = 32;

function tpKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

function cacheKey(topic: string, partition: number, offset: number): string {
  return `${topic}\u0000${partition}\u0000${offset}`;
}

function hash(text: string): number {
  let h = 0;
  for (let i = 0; i < text.length; i += 1) h = (Math.imul(h, 31) + text.charCodeAt(i)) | 0;
  return h >>> 0;
}

function toRecord(m: Kafka.Message): FetchedRecord {
  const key =
    m.key === undefined || m.key === null
      ? null
      : Buffer.isBuffer(m.key)
        ? m.key
        : Buffer.from(m.key);
  const value = m.value ?? null;
  const headers = (m.headers ?? []).flatMap((h) =>
    Object.entries(h).map(([name, v]) => ({
      name,
      value: Buffer.isBuffer(v) ? v : Buffer.from(String(v)),
    })),
  );
  let size = (key?.length ?? 0) + (value?.length ?? 0) + 64;
  for (const h of headers) size += h.name.length + h.value.length;
  return {
    topic: m.topic,
    partition: m.partition,
    offset: m.offset,
    key,
    value,
    headers,
    timestamp: m.timestamp ?? 0,
    size,
  };
}

interface BrokerStats {
  readonly nodeid?: number;
  readonly rxbytes?: number;
  readonly req?: Readonly<Record<string, number>>;
}

/** Turns librdkafka's cumulative per-broker statistics into increments. */
function statsListener(
  report: (brokerId: number, fetchRequests: number, rxBytes: number) => void,
): (event: { message: string }) => void {
  const last = new Map<number, { fetches: number; rx: number }>();
  return (event) => {
    let stats: { brokers?: Record<string, BrokerStats> };
    try {
      stats = JSON.parse(event.message) as { brokers?: Record<string, BrokerStats> };
    } catch {
      return;
    }
    for (const broker of Object.values(stats.brokers ?? {})) {
      const id = broker.nodeid ?? -1;
      if (id < 0) continue; // bootstrap placeholders
      const fetches = broker.req?.Fetch ?? 0;
      const rx = broker.rxbytes ?? 0;
      const previous = last.get(id) ?? { fetches: 0, rx: 0 };
      last.set(id, { fetches, rx });
      if (fetches > previous.fetches || rx > previous.rx) {
        report(id, Math.max(0, fetches - previous.fetches), Math.max(0, rx - previous.rx));
      }
    }
  };
}
