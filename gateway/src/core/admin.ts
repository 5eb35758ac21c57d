import type { Access } from '../auth/access.js';
import { GatewayError } from '../errors.js';
import type { TopicConfig } from '../kafka/admin-reads.js';
import {
  ALL_TOPICS,
  type BrokerInfo,
  type KafkaMetadataClient,
  type TopicInfo,
} from '../kafka/metadata-client.js';
import type { TopicMetadataCache } from '../kafka/topic-metadata-cache.js';

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
