import type { ClusterMetadata, KafkaMetadataClient, TopicInfo } from './metadata-client.js';

export interface TopicMetadataCacheOptions {
  readonly client: KafkaMetadataClient;
  /** Entries older than this are fetched again. */
  readonly maxAgeMs: number;
  /** Deadline of one metadata request. */
  readonly timeoutMs: number;
  /** How long "no such topic" is remembered, so a typo does not hammer the brokers. */
  readonly negativeTtlMs?: number;
}

interface Entry {
  readonly topic: TopicInfo | null;
  readonly brokers: ClusterMetadata['brokers'];
  readonly expiresAt: number;
}

/**
 * Partitions and leaders per topic, refreshed when older than maxAgeMs or when
 * invalidated (after a leader-change or unknown-partition error). Concurrent
 * lookups of one topic share one request.
 */
export class TopicMetadataCache {
  readonly #options: TopicMetadataCacheOptions;
  readonly #entries = new Map<string, Entry>();
  readonly #inFlight = new Map<string, Promise<Entry>>();

  constructor(options: TopicMetadataCacheOptions) {
    this.#options = options;
  }

  /** The topic's partitions and leaders, or null if it does not exist. Throws GatewayError if Kafka cannot be asked. */
  async topic(name: string): Promise<TopicInfo | null> {
    return (await this.#entry(name)).topic;
  }

  /** Forgets a topic so the next lookup asks Kafka. */
  invalidate(name: string): void {
    this.#entries.delete(name);
  }

  #entry(name: string): Promise<Entry> {
    const cached = this.#entries.get(name);
    if (cached && cached.expiresAt > Date.now()) return Promise.resolve(cached);
    let request = this.#inFlight.get(name);
    if (!request) {
      request = this.#fetch(name).finally(() => this.#inFlight.delete(name));
      this.#inFlight.set(name, request);
    }
    return request;
  }

  async #fetch(name: string): Promise<Entry> {
    const { client, timeoutMs, maxAgeMs, negativeTtlMs = 1000 } = this.#options;
    const metadata = await client.fetch(timeoutMs, name);
    const found = metadata.topics.find((t) => t.name === name);
    // With auto-creation off, an unknown topic comes back with no partitions.
    const topic = found && found.partitions.length > 0 ? found : null;
    const entry: Entry = {
      topic: topic && {
        name: topic.name,
        partitions: [...topic.partitions].sort((a, b) => a.id - b.id),
      },
      brokers: metadata.brokers,
      expiresAt: Date.now() + (topic ? maxAgeMs : negativeTtlMs),
    };
    this.#entries.set(name, entry);
    return entry;
  }
}
