import type { FastifyInstance } from 'fastify';
import { GatewayError } from '../errors.js';
import type { SchemaFormat } from '../schema/registry-client.js';
import { exceedsJsonDepth, MAX_JSON_DEPTH } from '../util/json-depth.js';

/** Confluent REST v2 media types. */
export const V2_JSON = 'application/vnd.kafka.json.v2+json';
export const V2_BINARY = 'application/vnd.kafka.binary.v2+json';
export const V2_GENERIC = 'application/vnd.kafka.v2+json';
/** The schema formats: JSON keys and values, serialized with a registry schema. */
export const V2_AVRO = 'application/vnd.kafka.avro.v2+json';
export const V2_JSONSCHEMA = 'application/vnd.kafka.jsonschema.v2+json';
export const V2_PROTOBUF = 'application/vnd.kafka.protobuf.v2+json';
/** What v2 answers with. */
export const V2_RESPONSE = V2_GENERIC;
/** Confluent's version-less generic type (its KAFKA_DEFAULT_JSON): means the same as V2_GENERIC. */
export const KAFKA_DEFAULT = 'application/vnd.kafka+json';
/** Confluent's v1 media types: the v2 produce and metadata bodies have the same shape. */
export const V1_JSON = 'application/vnd.kafka.json.v1+json';
export const V1_BINARY = 'application/vnd.kafka.binary.v1+json';
export const V1_GENERIC = 'application/vnd.kafka.v1+json';

/** Every request Content-Type parsed as JSON; anything else is 415. */
export const JSON_REQUEST_TYPES = [
  'application/json',
  V2_JSON,
  V2_BINARY,
  V2_AVRO,
  V2_JSONSCHEMA,
  V2_PROTOBUF,
  V2_GENERIC,
  KAFKA_DEFAULT,
  V1_JSON,
  V1_BINARY,
  V1_GENERIC,
] as const;

export type EmbeddedFormat = 'json' | 'binary' | SchemaFormat;

/** Each embedded format's v2 media type. */
export const V2_EMBEDDED_TYPE: Record<EmbeddedFormat, string> = {
  json: V2_JSON,
  binary: V2_BINARY,
  avro: V2_AVRO,
  jsonschema: V2_JSONSCHEMA,
  protobuf: V2_PROTOBUF,
};

/**
 * Lets the app parse Confluent's JSON-based media types with fastify's own
 * (prototype-poisoning safe) JSON parser (the schema formats' bodies are JSON
 * too). Anything else (application/octet-stream, …) has no parser, so fastify
 * answers 415.
 */
export function registerKafkaMediaTypes(app: FastifyInstance): void {
  const json = app.getDefaultJsonParser('error', 'ignore');
  // application/json too: every JSON body gets the same depth bound.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser(
    [...JSON_REQUEST_TYPES],
    { parseAs: 'string' },
    (request, body, done) => {
      const text = body.toString();
      // Confluent clients send an empty body (e.g. "commit everything"): that is no body, not bad JSON.
      if (text.length === 0) done(null, null);
      else if (exceedsJsonDepth(text))
        done(
          new GatewayError(
            'KGW_MALFORMED_REQUEST',
            `the JSON body nests arrays or objects deeper than ${MAX_JSON_DEPTH} levels`,
          ),
          undefined,
        );
      else json(request, text, done);
    },
  );
}

/** How keys and values are embedded in a v2 produce body, from its Content-Type. */
export function embeddedFormat(contentType: string | undefined): EmbeddedFormat {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === V2_BINARY || type === V1_BINARY) return 'binary';
  if (type === V2_AVRO) return 'avro';
  if (type === V2_JSONSCHEMA) return 'jsonschema';
  if (type === V2_PROTOBUF) return 'protobuf';
  return 'json';
}

/** One media range of an Accept header, with its quality. */
interface MediaRange {
  readonly type: string;
  readonly q: number;
}

function mediaRanges(accept: string): MediaRange[] {
  return accept
    .split(',')
    .map((part) => {
      const [type = '', ...params] = part.split(';').map((s) => s.trim().toLowerCase());
      const q = params.find((p) => p.startsWith('q='));
      const quality = q === undefined ? 1 : Number(q.slice(2));
      return { type, q: Number.isFinite(quality) ? quality : 0 };
    })
    .filter((r) => r.type !== '');
}

function matches(range: string, type: string): boolean {
  if (range === '*/*' || range === type) return true;
  return range.endsWith('/*') && type.startsWith(range.slice(0, -1));
}

/**
 * The media type to answer with: the first of `offered` that the Accept
 * header takes with a quality above 0 (offered order breaks ties), or
 * undefined when it takes none. No Accept header takes anything.
 */
export function negotiate(
  accept: string | undefined,
  offered: readonly string[],
): string | undefined {
  if (accept === undefined || accept.trim() === '') return offered[0];
  const ranges = mediaRanges(accept);
  let best: { type: string; q: number } | undefined;
  for (const type of offered) {
    // The most specific range that names the type decides its quality (RFC 9110 §12.5.1).
    const range = ranges
      .filter((r) => matches(r.type, type))
      .sort((a, b) => specificity(b.type) - specificity(a.type))[0];
    if (range && range.q > 0 && (best === undefined || range.q > best.q))
      best = { type, q: range.q };
  }
  return best?.type;
}

function specificity(range: string): number {
  return range === '*/*' ? 0 : range.endsWith('/*') ? 1 : 2;
}

/** What a v2 route can answer with, in preference order (Confluent's v2, generic, JSON and embedded types). */
export const V2_ANSWERS = [
  V2_GENERIC,
  KAFKA_DEFAULT,
  'application/json',
  V2_JSON,
  V2_BINARY,
  V2_AVRO,
  V2_JSONSCHEMA,
  V2_PROTOBUF,
  V1_GENERIC,
  V1_JSON,
  V1_BINARY,
] as const;
/** What a v3 route can answer with. */
export const V3_ANSWERS = ['application/json'] as const;
