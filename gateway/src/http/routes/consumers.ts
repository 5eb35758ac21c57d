import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ConsumeService } from '../../core/consume-service.js';
import { MAX_EXTEND_MS, type DeliveredRecord, type RecordRef } from '../../core/consume-types.js';
import {
  MAX_ASSIGNMENT_PARTITIONS,
  MAX_SUBSCRIPTION_TOPICS,
  type SessionService,
} from '../../core/session-service.js';
import { GatewayError } from '../../errors.js';
import type { SchemaRegistryClient } from '../../schema/registry-client.js';
import type { EmbeddedFormat, SessionConfig } from '../../store/session-store.js';
import {
  V2_AVRO,
  V2_BINARY,
  V2_EMBEDDED_TYPE,
  V2_JSON,
  V2_JSONSCHEMA,
  V2_PROTOBUF,
  V2_RESPONSE,
} from '../content-types.js';
import { checkAccept, renderRecord, requestedPartitions } from '../consumer-wire.js';
import { errorResponses, topicName } from './schemas.js';

export interface ConsumerRouteOptions {
  readonly publicUrl: string;
  readonly defaults: {
    readonly ackTimeoutMs: number;
    readonly maxAttempts: number;
    readonly requestTimeoutMs: number;
    readonly leaseTimeoutMs: number;
  };
  readonly maxPollTimeoutMs: number;
  readonly maxPollRecords: number;
  readonly maxPollBytes: number;
  /** Decodes the avro, jsonschema and protobuf formats; without it they are refused. */
  readonly schemaRegistry?: SchemaRegistryClient | undefined;
}

type Params = { group: string; instance: string };

const name = { type: 'string', pattern: '^[a-zA-Z0-9._-]{1,249}$' } as const;
const instanceParams = {
  type: 'object',
  required: ['group', 'instance'],
  properties: { group: name, instance: name },
} as const;
const tp = {
  type: 'object',
  required: ['topic', 'partition'],
  additionalProperties: false,
  properties: { topic: topicName, partition: { type: 'integer', minimum: 0 } },
} as const;
const tpOffset = {
  type: 'object',
  required: ['topic', 'partition', 'offset'],
  properties: {
    topic: topicName,
    partition: { type: 'integer', minimum: 0 },
    offset: { type: 'integer', minimum: 0 },
    attempt: {
      type: 'integer',
      minimum: 1,
      description: 'The delivery this ack answers (fences older ones).',
    },
    metadata: { type: 'string' },
  },
} as const;
const partitionsBody = {
  type: 'object',
  required: ['partitions'],
  properties: { partitions: { type: 'array', maxItems: MAX_ASSIGNMENT_PARTITIONS, items: tp } },
} as const;
const stringOrBool = {
  anyOf: [{ type: 'string', enum: ['true', 'false'] }, { type: 'boolean' }],
} as const;
/** One ack folded into a poll: topic:partition:offset[:attempt]. */
const FOLDED_ACK = '[a-zA-Z0-9._-]{1,249}:[0-9]{1,10}:[0-9]{1,16}(:[0-9]{1,10})?';

/** `ack` of a poll (already matched against FOLDED_ACK) as record refs. */
function parseFoldedAcks(value: string): RecordRef[] {
  return value.split(',').map((ref) => {
    const [topic, partition, offset, attempt] = ref.split(':');
    return {
      topic: topic!,
      partition: Number(partition),
      offset: Number(offset),
      ...(attempt === undefined ? {} : { attempt: Number(attempt) }),
    };
  });
}

const positiveInt = (max: number) => ({ type: 'integer', minimum: 1, maximum: max }) as const;
const tags = ['consume (v2)'];
/** What a route that answers 204 declares (and OpenAPI shows). */
const noContent = { 204: { description: 'No Content', type: 'null' } } as const;

/** Kafka consumer properties a create body may carry beyond the ones mapped (Confluent passes them through). */
export const MAX_PASSTHROUGH_PROPERTIES = 64;
const MAX_PROPERTY_NAME = 255;

interface CreateBody {
  name?: string;
  format?: EmbeddedFormat;
  'auto.offset.reset'?: 'earliest' | 'latest';
  'auto.commit.enable'?: string | boolean;
  'consumer.request.timeout.ms'?: number;
  'fetch.min.bytes'?: number;
  mode?: 'ordered' | 'shared';
  'ack.timeout.ms'?: number;
  'ack.durability'?: 'kafka' | 'redis';
  'max.attempts'?: number;
  'dead.letter.topic'?: string;
  'lease.timeout.ms'?: number;
  /** Other Kafka consumer properties: accepted, logged, ignored. */
  [property: string]: unknown;
}

/** The create body's properties the gateway maps; any other is accepted and ignored. */
const MAPPED = new Set([
  'name',
  'format',
  'auto.offset.reset',
  'auto.commit.enable',
  'consumer.request.timeout.ms',
  'fetch.min.bytes',
  'mode',
  'ack.timeout.ms',
  'ack.durability',
  'max.attempts',
  'dead.letter.topic',
  'lease.timeout.ms',
]);

/** Confluent REST v2 consumer API plus per-record acks and nacks. */
export function consumerRoutes(
  app: FastifyInstance,
  sessions: SessionService,
  consume: ConsumeService,
  options: ConsumerRouteOptions,
): void {
  const base = (group: string, id: string): string =>
    `${options.publicUrl}/consumers/${group}/instances/${id}`;

  app.post<{ Params: { group: string }; Body: CreateBody | null | undefined }>(
    '/consumers/:group',
    {
      schema: {
        tags,
        summary: 'Create a consumer instance (session) in a group',
        'x-optional-body': true,
        params: { type: 'object', required: ['group'], properties: { group: name } },
        body: {
          type: ['object', 'null'],
          // Other Kafka consumer properties are accepted as Confluent does, within bounds, and
          // ignored: sessions share librdkafka clients, so none is passed to one.
          maxProperties: MAPPED.size + MAX_PASSTHROUGH_PROPERTIES,
          propertyNames: { type: 'string', minLength: 1, maxLength: MAX_PROPERTY_NAME },
          additionalProperties: {
            anyOf: [{ type: 'string', maxLength: 1024 }, { type: 'number' }, { type: 'boolean' }],
            description: 'Another Kafka consumer property: accepted and ignored (logged).',
          },
          properties: {
            name,
            format: {
              type: 'string',
              enum: ['json', 'binary', 'avro', 'jsonschema', 'protobuf'],
              default: 'json',
            },
            'auto.offset.reset': {
              type: 'string',
              enum: ['earliest', 'latest'],
              default: 'latest',
            },
            'auto.commit.enable': stringOrBool,
            'consumer.request.timeout.ms': positiveInt(options.maxPollTimeoutMs),
            'fetch.min.bytes': {
              type: 'integer',
              minimum: 0,
              description: 'Accepted for compatibility; ignored.',
            },
            mode: { type: 'string', enum: ['ordered', 'shared'], default: 'ordered' },
            'ack.timeout.ms': positiveInt(24 * 3_600_000),
            'ack.durability': {
              type: 'string',
              enum: ['kafka', 'redis'],
              default: 'kafka',
              description:
                'When an ack answers: kafka (once Kafka holds the commit) or redis (once the ledger in Redis has it; Kafka commits follow within 100 ms, batched)',
            },
            'max.attempts': positiveInt(1000),
            'dead.letter.topic': topicName,
            'lease.timeout.ms': { type: 'integer', minimum: 500, maximum: 3_600_000 },
          },
        },
        response: {
          200: {
            type: 'object',
            properties: { instance_id: { type: 'string' }, base_uri: { type: 'string' } },
          },
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const body = request.body ?? {};
      const ignored = Object.keys(body).filter((key) => !MAPPED.has(key));
      if (ignored.length > 0)
        request.log.warn(
          { group: request.params.group, ignored },
          'consumer properties ignored: instances share Kafka clients, so only the mapped ones apply',
        );
      const format = body.format ?? 'json';
      if (format !== 'json' && format !== 'binary' && !options.schemaRegistry)
        throw new GatewayError(
          'KGW_INVALID_REQUEST',
          `format ${format} needs a schema registry, and KGW_SCHEMA_REGISTRY_URL is not set`,
        );
      const autoCommit = body['auto.commit.enable'];
      const session = await sessions.create(request.params.group, {
        ...(body.name === undefined ? {} : { name: body.name }),
        format,
        mode: body.mode ?? 'ordered',
        autoOffsetReset: body['auto.offset.reset'] ?? 'latest',
        autoCommit: autoCommit === true || autoCommit === 'true',
        ackTimeoutMs: body['ack.timeout.ms'] ?? options.defaults.ackTimeoutMs,
        ...(body['ack.durability'] === 'redis' ? { ackDurability: 'redis' as const } : {}),
        maxAttempts: body['max.attempts'] ?? options.defaults.maxAttempts,
        deadLetterTopic: body['dead.letter.topic'] ?? null,
        requestTimeoutMs: body['consumer.request.timeout.ms'] ?? options.defaults.requestTimeoutMs,
        leaseTimeoutMs: body['lease.timeout.ms'] ?? options.defaults.leaseTimeoutMs,
      });
      reply.type(V2_RESPONSE);
      return { instance_id: session.id, base_uri: base(session.group, session.id) };
    },
  );

  app.delete<{ Params: Params }>(
    '/consumers/:group/instances/:instance',
    {
      schema: {
        tags,
        summary: 'Delete a consumer instance',
        params: instanceParams,
        response: noContent,
      },
    },
    async (request, reply) => {
      await sessions.delete(request.params.group, request.params.instance);
      reply.code(204);
    },
  );

  app.post<{ Params: Params; Body: { topics?: string[]; topic_pattern?: string } }>(
    '/consumers/:group/instances/:instance/subscription',
    {
      schema: {
        tags,
        summary: 'Subscribe to topics or a topic pattern',
        params: instanceParams,
        response: noContent,
        body: {
          type: 'object',
          additionalProperties: false,
          properties: {
            topics: {
              type: 'array',
              minItems: 1,
              maxItems: MAX_SUBSCRIPTION_TOPICS,
              items: topicName,
            },
            topic_pattern: { type: 'string', minLength: 1 },
          },
          // One of them; both is a 409 below, as Confluent answers it.
          anyOf: [{ required: ['topics'] }, { required: ['topic_pattern'] }],
        },
      },
    },
    async (request, reply) => {
      const { topics, topic_pattern: pattern } = request.body;
      if (topics !== undefined && pattern !== undefined) {
        // Confluent: an IllegalStateException from the Kafka consumer, 409 "Illegal state" (40903).
        throw new GatewayError(
          'KGW_CONSUMER_STATE',
          'subscription to topics and to a topic pattern are mutually exclusive; give one of topics and topic_pattern',
        );
      }
      await sessions.subscribe(
        request.params.group,
        request.params.instance,
        topics ? { kind: 'topics', topics } : { kind: 'pattern', pattern: pattern! },
      );
      reply.code(204);
    },
  );

  app.get<{ Params: Params }>(
    '/consumers/:group/instances/:instance/subscription',
    { schema: { tags, summary: 'The subscribed topics', params: instanceParams } },
    async (request, reply) => {
      const { group, instance } = request.params;
      const sub = await sessions.subscription(group, instance);
      reply.type(V2_RESPONSE);
      if (sub?.kind === 'topics') return { topics: sub.topics };
      // The topics the pattern matches now (as Confluent's consumer reports its subscription).
      if (sub?.kind === 'pattern')
        return {
          topics: await sessions.subscribedTopics(group, instance, sub),
          topic_pattern: sub.pattern,
        };
      return { topics: [] };
    },
  );

  app.delete<{ Params: Params }>(
    '/consumers/:group/instances/:instance/subscription',
    { schema: { tags, summary: 'Unsubscribe', params: instanceParams, response: noContent } },
    async (request, reply) => {
      await sessions.unsubscribe(request.params.group, request.params.instance);
      reply.code(204);
    },
  );

  app.post<{ Params: Params; Body: { partitions: { topic: string; partition: number }[] } }>(
    '/consumers/:group/instances/:instance/assignments',
    {
      schema: {
        tags,
        summary: 'Assign partitions manually',
        params: instanceParams,
        response: noContent,
        body: partitionsBody,
      },
    },
    async (request, reply) => {
      await sessions.subscribe(request.params.group, request.params.instance, {
        kind: 'assigned',
        partitions: request.body.partitions,
      });
      reply.code(204);
    },
  );

  app.get<{ Params: Params }>(
    '/consumers/:group/instances/:instance/assignments',
    { schema: { tags, summary: 'Manually assigned partitions', params: instanceParams } },
    async (request, reply) => {
      const sub = await sessions.subscription(request.params.group, request.params.instance);
      reply.type(V2_RESPONSE);
      return { partitions: sub?.kind === 'assigned' ? sub.partitions : [] };
    },
  );

  app.post<{ Params: Params; Body: { offsets: (RecordRef & { offset: number })[] } }>(
    '/consumers/:group/instances/:instance/positions',
    {
      schema: {
        tags,
        summary: 'Seek: the next records start at these offsets',
        params: instanceParams,
        response: noContent,
        body: {
          type: 'object',
          required: ['offsets'],
          properties: { offsets: { type: 'array', items: tpOffset } },
        },
      },
    },
    async (request, reply) => {
      await consume.seek(
        request.params.group,
        request.params.instance,
        request.body.offsets.map((o) => ({
          topic: o.topic,
          partition: o.partition,
          offset: o.offset,
        })),
      );
      reply.code(204);
    },
  );

  for (const where of ['beginning', 'end'] as const) {
    app.post<{ Params: Params; Body: { partitions: { topic: string; partition: number }[] } }>(
      `/consumers/:group/instances/:instance/positions/${where}`,
      {
        schema: {
          tags,
          summary: `Seek to the ${where} of partitions`,
          params: instanceParams,
          response: noContent,
          body: partitionsBody,
        },
      },
      async (request, reply) => {
        await consume.seekTo(
          request.params.group,
          request.params.instance,
          request.body.partitions,
          where,
        );
        reply.code(204);
      },
    );
  }

  app.get<{
    Params: Params;
    Querystring: { timeout?: number; max_bytes?: number; max_records?: number; ack?: string };
  }>(
    '/consumers/:group/instances/:instance/records',
    {
      schema: {
        tags,
        summary: 'Long-poll for records',
        params: instanceParams,
        produces: [V2_BINARY, V2_JSON, V2_AVRO, V2_JSONSCHEMA, V2_PROTOBUF, 'application/json'],
        querystring: {
          type: 'object',
          properties: {
            timeout: { type: 'integer', minimum: 0, maximum: options.maxPollTimeoutMs },
            max_bytes: positiveInt(options.maxPollBytes),
            max_records: positiveInt(options.maxPollRecords),
            ack: {
              type: 'string',
              description:
                'Extension: records to ack before this poll, as topic:partition:offset[:attempt], comma-separated; the answer comes once they are committed, with kgw-acked and kgw-fenced headers',
              maxLength: 65_536,
              pattern: `^${FOLDED_ACK}(,${FOLDED_ACK})*$`,
            },
          },
        },
      },
    },
    async (request, reply) => {
      const { group, instance } = request.params;
      const acks = request.query.ack === undefined ? [] : parseFoldedAcks(request.query.ack);
      // A client that leaves mid-poll ends the wait; records claimed for it go back unspent.
      const left = new AbortController();
      const onClose = (): void => {
        if (!reply.raw.writableFinished) left.abort();
      };
      reply.raw.once('close', onClose);
      const pollOptions = {
        ...(request.query.timeout === undefined ? {} : { timeoutMs: request.query.timeout }),
        maxRecords: request.query.max_records ?? options.maxPollRecords,
        maxBytes: request.query.max_bytes ?? options.maxPollBytes,
      };
      const accept = (found: SessionConfig): void => checkAccept(request, found);
      let session: SessionConfig;
      let delivered: DeliveredRecord[];
      if (acks.length > 0) {
        const polled = await consume.pollAfterAcks(
          group,
          instance,
          acks,
          pollOptions,
          left.signal,
          accept,
        );
        ({ session, records: delivered } = polled);
        reply.header('kgw-acked', String(polled.acked));
        reply.header('kgw-fenced', String(polled.fenced));
      } else {
        ({ session, records: delivered } = await consume.poll(
          group,
          instance,
          pollOptions,
          left.signal,
          accept,
        ));
      }
      if (left.signal.aborted || request.raw.destroyed) {
        await consume.release(group, instance, delivered);
        return reply.code(499).send();
      }
      reply.raw.off('close', onClose);
      let rendered: Record<string, unknown>[];
      try {
        rendered = await Promise.all(
          delivered.map((d) => renderRecord(d, session.format, options.schemaRegistry)),
        );
      } catch (err) {
        // Nothing is delivered: every claimed record goes back unacked and comes again.
        await consume.release(group, instance, delivered);
        throw err;
      }
      reply.type(V2_EMBEDDED_TYPE[session.format]);
      return rendered;
    },
  );

  app.post<{ Params: Params; Body: { offsets?: RecordRef[] } | null | undefined }>(
    '/consumers/:group/instances/:instance/offsets',
    {
      schema: {
        tags,
        summary:
          'Commit: ack everything this instance holds up to each offset (empty body: all it holds)',
        'x-optional-body': true,
        params: instanceParams,
        response: noContent,
        // Confluent clients may send no body at all: commit everything held.
        body: {
          type: ['object', 'null'],
          properties: { offsets: { type: 'array', items: tpOffset } },
        },
      },
    },
    async (request, reply) => {
      await consume.commit(
        request.params.group,
        request.params.instance,
        request.body?.offsets ?? [],
      );
      reply.code(204);
    },
  );

  app.get<{ Params: Params; Querystring: { partitions?: string } }>(
    '/consumers/:group/instances/:instance/offsets',
    {
      schema: {
        tags,
        summary:
          "Kafka's committed offsets (body {partitions:[…]} as Confluent, or ?partitions=topic:0,topic:1)",
        params: instanceParams,
        querystring: {
          type: 'object',
          properties: {
            partitions: {
              type: 'string',
              pattern: '^[a-zA-Z0-9._-]+:[0-9]+(,[a-zA-Z0-9._-]+:[0-9]+)*$',
            },
          },
        },
      },
    },
    async (request, reply) => {
      const partitions = await requestedPartitions(request);
      const offsets = await consume.committed(
        request.params.group,
        request.params.instance,
        partitions,
      );
      reply.type(V2_RESPONSE);
      return { offsets: offsets.map((o) => ({ ...o, metadata: '' })) };
    },
  );

  const ackBody = {
    type: 'object',
    required: ['records'],
    additionalProperties: false,
    properties: {
      records: { type: 'array', minItems: 1, items: tpOffset },
      delay_ms: { type: 'integer', minimum: 0, maximum: 24 * 3_600_000 },
      error: { type: 'string', maxLength: 1000 },
    },
  } as const;
  const ackResponse = (
    reply: FastifyReply,
    counted: number,
    fenced: number,
    verb: string,
  ): unknown => {
    reply.type(V2_RESPONSE);
    return { [verb]: counted, fenced };
  };

  app.post<{ Params: Params; Body: { records: RecordRef[] } }>(
    '/consumers/:group/instances/:instance/acks',
    { schema: { tags, summary: 'Ack records (extension)', params: instanceParams, body: ackBody } },
    async (request, reply) => {
      const result = await consume.ack(
        request.params.group,
        request.params.instance,
        request.body.records,
      );
      return ackResponse(reply, result.acked, result.fenced, 'acked');
    },
  );

  app.post<{ Params: Params; Body: { records: RecordRef[]; extend_ms: number } }>(
    '/consumers/:group/instances/:instance/extensions',
    {
      schema: {
        tags,
        summary:
          'Extend the ack deadline of held records to now + extend_ms (extension; like SQS ChangeMessageVisibility)',
        params: instanceParams,
        body: {
          type: 'object',
          required: ['records', 'extend_ms'],
          additionalProperties: false,
          properties: {
            records: { type: 'array', minItems: 1, items: tpOffset },
            extend_ms: { type: 'integer', minimum: 1, maximum: MAX_EXTEND_MS },
          },
        },
      },
    },
    async (request, reply) => {
      const result = await consume.extend(
        request.params.group,
        request.params.instance,
        request.body.records,
        request.body.extend_ms,
      );
      return ackResponse(reply, result.extended, result.fenced, 'extended');
    },
  );

  app.post<{ Params: Params; Body: { records: RecordRef[]; delay_ms?: number; error?: string } }>(
    '/consumers/:group/instances/:instance/nacks',
    {
      schema: {
        tags,
        summary: 'Nack records: deliver again after delay_ms (extension)',
        params: instanceParams,
        body: ackBody,
      },
    },
    async (request, reply) => {
      const { records, delay_ms: delayMs = 0, error = 'nacked' } = request.body;
      const result = await consume.nack(
        request.params.group,
        request.params.instance,
        records,
        delayMs,
        error,
      );
      return ackResponse(reply, result.nacked, result.fenced, 'nacked');
    },
  );
}
