import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ProduceService } from '../../core/produce.js';
import type { EncodedRecords, SchemaRecordEncoder } from '../../core/schema-records.js';
import type { DeliveryMode, ProduceResult, RecordInput } from '../../core/produce-types.js';
import {
  V2_AVRO,
  V2_JSONSCHEMA,
  V2_PROTOBUF,
  V2_RESPONSE,
  embeddedFormat,
} from '../content-types.js';
import { decodeBase64, encodeJson, firstFailure, v2RecordErrorCode } from '../produce-encoding.js';
import { GatewayError } from '../../errors.js';
import { traceContext } from '../trace-context.js';
import { deliveryQuery, errorResponses, idempotencyHeaders, topicName } from './schemas.js';

interface V2Record {
  key?: unknown;
  value?: unknown;
  partition?: number;
}

interface V2Body {
  records: V2Record[];
  key_schema?: string;
  key_schema_id?: number;
  value_schema?: string;
  value_schema_id?: number;
}

const SCHEMA_FIELDS = ['key_schema', 'key_schema_id', 'value_schema', 'value_schema_id'] as const;

const schemaText = {
  type: 'string',
  minLength: 1,
  description:
    'avro, jsonschema, protobuf: the schema, registered under <topic>-key / <topic>-value.',
} as const;
const schemaId = {
  type: 'integer',
  minimum: 0,
  maximum: 2147483647,
  description: 'avro, jsonschema, protobuf: the id of a registered schema (instead of its text).',
} as const;

const recordsBody = {
  type: 'object',
  required: ['records'],
  additionalProperties: false,
  properties: {
    key_schema: schemaText,
    key_schema_id: schemaId,
    value_schema: schemaText,
    value_schema_id: schemaId,
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
    key_schema_id: { type: ['integer', 'null'] },
    value_schema_id: { type: ['integer', 'null'] },
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
  V2_AVRO,
  V2_JSONSCHEMA,
  V2_PROTOBUF,
  'application/json',
];

/** Confluent REST v2 produce: POST /topics/{topic} and POST /topics/{topic}/partitions/{partition}. */
export function produceV2Routes(
  app: FastifyInstance,
  produce: ProduceService,
  schemas: SchemaRecordEncoder,
): void {
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
    const body = request.body;
    let encoded: EncodedRecords | undefined;
    if (format === 'json' || format === 'binary') {
      const field = SCHEMA_FIELDS.find((f) => body[f] !== undefined);
      // As before schema formats existed: a field the body's format has no use for is refused.
      if (field)
        throw new GatewayError(
          'KGW_INVALID_REQUEST',
          `${field} applies to the avro, jsonschema and protobuf content types, not ${format}`,
        );
    } else {
      // Schemas are registered only for a topic the caller may write, and that exists.
      schemas.registry(format);
      await produce.admit(request.params.topic);
      encoded = await schemas.encode(request.params.topic, format, {
        keySchema: body.key_schema,
        keySchemaId: body.key_schema_id,
        valueSchema: body.value_schema,
        valueSchemaId: body.value_schema_id,
        records: body.records,
      });
    }
    const records: RecordInput[] = body.records.map((r, i) => ({
      key: encoded
        ? encoded.keys[i]!
        : format === 'binary'
          ? decodeOptionalBase64(r.key, `records[${i}].key`)
          : encodeJson(r.key),
      value: encoded
        ? encoded.values[i]!
        : format === 'binary'
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
    return sendV2(reply, result, encoded?.keySchemaId ?? null, encoded?.valueSchemaId ?? null);
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

function sendV2(
  reply: FastifyReply,
  result: ProduceResult,
  keySchemaId: number | null,
  valueSchemaId: number | null,
): unknown {
  const failure = firstFailure(result.outcomes);
  if (result.replayed) reply.header('idempotent-replayed', 'true');
  if (failure) throw failure;
  reply.type(V2_RESPONSE);
  return {
    key_schema_id: keySchemaId,
    value_schema_id: valueSchemaId,
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
