import type { KafkaMetadataClient } from '../kafka/metadata-client.js';
import type { Logger } from '../observability/logger.js';
import type { ConsumerSnapshot } from '../observability/metrics.js';
import type { PartitionLedger } from '../store/partition-ledger.js';
import type { SessionStore } from '../store/session-store.js';

export interface ConsumerStatsDeps {
  readonly sessions: SessionStore;
  readonly partitions: PartitionLedger;
  readonly metadataClient: KafkaMetadataClient;
  readonly logger: Logger;
  readonly intervalMs: number;
  readonly kafkaTimeoutMs: number;
}

/**
 * Reads, on an interval and never on a scrape, what the consumer metrics
 * show: sessions by mode, records in flight per group, and lag per group and
 * partition (high watermark minus the offset committed to Kafka). One Redis
 * script call per partition and one watermark query per distinct partition.
 */
export class ConsumerStats {
  readonly #deps: ConsumerStatsDeps;
  #snapshot: ConsumerSnapshot | undefined;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;

  constructor(deps: ConsumerStatsDeps) {
    this.#deps = deps;
  }

  get snapshot(): ConsumerSnapshot | undefined {
    return this.#snapshot;
  }

  start(): void {
    if (this.#deps.intervalMs <= 0) return;
    this.#timer = setInterval(() => void this.refresh(), this.#deps.intervalMs);
    this.#timer.unref();
  }

  /** Reads everything once now (shared with a refresh already running). */
  refresh(): Promise<void> {
    this.#running ??= this.#read()
      .catch((err: unknown) => this.#deps.logger.debug({ err }, 'consumer stats refresh failed'))
      .finally(() => (this.#running = undefined));
    return this.#running;
  }

  async #read(): Promise<void> {
    const { sessions, partitions, metadataClient, kafkaTimeoutMs } = this.#deps;
    const modes = new Map<string, number>();
    const inFlight = new Map<string, number>();
    const lag: { group: string; topic: string; partition: number; lag: number }[] = [];
    const highs = new Map<string, Promise<number>>();
    const high = (topic: string, partition: number): Promise<number> => {
      const key = `${topic}:${partition}`;
      let value = highs.get(key);
      if (!value) {
        value = metadataClient.watermarks(topic, partition, kafkaTimeoutMs).then((w) => w.high);
        highs.set(key, value);
      }
      return value;
    };
    for (const group of await sessions.groups()) {
      for (const s of await sessions.list(group)) modes.set(s.mode, (modes.get(s.mode) ?? 0) + 1);
      const tps = await partitions.partitions(group);
      if (tps.length === 0) continue;
      const points = await partitions.snapshots(group, tps);
      inFlight.set(
        group,
        points.reduce((sum, p) => sum + p.inFlight, 0),
      );
      await Promise.all(
        tps.map(async (tp, i) => {
          const committed = points[i]!.committed;
          if (committed < 0) return; // nothing committed to Kafka yet: no lag to report
          try {
            lag.push({
              group,
              ...tp,
              lag: Math.max(0, (await high(tp.topic, tp.partition)) - committed),
            });
          } catch {
            // partition gone or Kafka unreachable: leave it out of this snapshot
          }
        }),
      );
    }
    this.#snapshot = { sessions: modes, inFlight, lag };
  }

  close(): void {
    clearInterval(this.#timer);
  }
}
