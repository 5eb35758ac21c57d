import type { KafkaMetadataClient } from '../kafka/metadata-client.js';
import type { Logger } from '../observability/logger.js';

interface Watch {
  readonly topic: string;
  readonly partition: number;
  /** Wake when the high watermark passes this offset. */
  readonly after: number;
  readonly wake: () => void;
  /** One of interchangeable waiters (shared mode): woken only as many as there are new records. */
  readonly some: boolean;
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
  readonly #watches = new Set<Watch>();
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
    this.#wakePast(key, high);
  }

  /** Wakes `wake` once any partition's high watermark passes its offset; returns the cancel function. */
  watch(
    positions: ReadonlyArray<{ topic: string; partition: number; after: number }>,
    wake: () => void,
    takes: 'all' | 'some' = 'all',
  ): () => void {
    const added = positions.map((p) => ({ ...p, wake, some: takes === 'some' }));
    for (const w of added) this.#watches.add(w);
    this.#timer ??= setInterval(() => void this.#poll(), this.#intervalMs);
    return () => {
      for (const w of added) this.#watches.delete(w);
      if (this.#watches.size === 0) {
        clearInterval(this.#timer);
        this.#timer = undefined;
      }
    };
  }

  async #poll(): Promise<void> {
    if (this.#polling) return;
    this.#polling = true;
    try {
      const distinct = new Map<string, { topic: string; partition: number }>();
      for (const w of this.#watches) distinct.set(`${w.topic}:${w.partition}`, w);
      await Promise.all(
        [...distinct.entries()].map(async ([key, tp]) => {
          try {
            const { high } = await this.#client.watermarks(tp.topic, tp.partition, 2000);
            this.#highs.set(key, { high, at: Date.now() });
          } catch (err) {
            this.#logger.debug({ err, ...tp }, 'watermark query failed');
          }
        }),
      );
      for (const key of distinct.keys()) {
        const seen = this.#highs.get(key);
        if (seen) this.#wakePast(key, seen.high);
      }
      // Watermarks of partitions nobody waits on any more are dropped after a minute.
      if (this.#highs.size > distinct.size + 1000) {
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
  #wakePast(key: string, high: number): void {
    let budget = 0;
    const some: Watch[] = [];
    for (const w of this.#watches) {
      if (`${w.topic}:${w.partition}` !== key || high <= w.after) continue;
      if (!w.some) w.wake();
      else {
        some.push(w);
        budget = Math.max(budget, high - w.after);
      }
    }
    for (const w of some.slice(0, budget)) {
      // Back of the line: the next new records go to others first.
      this.#watches.delete(w);
      this.#watches.add(w);
      w.wake();
    }
  }

  close(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#watches.clear();
  }
}
