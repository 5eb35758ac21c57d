import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AdminService } from '../../core/admin.js';
import type { ConsumerGroupInfo, GroupAdminService, PartitionLag } from '../../core/group-admin.js';
import { GatewayError } from '../../errors.js';
import type { TopicConfig } from '../../kafka/admin-reads.js';
import { baseUrl, requireCluster } from './metadata.js';
import { errorResponses, topicName } from './schemas.js';

export interface AdminV3RouteOptions {
  readonly clusterId: string;
}

const groupId = { type: 'string', minLength: 1, maxLength: 255 } as const;
const configName = { type: 'string', pattern: '^[a-zA-Z0-9._-]{1,255}$' } as const;
const clusterId = { type: 'string', minLength: 1, maxLength: 255 } as const;

const resourceMetadata = {
  type: 'object',
  properties: { self: { type: 'string' }, resource_name: { type: 'string' } },
} as const;
const listMetadata = {
  type: 'object',
  properties: { self: { type: 'string' }, next: { type: ['string', 'null'] } },
} as const;
const related = { type: 'object', properties: { related: { type: 'string' } } } as const;

const topicConfigSchema = {
  type: 'object',
  properties: {
    kind: { type: 'string', const: 'KafkaTopicConfig' },
    metadata: resourceMetadata,
    cluster_id: { type: 'string' },
    topic_name: { type: 'string' },
    name: { type: 'string' },
    value: { type: ['string', 'null'], description: 'null for sensitive values.' },
    is_default: { type: 'boolean' },
    is_read_only: { type: 'boolean' },
    is_sensitive: { type: 'boolean' },
    source: { type: 'string' },
    synonyms: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          name: { type: 'string' },
          value: { type: ['string', 'null'] },
          source: { type: 'string' },
        },
      },
    },
  },
} as const;

const consumerGroupSchema = {
  type: 'object',
  properties: {
    kind: { type: 'string', const: 'KafkaConsumerGroup' },
    metadata: resourceMetadata,
    cluster_id: { type: 'string' },
    consumer_group_id: { type: 'string' },
    is_simple: { type: 'boolean' },
    partition_assignor: { type: 'string' },
    state: {
      type: 'string',
      enum: ['UNKNOWN', 'PREPARING_REBALANCE', 'COMPLETING_REBALANCE', 'STABLE', 'DEAD', 'EMPTY'],
    },
    lag_summary: related,
  },
} as const;

const lagSchema = {
  type: 'object',
  properties: {
    kind: { type: 'string', const: 'KafkaConsumerLag' },
    metadata: resourceMetadata,
    cluster_id: { type: 'string' },
    consumer_group_id: { type: 'string' },
    topic_name: { type: 'string' },
    partition_id: { type: 'integer' },
    current_offset: { type: 'integer', description: 'The committed offset.' },
    log_end_offset: { type: 'integer' },
    lag: { type: 'integer' },
    consumer_id: { type: 'string' },
    instance_id: { type: ['string', 'null'] },
    client_id: { type: 'string' },
  },
} as const;

const lagSummarySchema = {
  type: 'object',
  properties: {
    kind: { type: 'string', const: 'KafkaConsumerGroupLagSummary' },
    metadata: resourceMetadata,
    cluster_id: { type: 'string' },
    consumer_group_id: { type: 'string' },
    max_lag_consumer_id: { type: 'string' },
    max_lag_instance_id: { type: ['string', 'null'] },
    max_lag_client_id: { type: 'string' },
    max_lag_topic_name: { type: ['string', 'null'] },
    max_lag_partition_id: { type: ['integer', 'null'] },
    max_lag: { type: 'integer' },
    total_lag: { type: 'integer' },
  },
} as const;

const list = (kind: string, item: object) =>
  ({
    type: 'object',
    properties: {
      kind: { type: 'string', const: kind },
      metadata: listMetadata,
      data: { type: 'array', items: item },
    },
  }) as const;

/** Kafka's group state names (DescribeGroups) as Confluent's v3 API spells them. */
const STATES: Readonly<Record<string, string>> = {
  PreparingRebalance: 'PREPARING_REBALANCE',
  CompletingRebalance: 'COMPLETING_REBALANCE',
  Stable: 'STABLE',
  Dead: 'DEAD',
  Empty: 'EMPTY',
};

type Params = { clusterId: string; topic: string; name: string; group: string; partition: number };

/**
 * Confluent v3 admin reads: topic configs (DescribeConfigs), consumer groups
 * (ListGroups, DescribeGroups) and their lag (OffsetFetch against log ends).
 */
export function adminV3Routes(
  app: FastifyInstance,
  admin: AdminService,
  groups: GroupAdminService,
  options: AdminV3RouteOptions,
): void {
  const c = options.clusterId;
  const tags = ['admin (v3)'];
  /** The cluster's v3 base URL for this request, after checking the path names our cluster. */
  const clusterUrl = (request: FastifyRequest<{ Params: Partial<Params> }>): string => {
    requireCluster(request.params.clusterId ?? '', c);
    return `${baseUrl(request.protocol, request.headers.host)}/v3/clusters/${c}`;
  };
  const enc = encodeURIComponent;

  const topicConfig = (root: string, topic: string, config: TopicConfig) => ({
    kind: 'KafkaTopicConfig',
    metadata: {
      self: `${root}/topics/${enc(topic)}/configs/${enc(config.name)}`,
      resource_name: `crn:///kafka=${c}/topic=${topic}/config=${config.name}`,
    },
    cluster_id: c,
    topic_name: topic,
    name: config.name,
    value: config.value,
    is_default: config.isDefault,
    is_read_only: config.isReadOnly,
    is_sensitive: config.isSensitive,
    source: config.source,
    synonyms: config.synonyms,
  });

  const consumerGroup = (root: string, g: ConsumerGroupInfo) => {
    const self = `${root}/consumer-groups/${enc(g.groupId)}`;
    return {
      kind: 'KafkaConsumerGroup',
      metadata: { self, resource_name: `crn:///kafka=${c}/consumer-group=${g.groupId}` },
      cluster_id: c,
      consumer_group_id: g.groupId,
      is_simple: g.isSimple,
      partition_assignor: g.partitionAssignor,
      state: STATES[g.state] ?? 'UNKNOWN',
      lag_summary: { related: `${self}/lag-summary` },
    };
  };

  const lag = (root: string, group: string, l: PartitionLag) => ({
    kind: 'KafkaConsumerLag',
    metadata: {
      self: `${root}/consumer-groups/${enc(group)}/lags/${enc(l.topic)}/partitions/${l.partition}`,
      resource_name: `crn:///kafka=${c}/consumer-group=${group}/lag=${l.topic}/partition=${l.partition}`,
    },
    cluster_id: c,
    consumer_group_id: group,
    topic_name: l.topic,
    partition_id: l.partition,
    current_offset: l.committedOffset,
    log_end_offset: l.logEndOffset,
    lag: l.lag,
    // The gateway reads committed offsets, not member assignments.
    consumer_id: '',
    instance_id: null,
    client_id: '',
  });

  const topicParams = {
    type: 'object',
    required: ['clusterId', 'topic'],
    properties: { clusterId, topic: topicName },
  } as const;
  const groupParams = {
    type: 'object',
    required: ['clusterId', 'group'],
    properties: { clusterId, group: groupId },
  } as const;

  app.get<{ Params: Pick<Params, 'clusterId' | 'topic'> }>(
    '/v3/clusters/:clusterId/topics/:topic/configs',
    {
      schema: {
        tags,
        summary: "List a topic's configs",
        params: topicParams,
        response: { 200: list('KafkaTopicConfigList', topicConfigSchema), ...errorResponses },
      },
    },
    async (request) => {
      const root = clusterUrl(request);
      const { topic } = request.params;
      const configs = await admin.topicConfigs(topic);
      return {
        kind: 'KafkaTopicConfigList',
        metadata: { self: `${root}/topics/${enc(topic)}/configs`, next: null },
        data: configs.map((config) => topicConfig(root, topic, config)),
      };
    },
  );

  app.get<{ Params: Pick<Params, 'clusterId' | 'topic' | 'name'> }>(
    '/v3/clusters/:clusterId/topics/:topic/configs/:name',
    {
      schema: {
        tags,
        summary: 'One config of a topic',
        params: {
          type: 'object',
          required: ['clusterId', 'topic', 'name'],
          properties: { clusterId, topic: topicName, name: configName },
        },
        response: { 200: topicConfigSchema, ...errorResponses },
      },
    },
    async (request) => {
      const root = clusterUrl(request);
      const { topic, name } = request.params;
      const config = (await admin.topicConfigs(topic)).find((x) => x.name === name);
      if (!config) {
        throw new GatewayError('KGW_CONFIG_NOT_FOUND', `topic '${topic}' has no config '${name}'`);
      }
      return topicConfig(root, topic, config);
    },
  );

  app.get<{ Params: Pick<Params, 'clusterId'> }>(
    '/v3/clusters/:clusterId/consumer-groups',
    {
      schema: {
        tags,
        summary: 'List the consumer groups the caller may describe',
        params: { type: 'object', required: ['clusterId'], properties: { clusterId } },
        response: { 200: list('KafkaConsumerGroupList', consumerGroupSchema), ...errorResponses },
      },
    },
    async (request) => {
      const root = clusterUrl(request);
      const listed = await groups.list();
      return {
        kind: 'KafkaConsumerGroupList',
        metadata: { self: `${root}/consumer-groups`, next: null },
        data: listed.map((g) => consumerGroup(root, g)),
      };
    },
  );

  app.get<{ Params: Pick<Params, 'clusterId' | 'group'> }>(
    '/v3/clusters/:clusterId/consumer-groups/:group',
    {
      schema: {
        tags,
        summary: 'One consumer group and its state',
        params: groupParams,
        response: { 200: consumerGroupSchema, ...errorResponses },
      },
    },
    async (request) => {
      const root = clusterUrl(request);
      return consumerGroup(root, await groups.group(request.params.group));
    },
  );

  app.get<{ Params: Pick<Params, 'clusterId' | 'group'> }>(
    '/v3/clusters/:clusterId/consumer-groups/:group/lags',
    {
      schema: {
        tags,
        summary: 'Lag of every partition the group has committed an offset for',
        params: groupParams,
        response: { 200: list('KafkaConsumerLagList', lagSchema), ...errorResponses },
      },
    },
    async (request) => {
      const root = clusterUrl(request);
      const { group } = request.params;
      const lags = await groups.lags(group);
      return {
        kind: 'KafkaConsumerLagList',
        metadata: { self: `${root}/consumer-groups/${enc(group)}/lags`, next: null },
        data: lags.map((l) => lag(root, group, l)),
      };
    },
  );

  app.get<{ Params: Params }>(
    '/v3/clusters/:clusterId/consumer-groups/:group/lags/:topic/partitions/:partition',
    {
      schema: {
        tags,
        summary: "The group's lag on one partition",
        params: {
          type: 'object',
          required: ['clusterId', 'group', 'topic', 'partition'],
          properties: {
            clusterId,
            group: groupId,
            topic: topicName,
            partition: { type: 'integer', minimum: 0 },
          },
        },
        response: { 200: lagSchema, ...errorResponses },
      },
    },
    async (request) => {
      const root = clusterUrl(request);
      const { group, topic, partition } = request.params;
      const found = (await groups.lags(group)).find(
        (l) => l.topic === topic && l.partition === partition,
      );
      if (!found) {
        throw new GatewayError(
          'KGW_PARTITION_NOT_FOUND',
          `consumer group '${group}' has no committed offset for topic '${topic}' partition ${partition}`,
        );
      }
      return lag(root, group, found);
    },
  );

  app.get<{ Params: Pick<Params, 'clusterId' | 'group'> }>(
    '/v3/clusters/:clusterId/consumer-groups/:group/lag-summary',
    {
      schema: {
        tags,
        summary: "The group's highest partition lag and its total lag",
        params: groupParams,
        response: { 200: lagSummarySchema, ...errorResponses },
      },
    },
    async (request) => {
      const root = clusterUrl(request);
      const { group } = request.params;
      const { max, totalLag } = await groups.lagSummary(group);
      return {
        kind: 'KafkaConsumerGroupLagSummary',
        metadata: {
          self: `${root}/consumer-groups/${enc(group)}/lag-summary`,
          resource_name: `crn:///kafka=${c}/consumer-group=${group}/lag-summary`,
        },
        cluster_id: c,
        consumer_group_id: group,
        max_lag_consumer_id: '',
        max_lag_instance_id: null,
        max_lag_client_id: '',
        max_lag_topic_name: max?.topic ?? null,
        max_lag_partition_id: max?.partition ?? null,
        max_lag: max?.lag ?? 0,
        total_lag: totalLag,
      };
    },
  );
}
