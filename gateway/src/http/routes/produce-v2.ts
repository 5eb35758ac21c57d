import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ProduceService } from '../../core/produce.js';
import type { DeliveryMode, ProduceResult, RecordInput } from '../../core/produce-types.js';
import { V2_RESPONSE, embeddedFormat } from '../content-types.js';
import { decodeBase64, encodeJson, firstFailure, v2RecordErrorCode } from '../produce-encoding.js';
import { traceContext } from '../trace-context.js';
import { deliveryQuery, errorResponses, idempotencyHeaders, topicName } from './schemas.js';

interface V2Record {
  key?: unknown;
  value?: unknown;
  partition?: number;
}

interface V2Body {
  records: V2Record[];
}

const recordsBody = {
  type: 'object',
  required: ['records'],
  additionalProperties: false,
  properties: {
    records: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        properties: {
          key: {
            description: 'JSON value (json formats) or base64 string (binary); null for none.',
          },
          value: {
            description:
              'JSON value (json formats) or base64 string (binary); null for a tombstone.',
          },
          partition: { type: 'integer', minimum: 0 },
        },
      },
    },
  },
} as const;

const offsetsResponse = {
  type: 'object',
  properties: {
    key_schema_id: { type: 'null' },
    value_schema_id: { type: 'null' },
    offsets: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          partition: { type: ['integer', 'null'] },
          offset: { type: ['integer', 'null'] },
          error_code: {
            type: ['integer', 'null'],
            description: '1: not retriable, 2: retriable, null: written',
          },
          error: { type: ['string', 'null'] },
        },
      },
    },
  },
} as const;

const consumes = [
  'application/vnd.kafka.json.v2+json',
  'application/vnd.kafka.binary.v2+json',
  'application/json',
];

/** Confluent REST v2 produce: POST /topics/{topic} and POST /topics/{topic}/partitions/{partition}. */
export function produceV2Routes(app: FastifyInstance, produce: ProduceService): void {
  const handle = async (
    request: FastifyRequest<{
      Params: { topic: string };
      Querystring: { delivery: DeliveryMode };
      Body: V2Body;
    }>,
    partition: number | undefined,
    reply: FastifyReply,
  ): Promise<unknown> => {
    const format = embeddedFormat(request.headers['content-type']);
    const records: RecordInput[] = request.body.records.map((r, i) => ({
      key:
        format === 'binary' ? decodeOptionalBase64(r.key, `records[${i}].key`) : encodeJson(r.key),
      value:
        format === 'binary'
          ? decodeOptionalBase64(r.value, `records[${i}].value`)
          : encodeJson(r.value),
      ...(partition !== undefined
        ? { partition }
        : r.partition !== undefined
          ? { partition: r.partition }
          : {}),
    }));
    const idempotencyKey = request.headers['idempotency-key'];
    const result = await produce.produce({
      topic: request.params.topic,
      records,
      delivery: request.query.delivery,
      context: traceContext(request),
      ...(typeof idempotencyKey === 'string' ? { idempotencyKey } : {}),
    });
    return sendV2(reply, result);
  };

  app.post<{
    Params: { topic: string };
    Querystring: { delivery: DeliveryMode };
    Headers: { 'idempotency-key'?: string };
    Body: V2Body;
  }>(
    '/topics/:topic',
    {
      schema: {
        tags: ['produce (v2)'],
        summary: 'Produce records to a topic',
        consumes,
        params: { type: 'object', required: ['topic'], properties: { topic: topicName } },
        querystring: deliveryQuery,
        headers: idempotencyHeaders,
        body: recordsBody,
        response: { 200: offsetsResponse, ...errorResponses },
      },
    },
    (request, reply) => handle(request, undefined, reply),
  );

  app.post<{
    Params: { topic: string; partition: number };
    Querystring: { delivery: DeliveryMode };
    Headers: { 'idempotency-key'?: string };
    Body: V2Body;
  }>(
    '/topics/:topic/partitions/:partition',
    {
      schema: {
        tags: ['produce (v2)'],
        summary: 'Produce records to one partition',
        consumes,
        params: {
          type: 'object',
          required: ['topic', 'partition'],
          properties: { topic: topicName, partition: { type: 'integer', minimum: 0 } },
        },
        querystring: deliveryQuery,
        headers: idempotencyHeaders,
        body: recordsBody,
        response: { 200: offsetsResponse, ...errorResponses },
      },
    },
    (request, reply) => handle(request, request.params.partition, reply),
  );
}

function decodeOptionalBase64(data: unknown, field: string): Buffer | null {
  return data === null || data === undefined
    ? null
    : decodeBase64(data, field, 'KGW_MALFORMED_REQUEST');
}

function sendV2(reply: FastifyReply, result: ProduceResult): unknown {
  const failure = firstFailure(result.outcomes);
  if (result.replayed) reply.header('idempotent-replayed', 'true');
  if (failure) throw failure;
  reply.type(V2_RESPONSE);
  return {
    key_schema_id: null,
    value_schema_id: null,
    offsets: result.outcomes.map((o) =>
      o.ok
        ? { partition: o.partition, offset: o.offset, error_code: null, error: null }
        : {
            partition: o.partition,
            offset: null,
            error_code: v2RecordErrorCode(o),
            error: o.message,
          },
    ),
  };
}
