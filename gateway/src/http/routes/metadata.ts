import type { FastifyInstance } from 'fastify';
import type { AdminService } from '../../core/admin.js';
import type { PartitionInfo } from '../../kafka/metadata-client.js';
import { GatewayError } from '../../errors.js';
import { V2_RESPONSE } from '../content-types.js';
import { errorResponses, topicName } from './schemas.js';

export interface MetadataRouteOptions {
  readonly clusterId: string;
}

const partitionSchema = {
  type: 'object',
  properties: {
    partition: { type: 'integer' },
    leader: { type: 'integer' },
    replicas: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          broker: { type: 'integer' },
          leader: { type: 'boolean' },
          in_sync: { type: 'boolean' },
        },
      },
    },
  },
} as const;

/** Confluent v2's partition body: leader and replicas with their in-sync flag. */
function renderPartition(p: PartitionInfo): Record<string, unknown> {
  return {
    partition: p.id,
    leader: p.leader,
    replicas: p.replicas.map((broker) => ({
      broker,
      leader: broker === p.leader,
      in_sync: p.isrs.includes(broker),
    })),
  };
}

const topicParams = {
  type: 'object',
  required: ['topic'],
  properties: { topic: topicName },
} as const;
const partitionParams = {
  type: 'object',
  required: ['topic', 'partition'],
  properties: { topic: topicName, partition: { type: 'integer', minimum: 0 } },
} as const;

/** The scheme and host a v3 resource's links start with, as the client addressed the gateway. */
export function baseUrl(protocol: string, host: string | undefined): string {
  return `${protocol}://${host ?? 'localhost'}`;
}

/** 404 KGW_CLUSTER_NOT_FOUND unless a v3 path names the cluster this gateway serves. */
export function requireCluster(requested: string, served: string): void {
  if (requested !== served) {
    throw new GatewayError('KGW_CLUSTER_NOT_FOUND', `cluster '${requested}' not found`);
  }
}

/** Confluent v2 metadata reads (topics, partitions, brokers) and the v3 cluster list. */
export function metadataRoutes(
  app: FastifyInstance,
  admin: AdminService,
  options: MetadataRouteOptions,
): void {
  app.get(
    '/topics',
    {
      schema: {
        tags: ['metadata (v2)'],
        summary: 'List topic names',
        response: { 200: { type: 'array', items: { type: 'string' } }, ...errorResponses },
      },
    },
    async (_request, reply) => {
      reply.type(V2_RESPONSE);
      return admin.topicNames();
    },
  );

  app.get<{ Params: { topic: string } }>(
    '/topics/:topic',
    {
      schema: {
        tags: ['metadata (v2)'],
        summary: 'Describe a topic: partitions, leaders, replicas',
        params: topicParams,
        response: {
          200: {
            type: 'object',
            properties: {
              name: { type: 'string' },
              configs: {
                type: 'object',
                description:
                  'Config name → value; null for sensitive values, which are never shown.',
                additionalProperties: { type: ['string', 'null'] },
              },
              partitions: { type: 'array', items: partitionSchema },
            },
          },
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const [topic, configs] = await Promise.all([
        admin.topic(request.params.topic),
        admin.topicConfigsIfReadable(request.params.topic, (err) =>
          request.log.warn({ err }, 'Kafka refused DescribeConfigs; answering without configs'),
        ),
      ]);
      reply.type(V2_RESPONSE);
      return {
        name: topic.name,
        configs: Object.fromEntries(configs.map((c) => [c.name, c.value])),
        partitions: topic.partitions.map(renderPartition),
      };
    },
  );

  app.get<{ Params: { topic: string } }>(
    '/topics/:topic/partitions',
    {
      schema: {
        tags: ['metadata (v2)'],
        summary: "A topic's partitions: leaders and replicas",
        params: topicParams,
        response: { 200: { type: 'array', items: partitionSchema }, ...errorResponses },
      },
    },
    async (request, reply) => {
      const topic = await admin.topic(request.params.topic);
      reply.type(V2_RESPONSE);
      return topic.partitions.map(renderPartition);
    },
  );

  app.get<{ Params: { topic: string; partition: number } }>(
    '/topics/:topic/partitions/:partition',
    {
      schema: {
        tags: ['metadata (v2)'],
        summary: 'One partition: leader and replicas',
        params: partitionParams,
        response: { 200: partitionSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const partition = await admin.partition(request.params.topic, request.params.partition);
      reply.type(V2_RESPONSE);
      return renderPartition(partition);
    },
  );

  app.get<{ Params: { topic: string; partition: number } }>(
    '/topics/:topic/partitions/:partition/offsets',
    {
      schema: {
        tags: ['metadata (v2)'],
        summary: "A partition's first and next offsets (low and high watermarks)",
        params: partitionParams,
        response: {
          200: {
            type: 'object',
            properties: {
              beginning_offset: { type: 'integer' },
              end_offset: { type: 'integer', description: 'The offset the next record gets.' },
            },
          },
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const { beginning, end } = await admin.offsets(
        request.params.topic,
        request.params.partition,
      );
      reply.type(V2_RESPONSE);
      return { beginning_offset: beginning, end_offset: end };
    },
  );

  app.get(
    '/brokers',
    {
      schema: {
        tags: ['metadata (v2)'],
        summary: 'List broker ids',
        response: {
          200: {
            type: 'object',
            properties: { brokers: { type: 'array', items: { type: 'integer' } } },
          },
          ...errorResponses,
        },
      },
    },
    async (_request, reply) => {
      reply.type(V2_RESPONSE);
      return { brokers: (await admin.brokers()).map((b) => b.id) };
    },
  );

  const cluster = (base: string): Record<string, unknown> => ({
    kind: 'KafkaCluster',
    metadata: {
      self: `${base}/v3/clusters/${options.clusterId}`,
      resource_name: `crn:///kafka=${options.clusterId}`,
    },
    cluster_id: options.clusterId,
    topics: { related: `${base}/v3/clusters/${options.clusterId}/topics` },
  });
  app.get(
    '/v3/clusters',
    { schema: { tags: ['metadata (v3)'], summary: 'The Kafka cluster this gateway serves' } },
    async (request) => {
      const base = baseUrl(request.protocol, request.headers.host);
      return {
        kind: 'KafkaClusterList',
        metadata: { self: `${base}/v3/clusters`, next: null },
        data: [cluster(base)],
      };
    },
  );

  app.get<{ Params: { clusterId: string } }>(
    '/v3/clusters/:clusterId',
    { schema: { tags: ['metadata (v3)'], summary: 'One cluster' } },
    async (request) => {
      requireCluster(request.params.clusterId, options.clusterId);
      return cluster(baseUrl(request.protocol, request.headers.host));
    },
  );
}
