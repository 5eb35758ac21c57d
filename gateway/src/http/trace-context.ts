import type { FastifyRequest } from 'fastify';
import type { TraceContext } from '../core/produce-types.js';

/** W3C traceparent: version-traceid-parentid-flags, lowercase hex. */
const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

/** The request's id and a well-formed incoming traceparent (a malformed one is dropped, not forwarded). */
export function traceContext(request: FastifyRequest): TraceContext {
  const header = request.headers.traceparent;
  const traceparent =
    typeof header === 'string' && TRACEPARENT.test(header.trim()) ? header.trim() : undefined;
  return { requestId: request.id, ...(traceparent ? { traceparent } : {}) };
}
