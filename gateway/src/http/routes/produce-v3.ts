import type { ServerResponse } from 'node:http';
import { PassThrough, type Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { outcomeOfError, type ProduceService } from '../../core/produce.js';
import type { DeliveryMode, RecordOutcome, TraceContext } from '../../core/produce-types.js';
import { GatewayError, isGatewayError } from '../../errors.js';
import { JsonStreamSplitter, type SplitItem } from '../json-stream-splitter.js';
import { decodeV3Record, type DecodedRecord } from '../v3-records.js';
import { OrderedResults } from '../ordered-results.js';
import { traceContext } from '../trace-context.js';
import { deliveryQuery, errorResponses, idempotencyHeaders, topicName } from './schemas.js';

export interface ProduceV3Options {
  readonly clusterId: string;
  readonly maxRecordBytes: number;
  /** Records of one stream awaiting their result before the gateway stops reading the body. */
  readonly maxOutstanding: number;
  /** Counts streams open right now (a gauge). */
  readonly streamsOpen?: { inc(): void; dec(): void };
}

const dataSchema = {
  type: 'object',
  properties: {
    type: { type: 'string', enum: ['JSON', 'BINARY', 'STRING'], default: 'JSON' },
    data: { description: 'A JSON value (JSON), base64 string (BINARY) or string (STRING).' },
  },
} as const;

const recordSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    partition_id: { type: 'integer', minimum: 0 },
    headers: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name'],
        properties: {
          name: { type: 'string' },
          value: { type: ['string', 'null'], description: 'base64' },
        },
      },
    },
    key: dataSchema,
    value: dataSchema,
    timestamp: { type: 'string', format: 'date-time' },
  },
} as const;

const resultSchema = {
  type: 'object',
  description:
    'One per record. error_code 200 means written; any other value carries message and code.',
  properties: {
    error_code: { type: 'integer' },
    message: { type: 'string' },
    code: { type: 'string' },
    cluster_id: { type: 'string' },
    topic_name: { type: 'string' },
    partition_id: { type: 'integer' },
    offset: { type: 'integer' },
    timestamp: { type: 'string' },
    key: {
      type: ['object', 'null'],
      properties: { type: { type: 'string' }, size: { type: 'integer' } },
    },
    value: {
      type: ['object', 'null'],
      properties: { type: { type: 'string' }, size: { type: 'integer' } },
    },
  },
} as const;

type Result = Record<string, unknown> & { error_code: number };

/**
 * Confluent REST v3 produce. One record per body answers with one result and
 * that record's HTTP status; a body of many concatenated records (streaming
 * mode, typically chunked) answers 200 with one result per record, written
 * in order as each is delivered, while the body is still being read.
 */
export function produceV3Routes(
  app: FastifyInstance,
  produce: ProduceService,
  options: ProduceV3Options,
): void {
  // This scope hands the raw body stream to the handler instead of parsing it.
  app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, payload, done) => done(null, payload));

    scope.post<{
      Params: { clusterId: string; topic: string };
      Querystring: { delivery: DeliveryMode };
      Headers: { 'idempotency-key'?: string };
    }>(
      '/v3/clusters/:clusterId/topics/:topic/records',
      {
        // The body is a stream, validated record by record; its schema is only documented.
        config: {
          // Read for as long as the client streams; only silence cuts it (http/server.ts).
          streamingBody: true,
          swaggerTransform: ({ schema, url }) => ({
            schema: { ...schema, body: recordSchema },
            url,
          }),
        },
        schema: {
          tags: ['produce (v3)'],
          summary: 'Produce one record, or stream many (concatenated JSON objects) on one request',
          params: {
            type: 'object',
            required: ['clusterId', 'topic'],
            properties: { clusterId: { type: 'string' }, topic: topicName },
          },
          querystring: deliveryQuery,
          headers: idempotencyHeaders,
          response: { 200: resultSchema, ...errorResponses },
        },
      },
      async (request, reply) => {
        const { clusterId } = request.params;
        if (clusterId !== options.clusterId) {
          throw new GatewayError('KGW_CLUSTER_NOT_FOUND', `cluster '${clusterId}' not found`);
        }
        const body = request.body as Readable;
        options.streamsOpen?.inc();
        reply.raw.once('close', () => options.streamsOpen?.dec());
        const out = new PassThrough();
        const first = await streamResults(request, reply.raw, body, out, produce, options);
        reply.code(first.status).type('application/json');
        return reply.send(out);
      },
    );
  });
}

/**
 * Reads records from `body`, produces them, and writes results to `out` in
 * order. Resolves once the first result is known, with the status to send.
 * Records parsed from one chunk are produced as one batch (one metadata
 * lookup, one admission check); results are written in as few writes as
 * possible, and a client that stops reading stops the gateway reading.
 */
function streamResults(
  request: FastifyRequest<{
    Params: { topic: string };
    Querystring: { delivery: DeliveryMode };
    Headers: { 'idempotency-key'?: string };
  }>,
  response: ServerResponse,
  body: Readable,
  out: PassThrough,
  produce: ProduceService,
  options: ProduceV3Options,
): Promise<{ status: number }> {
  const { topic } = request.params;
  const { delivery } = request.query;
  const idempotencyKey = request.headers['idempotency-key'];
  const context = traceContext(request);
  const splitter = new JsonStreamSplitter(options.maxRecordBytes * 2 + 64 * 1024);
  const results = new OrderedResults<Result>();
  let gone = false;
  response.once('close', () => {
    gone = true;
  });

  // One Idempotency-Key covers a stream: record i > 0 uses "<key>#<i>", so those go one by one.
  const recordKey = (index: number): string | undefined =>
    idempotencyKey === undefined
      ? undefined
      : index === 0
        ? idempotencyKey
        : `${idempotencyKey}#${index}`;

  const addAll = (items: readonly SplitItem[]): void => {
    if (idempotencyKey !== undefined) {
      for (const item of items) {
        const index = results.added;
        results.push(
          'error' in item
            ? Promise.resolve(errorResult(new GatewayError('KGW_INVALID_REQUEST', item.error)))
            : produceOne(
                produce,
                options.clusterId,
                topic,
                delivery,
                recordKey(index),
                item.value,
                context,
              ),
        );
      }
      return;
    }
    for (const result of produceBatch(produce, options.clusterId, topic, delivery, items, context))
      results.push(result);
  };

  // Reader: parses records as bytes arrive, and stops reading while the window is full.
  void (async () => {
    try {
      for await (const chunk of body) {
        addAll(splitter.push(chunk as Buffer));
        while (results.outstanding >= options.maxOutstanding && !gone) await results.changed();
        if (gone) break;
      }
      addAll(splitter.end());
    } catch (err) {
      request.log.warn({ err }, 'v3 produce body stream failed');
    } finally {
      if (results.added === 0) addAll([{ error: 'the body holds no record', fatal: true }]);
      results.close();
    }
  })();

  // Writer: results in order; the first one also decides the status.
  return new Promise((resolveStatus) => {
    void (async () => {
      let first = true;
      let pending = '';
      for await (const result of results) {
        if (first) {
          first = false;
          // A lone record keeps its own status; a stream answers 200 and carries one per record.
          while (!results.closed && results.added < 2) await results.changed();
          resolveStatus({
            status: results.closed && results.added === 1 ? result.error_code : 200,
          });
        }
        if (gone) continue; // nobody reads: drain the results, write nothing
        pending += `${JSON.stringify(result)}\n`;
        if (pending.length >= 64 * 1024 || !results.headSettled()) {
          const room = out.write(pending);
          pending = '';
          // Wait for the client to read before taking more results: that in turn stops the reader.
          if (!room) await drainOrGone(out, response);
        }
      }
      if (pending && !gone) out.write(pending);
      out.end();
    })();
  });
}

function drainOrGone(out: PassThrough, response: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      out.off('drain', done);
      response.off('close', done);
      resolve();
    };
    out.once('drain', done);
    response.once('close', done);
  });
}

/** Produces the records of one chunk together; decoding errors stay in place. */
function produceBatch(
  produce: ProduceService,
  clusterId: string,
  topic: string,
  delivery: DeliveryMode,
  items: readonly SplitItem[],
  context: TraceContext,
): Promise<Result>[] {
  const decoded = items.map((item) => {
    if ('error' in item) return new GatewayError('KGW_INVALID_REQUEST', item.error);
    try {
      return decodeV3Record(item.value);
    } catch (err) {
      return isGatewayError(err)
        ? err
        : new GatewayError('KGW_INVALID_REQUEST', 'invalid record', { cause: err });
    }
  });
  const valid = decoded.filter((d): d is DecodedRecord => !(d instanceof GatewayError));
  if (valid.length === 0)
    return decoded.map((d) => Promise.resolve(errorResult(d as GatewayError)));
  const batch = produce
    .produce({
      topic,
      records: valid.map((v) => v.record),
      delivery,
      context,
      unknownPartition: 'record',
    })
    .then(
      (r) => r.outcomes,
      (err: unknown) => valid.map(() => outcomeOfError(err)),
    );
  let index = 0;
  return decoded.map((d) => {
    if (d instanceof GatewayError) return Promise.resolve(errorResult(d));
    const at = index;
    index += 1;
    return batch.then((outcomes) => render(clusterId, topic, d, outcomes[at]!));
  });
}

function render(
  clusterId: string,
  topic: string,
  decoded: DecodedRecord,
  outcome: RecordOutcome,
): Result {
  if (!outcome.ok) return errorResult(new GatewayError(outcome.code, outcome.message));
  const { record, keyType, valueType } = decoded;
  return {
    error_code: 200,
    cluster_id: clusterId,
    topic_name: topic,
    partition_id: outcome.partition,
    offset: outcome.offset,
    timestamp: new Date(outcome.timestamp).toISOString(),
    key: record.key === null ? null : { type: keyType, size: record.key.length },
    value: record.value === null ? null : { type: valueType, size: record.value.length },
  };
}

async function produceOne(
  produce: ProduceService,
  clusterId: string,
  topic: string,
  delivery: DeliveryMode,
  idempotencyKey: string | undefined,
  raw: unknown,
  context: TraceContext,
): Promise<Result> {
  try {
    const decoded = decodeV3Record(raw);
    const result = await produce.produce({
      topic,
      records: [decoded.record],
      delivery,
      context,
      ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
    });
    return render(clusterId, topic, decoded, result.outcomes[0]!);
  } catch (err) {
    return errorResult(
      isGatewayError(err)
        ? err
        : new GatewayError('KGW_INTERNAL', 'internal error', { cause: err }),
    );
  }
}

function errorResult(err: GatewayError): Result {
  return { error_code: err.httpStatus, message: err.message, code: err.code };
}

/** Validates and decodes one v3 record object. */
