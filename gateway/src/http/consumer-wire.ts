import { exceedsJsonDepth } from '../util/json-depth.js';
import type { FastifyRequest } from 'fastify';
import type { DeliveredRecord } from '../core/consume-types.js';
import { GatewayError } from '../errors.js';
import type { SessionConfig } from '../store/session-store.js';
import type { SchemaRegistryClient } from '../schema/registry-client.js';
import { decodeWithSchema } from '../schema/wire-format.js';
import { V2_EMBEDDED_TYPE } from './content-types.js';

/** The consumer API's wire format: Accept negotiation, record rendering, partition lists. */

export function checkAccept(request: FastifyRequest, session: SessionConfig): void {
  const accept = (request.headers.accept ?? '*/*').toLowerCase();
  const wanted = V2_EMBEDDED_TYPE[session.format];
  // Asking only for another embedded format's type is refused.
  const other = Object.values(V2_EMBEDDED_TYPE).some((t) => t !== wanted && accept.includes(t));
  if (other && !accept.includes(wanted)) {
    throw new GatewayError(
      'KGW_NOT_ACCEPTABLE',
      `this consumer's format is ${session.format}; accept ${wanted}`,
    );
  }
}

export async function renderRecord(
  d: DeliveredRecord,
  format: SessionConfig['format'],
  registry: SchemaRegistryClient | undefined,
): Promise<Record<string, unknown>> {
  const { record } = d;
  const decode = async (bytes: Buffer | null): Promise<unknown> => {
    if (bytes === null) return null;
    if (format === 'binary') return bytes.toString('base64');
    if (format !== 'json') {
      if (!registry)
        throw new GatewayError(
          'KGW_UNSUPPORTED_MEDIA_TYPE',
          `the ${format} format needs a schema registry, and KGW_SCHEMA_REGISTRY_URL is not set`,
        );
      return decodeWithSchema(
        registry,
        bytes,
        format,
        `${record.topic}-${record.partition} offset ${record.offset}`,
      );
    }
    const text = bytes.toString('utf8');
    // Too deep to render as JSON again: handed over as the string it is.
    if (exceedsJsonDepth(text)) return text;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      // As Confluent's json consumer: the read fails (408, 40801); the caller gives the records back.
      throw new GatewayError(
        'KGW_DESERIALIZATION_FAILED',
        `the record at ${record.topic}-${record.partition} offset ${record.offset} is not JSON; seek past it (POST …/positions) or read it with a binary consumer`,
      );
    }
  };
  return {
    topic: record.topic,
    key: await decode(record.key),
    value: await decode(record.value),
    partition: record.partition,
    offset: record.offset,
    headers: record.headers.map((h) => ({ name: h.name, value: h.value.toString('base64') })),
    timestamp: record.timestamp,
    attempt: d.attempt,
  };
}

/** Confluent sends the partitions of GET offsets as a JSON body; a query string also works. */
export async function requestedPartitions(
  request: FastifyRequest<{ Querystring: { partitions?: string } }>,
): Promise<{ topic: string; partition: number }[]> {
  if (request.query.partitions) {
    return request.query.partitions.split(',').map((item) => {
      const at = item.lastIndexOf(':');
      const partition = Number(item.slice(at + 1));
      if (at <= 0 || !Number.isInteger(partition) || partition < 0) {
        throw new GatewayError(
          'KGW_INVALID_REQUEST',
          `partitions must look like topic:0,topic:1 (got '${item}')`,
        );
      }
      return { topic: item.slice(0, at), partition };
    });
  }
  let text = '';
  for await (const chunk of request.raw) {
    text += (chunk as Buffer).toString();
    if (text.length > 1_000_000)
      throw new GatewayError('KGW_PAYLOAD_TOO_LARGE', 'the body is too large');
  }
  let body: { partitions?: unknown };
  try {
    body = text ? (JSON.parse(text) as { partitions?: unknown }) : {};
  } catch {
    throw new GatewayError('KGW_MALFORMED_REQUEST', 'the body is not valid JSON');
  }
  const list = body.partitions;
  if (!Array.isArray(list) || list.length === 0)
    throw new GatewayError('KGW_INVALID_REQUEST', 'give the partitions to read');
  return list.map((p: unknown, i) => {
    const item = p as { topic?: unknown; partition?: unknown };
    if (
      typeof item?.topic !== 'string' ||
      !Number.isInteger(item.partition) ||
      (item.partition as number) < 0
    ) {
      throw new GatewayError(
        'KGW_INVALID_REQUEST',
        `partitions[${i}] needs a topic and a partition`,
      );
    }
    return { topic: item.topic, partition: item.partition as number };
  });
}
