import type { FastifyInstance } from 'fastify';
import type { AdminService } from '../../core/admin.js';
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

/** Confluent v2 metadata reads (topics, brokers) and the v3 cluster list. */
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
        params: { type: 'object', required: ['topic'], properties: { topic: topicName } },
        response: {
          200: {
            type: 'object',
            properties: {
              name: { type: 'string' },
              configs: { type: 'object', additionalProperties: { type: 'string' } },
              partitions: { type: 'array', items: partitionSchema },
            },
          },
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const topic = await admin.topic(request.params.topic);
      reply.type(V2_RESPONSE);
      return {
        name: topic.name,
        // Topic configs need DescribeConfigs, which node-rdkafka does not expose.
        configs: {},
        partitions: topic.partitions.map((p) => ({
          partition: p.id,
          leader: p.leader,
          replicas: p.replicas.map((broker) => ({
            broker,
            leader: broker === p.leader,
            in_sync: p.isrs.includes(broker),
          })),
        })),
      };
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
  const baseUrl = (protocol: string, host: string | undefined): string =>
    `${protocol}://${host ?? 'localhost'}`;

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
      if (request.params.clusterId !== options.clusterId) {
        throw new GatewayError(
          'KGW_CLUSTER_NOT_FOUND',
          `cluster '${request.params.clusterId}' not found`,
        );
      }
      return cluster(baseUrl(request.protocol, request.headers.host));
    },
  );
}
