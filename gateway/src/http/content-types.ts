import type { FastifyInstance } from 'fastify';
import { GatewayError } from '../errors.js';
import { exceedsJsonDepth, MAX_JSON_DEPTH } from '../util/json-depth.js';

/** Confluent REST v2 media types. */
export const V2_JSON = 'application/vnd.kafka.json.v2+json';
export const V2_BINARY = 'application/vnd.kafka.binary.v2+json';
export const V2_GENERIC = 'application/vnd.kafka.v2+json';
/** What v2 answers with. */
export const V2_RESPONSE = V2_GENERIC;

export type EmbeddedFormat = 'json' | 'binary';

/**
 * Lets the app parse Confluent's JSON-based media types with fastify's own
 * (prototype-poisoning safe) JSON parser. Anything else (Avro, Protobuf, JSON
 * Schema) has no parser, so fastify answers 415.
 */
export function registerKafkaMediaTypes(app: FastifyInstance): void {
  const json = app.getDefaultJsonParser('error', 'ignore');
  // application/json too: every JSON body gets the same depth bound.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser(
    ['application/json', V2_JSON, V2_BINARY, V2_GENERIC],
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
  return type === V2_BINARY ? 'binary' : 'json';
}
