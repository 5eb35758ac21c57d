import { BrokerPool, type BrokerPoolOptions } from './broker-pool.js';
import {
  CONFIG_SOURCES,
  ConfigResourceType,
  DEFAULT_CONFIG_SOURCE,
  DESCRIBE_CONFIGS,
  decodeDescribeConfigsResponse,
  encodeDescribeConfigsRequest,
} from './protocol/describe-configs.js';
import { ProtocolError, checkKafkaCode } from './protocol/errors.js';
import { LIST_GROUPS, decodeListGroupsResponse } from './protocol/list-groups.js';
import { translateClusterError, translateTopicError } from './protocol/translate-error.js';

export interface ConfigSynonymInfo {
  readonly name: string;
  readonly value: string | null;
  readonly source: string;
}

export interface TopicConfig {
  readonly name: string;
  /** null when the config is sensitive (never shown) or has no value. */
  readonly value: string | null;
  readonly isDefault: boolean;
  readonly isReadOnly: boolean;
  readonly isSensitive: boolean;
  /** Where the value comes from, by Kafka's ConfigSource name (DYNAMIC_TOPIC_CONFIG, DEFAULT_CONFIG…). */
  readonly source: string;
  readonly synonyms: readonly ConfigSynonymInfo[];
}

export interface GroupListing {
  readonly groupId: string;
  /** 'consumer' for groups of consumers; '' for groups that only commit offsets. */
  readonly protocolType: string;
}

const sourceName = (source: number): string => CONFIG_SOURCES[source] ?? 'UNKNOWN';

/**
 * Cluster reads node-rdkafka does not expose (DescribeConfigs, ListGroups),
 * over the gateway's own protocol code and so with its TLS and SASL settings.
 */
export class AdminReadClient {
  readonly #pool: BrokerPool;

  constructor(options: BrokerPoolOptions) {
    this.#pool = new BrokerPool(options, 'admin-reads');
  }

  /** The topic's configs, sorted by name; sensitive values (and their synonyms') are null. */
  topicConfigs(topic: string): Promise<TopicConfig[]> {
    const action = 'describe topic configs';
    return this.#pool.run({
      action,
      where: `topic '${topic}'`,
      details: { topic },
      translate: (err) => translateTopicError(err, topic, action),
      // Any broker answers for a topic resource.
      attempt: async (deadline) => {
        const results = await this.#pool.bootstrap((broker) =>
          broker.request(
            DESCRIBE_CONFIGS,
            (w, version) =>
              encodeDescribeConfigsRequest(
                w,
                version,
                [{ type: ConfigResourceType.TOPIC, name: topic, keys: null }],
                true,
              ),
            decodeDescribeConfigsResponse,
            deadline,
          ),
        );
        const result = results.find((r) => r.resourceName === topic);
        if (!result) throw new ProtocolError(`DescribeConfigs left out topic '${topic}'`);
        checkKafkaCode(DESCRIBE_CONFIGS.name, result.errorCode, `topic '${topic}'`);
        return result.configs
          .map((c) => ({
            name: c.name,
            value: c.sensitive ? null : c.value,
            isDefault: c.source === DEFAULT_CONFIG_SOURCE,
            isReadOnly: c.readOnly,
            isSensitive: c.sensitive,
            source: sourceName(c.source),
            synonyms: c.synonyms.map((s) => ({
              name: s.name,
              value: c.sensitive ? null : s.value,
              source: sourceName(s.source),
            })),
          }))
          .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      },
    });
  }

  /**
   * Every group any of `brokers` (host:port, e.g. from metadata) coordinates,
   * sorted by id: each broker lists only its own, so all are asked.
   */
  listGroups(brokers: readonly string[]): Promise<GroupListing[]> {
    const action = 'list groups';
    return this.#pool.run({
      action,
      where: 'the cluster',
      details: {},
      translate: (err) => translateClusterError(err, action),
      attempt: async (deadline) => {
        const answers = await Promise.all(
          brokers.map(async (address) => {
            const listed = await this.#pool
              .connection(address)
              .request(LIST_GROUPS, () => undefined, decodeListGroupsResponse, deadline);
            checkKafkaCode(LIST_GROUPS.name, listed.errorCode, `broker ${address}`);
            return listed.groups;
          }),
        );
        const byId = new Map<string, GroupListing>();
        for (const group of answers.flat()) {
          byId.set(group.groupId, { groupId: group.groupId, protocolType: group.protocolType });
        }
        return [...byId.values()].sort((a, b) =>
          a.groupId < b.groupId ? -1 : a.groupId > b.groupId ? 1 : 0,
        );
      },
    });
  }

  /** Stops taking calls, lets the ones in flight finish, then closes every connection. Idempotent. */
  close(): Promise<void> {
    return this.#pool.close();
  }
}
