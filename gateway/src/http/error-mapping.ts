import { GatewayError, isGatewayError, type ErrorCode } from '../errors.js';

/** Fastify's own client errors, by their stable `code` (never their message). */
const FASTIFY_CODES: Readonly<Record<string, ErrorCode>> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'KGW_UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'KGW_MALFORMED_REQUEST',
  FST_ERR_CTP_BODY_TOO_LARGE: 'KGW_PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'KGW_MALFORMED_REQUEST',
  FST_ERR_CTP_INVALID_JSON_BODY: 'KGW_MALFORMED_REQUEST',
  FST_ERR_VALIDATION: 'KGW_INVALID_REQUEST',
};

interface FastifyLikeError {
  code?: unknown;
  statusCode?: unknown;
  validation?: unknown;
  message?: unknown;
}

/** Turns whatever a route or fastify threw into a GatewayError for the response. */
export function toGatewayError(err: unknown): GatewayError {
  if (isGatewayError(err)) return err;
  const e = (err ?? {}) as FastifyLikeError;
  const message = typeof e.message === 'string' ? e.message : 'request failed';
  if (e.validation !== undefined)
    return new GatewayError('KGW_INVALID_REQUEST', message, { cause: err });
  const byCode = typeof e.code === 'string' ? FASTIFY_CODES[e.code] : undefined;
  if (byCode) return new GatewayError(byCode, message, { cause: err });
  // fastify's JSON parser throws a SyntaxError carrying statusCode 400.
  if (e.statusCode === 400)
    return new GatewayError('KGW_MALFORMED_REQUEST', message, { cause: err });
  return new GatewayError('KGW_INTERNAL', 'internal error', { cause: err });
}
