import type { KafkaMetadataClient } from '../kafka/metadata-client.js';
import type { Logger } from '../observability/logger.js';

interface Watch {
  readonly topic: string;
  readonly partition: number;
  /** Wake when the high watermark passes this offset. */
  readonly after: number;
  readonly wake: () => void;
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
    for (const w of this.#watches) {
      if (w.partition === partition && w.topic === topic && high > w.after) w.wake();
    }
  }

  /** Wakes `wake` once any partition's high watermark passes its offset; returns the cancel function. */
  watch(
    positions: ReadonlyArray<{ topic: string; partition: number; after: number }>,
    wake: () => void,
  ): () => void {
    const added = positions.map((p) => ({ ...p, wake }));
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
      for (const w of [...this.#watches]) {
        const seen = this.#highs.get(`${w.topic}:${w.partition}`);
        if (seen && seen.high > w.after) w.wake();
      }
    } finally {
      this.#polling = false;
    }
  }

  close(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#watches.clear();
  }
}
