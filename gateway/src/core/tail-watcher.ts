import type { KafkaMetadataClient } from '../kafka/metadata-client.js';
import type { Logger } from '../observability/logger.js';

interface Watch {
  /** Wake when the high watermark passes this offset. */
  readonly after: number;
  readonly wake: () => void;
  /** One of interchangeable waiters (shared mode): woken only as many as there are new records. */
  readonly some: boolean;
  /** The partition entry this watch is listed under. */
  readonly watched: Watched;
}

/** A watched partition and its watches, in the order they started waiting. */
interface Watched {
  readonly key: string;
  readonly topic: string;
  readonly partition: number;
  readonly watches: Set<Watch>;
}

/**
 * Notices new records for waiting long-polls without any per-session Kafka or
 * Redis work: while something waits, one timer per process asks Kafka for the
 * high watermark of each distinct watched partition and wakes the polls whose
 * position it passed. Idle, it does nothing.
 */
export class TailWatcher {
  readonly #client: KafkaMetadataClient;
  readonly #intervalMs: number;
  readonly #logger: Logger;
  /** Watches by partition ('topic:partition'), so a tick costs per partition, not per waiting poll. */
  readonly #watched = new Map<string, Watched>();
  readonly #highs = new Map<string, { high: number; at: number }>();
  #timer: NodeJS.Timeout | undefined;
  #polling = false;

  constructor(client: KafkaMetadataClient, intervalMs: number, logger: Logger) {
    this.#client = client;
    this.#intervalMs = intervalMs;
    this.#logger = logger;
  }

  /** The last high watermark seen for the partition, if fresh (younger than maxAgeMs). */
  high(topic: string, partition: number, maxAgeMs: number): number | undefined {
    const seen = this.#highs.get(`${topic}:${partition}`);
    return seen && Date.now() - seen.at <= maxAgeMs ? seen.high : undefined;
  }

  /** Records a watermark learned elsewhere (e.g. from a fetch). */
  observe(topic: string, partition: number, high: number): void {
    this.#highs.set(`${topic}:${partition}`, { high, at: Date.now() });
  }

  /** This instance just wrote up to `high`: wake its waiting polls at once instead of at the next tick. */
  notify(topic: string, partition: number, high: number): void {
    const key = `${topic}:${partition}`;
    const seen = this.#highs.get(key);
    if (!seen || seen.high < high) this.#highs.set(key, { high, at: Date.now() });
    const watched = this.#watched.get(key);
    if (watched) this.#wakePast(watched, high);
  }

  /** Wakes `wake` once any partition's high watermark passes its offset; returns the cancel function. */
  watch(
    positions: ReadonlyArray<{ topic: string; partition: number; after: number }>,
    wake: () => void,
    takes: 'all' | 'some' = 'all',
  ): () => void {
    const some = takes === 'some';
    const added: Watch[] = [];
    for (const p of positions) {
      const key = `${p.topic}:${p.partition}`;
      let watched = this.#watched.get(key);
      if (!watched) {
        watched = { key, topic: p.topic, partition: p.partition, watches: new Set() };
        this.#watched.set(key, watched);
      }
      const w: Watch = { after: p.after, wake, some, watched };
      watched.watches.add(w);
      added.push(w);
    }
    this.#timer ??= setInterval(() => void this.#poll(), this.#intervalMs);
    return () => {
      for (const w of added) {
        const { watched } = w;
        watched.watches.delete(w);
        if (watched.watches.size === 0 && this.#watched.get(watched.key) === watched)
          this.#watched.delete(watched.key);
      }
      if (this.#watched.size === 0) {
        clearInterval(this.#timer);
        this.#timer = undefined;
      }
    };
  }

  /** Partitions with at least one waiting poll. */
  get watchedPartitions(): number {
    return this.#watched.size;
  }

  async #poll(): Promise<void> {
    if (this.#polling) return;
    this.#polling = true;
    try {
      const partitions = [...this.#watched.values()];
      await Promise.all(
        partitions.map(async ({ key, topic, partition }) => {
          try {
            const { high } = await this.#client.watermarks(topic, partition, 2000);
            this.#highs.set(key, { high, at: Date.now() });
          } catch (err) {
            this.#logger.debug({ err, topic, partition }, 'watermark query failed');
          }
        }),
      );
      for (const watched of partitions) {
        const seen = this.#highs.get(watched.key);
        if (seen) this.#wakePast(watched, seen.high);
      }
      // Watermarks of partitions nobody waits on any more are dropped after a minute.
      if (this.#highs.size > this.#watched.size + 1000) {
        for (const [key, seen] of this.#highs)
          if (Date.now() - seen.at > 60_000) this.#highs.delete(key);
      }
    } finally {
      this.#polling = false;
    }
  }

  /**
   * Wakes the watches of a partition whose position `high` passed: every
   * 'all' watch, and as many 'some' watches (longest waiting first) as there
   * are new records, since any one of them can take any record; the rest are
   * woken on a later tick if records are still left.
   */
  #wakePast(watched: Watched, high: number): void {
    let budget = 0;
    const some: Watch[] = [];
    // Iterating the set itself: a woken poll cancels its watches, which a Set's iterator allows.
    for (const w of watched.watches) {
      if (high <= w.after) continue;
      if (!w.some) w.wake();
      else {
        some.push(w);
        budget = Math.max(budget, high - w.after);
      }
    }
    for (const w of some.slice(0, budget)) {
      // Back of the line: the next new records go to others first.
      if (watched.watches.delete(w)) watched.watches.add(w);
      w.wake();
    }
  }

  close(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#watched.clear();
  }
}
