import type { Access } from '../auth/access.js';
import { KafkaErrorCode } from '../kafka/protocol/errors.js';
import { GatewayError } from '../errors.js';
import type { TopicConfig } from '../kafka/admin-reads.js';
import {
  ALL_TOPICS,
  type BrokerInfo,
  type KafkaMetadataClient,
  type PartitionInfo,
  type TopicInfo,
} from '../kafka/metadata-client.js';
import type { TopicMetadataCache } from '../kafka/topic-metadata-cache.js';

/** Kafka's codes for "the gateway's user may not" (its ACLs). */
const KAFKA_AUTHORIZATION_FAILURES: ReadonlySet<number> = new Set([
  KafkaErrorCode.TOPIC_AUTHORIZATION_FAILED,
  KafkaErrorCode.GROUP_AUTHORIZATION_FAILED,
  KafkaErrorCode.CLUSTER_AUTHORIZATION_FAILED,
]);

export interface AdminServiceDeps {
  readonly client: KafkaMetadataClient;
  readonly cache: TopicMetadataCache;
  readonly timeoutMs: number;
  /** DescribeConfigs over the gateway's protocol client (node-rdkafka has none). */
  readonly configs: { topicConfigs(topic: string): Promise<TopicConfig[]> };
  /** When set, listings show only what the principal may describe, and a topic needs describe. */
  readonly access?: Access;
}

/** Read-only cluster metadata: topics, partitions with leaders and replicas, topic configs, brokers. */
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

  /**
   * The topic's configs, or none when Kafka's ACLs refuse the gateway's user
   * DescribeConfigs (`onRefused` hears about it): for views where configs are
   * a detail (v2 `GET /topics/{t}`), not the point.
   */
  async topicConfigsIfReadable(
    name: string,
    onRefused: (err: unknown) => void,
  ): Promise<TopicConfig[]> {
    try {
      return await this.topicConfigs(name);
    } catch (err) {
      const code = (err as { details?: { kafkaCode?: unknown } } | null)?.details?.kafkaCode;
      if (!KAFKA_AUTHORIZATION_FAILURES.has(code as number)) throw err;
      onRefused(err);
      return [];
    }
  }

  /** The topic's configs by name; needs describe on the topic like the topic itself. */
  async topicConfigs(name: string): Promise<TopicConfig[]> {
    await this.topic(name);
    return this.#deps.configs.topicConfigs(name);
  }

  async brokers(): Promise<BrokerInfo[]> {
    const metadata = await this.#deps.client.fetch(this.#deps.timeoutMs);
    return [...metadata.brokers].sort((a, b) => a.id - b.id);
  }
}
