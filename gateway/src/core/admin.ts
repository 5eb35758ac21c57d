import type { Access } from '../auth/access.js';
import { GatewayError } from '../errors.js';
import {
  ALL_TOPICS,
  type BrokerInfo,
  type KafkaMetadataClient,
  type PartitionInfo,
  type TopicInfo,
} from '../kafka/metadata-client.js';
import type { TopicMetadataCache } from '../kafka/topic-metadata-cache.js';

export interface AdminServiceDeps {
  readonly client: KafkaMetadataClient;
  readonly cache: TopicMetadataCache;
  readonly timeoutMs: number;
  /** When set, listings show only what the principal may describe, and a topic needs describe. */
  readonly access?: Access;
}

/** Read-only cluster metadata: topics, partitions with leaders and replicas, brokers. */
export class AdminService {
  readonly #deps: AdminServiceDeps;

  constructor(deps: AdminServiceDeps) {
    this.#deps = deps;
  }

  async topicNames(): Promise<string[]> {
    const metadata = await this.#deps.client.fetch(this.#deps.timeoutMs, ALL_TOPICS);
    const names = metadata.topics.map((t) => t.name).sort();
    return this.#deps.access ? this.#deps.access.filter('describe', 'topic', names) : names;
  }

  async topic(name: string): Promise<TopicInfo> {
    this.#deps.access?.require('describe', 'topic', name);
    const topic = await this.#deps.cache.topic(name);
    if (!topic) throw new GatewayError('KGW_TOPIC_NOT_FOUND', `topic '${name}' not found`);
    return topic;
  }

  /** One partition of a topic, or KGW_PARTITION_NOT_FOUND. */
  async partition(topic: string, id: number): Promise<PartitionInfo> {
    const info = await this.topic(topic);
    const partition = info.partitions.find((p) => p.id === id);
    if (!partition)
      throw new GatewayError(
        'KGW_PARTITION_NOT_FOUND',
        `partition ${id} not found in topic '${topic}' (it has ${info.partitions.length})`,
      );
    return partition;
  }

  /** First offset still held and next offset to be written, of one partition. */
  async offsets(topic: string, id: number): Promise<{ beginning: number; end: number }> {
    await this.partition(topic, id);
    const marks = await this.#deps.client.watermarks(topic, id, this.#deps.timeoutMs);
    return { beginning: marks.low, end: marks.high };
  }

  async brokers(): Promise<BrokerInfo[]> {
    const metadata = await this.#deps.client.fetch(this.#deps.timeoutMs);
    return [...metadata.brokers].sort((a, b) => a.id - b.id);
  }
}
