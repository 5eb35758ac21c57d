import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import swagger from '@fastify/swagger';
import type { TLSSocket } from 'node:tls';
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyRequest,
} from 'fastify';
import type { Authenticator } from '../auth/authenticator.js';
import type { Quotas } from '../auth/quotas.js';
import { ANONYMOUS, type Credentials, type Principal } from '../auth/principal.js';
import { runAs } from '../auth/request-context.js';
import type { Registry } from 'prom-client';
import type { Readiness } from '../core/readiness.js';
import { GatewayError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import { RequestLogger } from '../observability/request-logger.js';
import type { Metrics } from '../observability/metrics.js';
import {
  negotiate,
  registerKafkaMediaTypes,
  V2_ANSWERS,
  V2_RESPONSE,
  V3_ANSWERS,
} from './content-types.js';
import { toGatewayError } from './error-mapping.js';
import { errorResponses } from './routes/schemas.js';
import { healthRoutes } from './routes/health.js';
import { metricsRoutes } from './routes/metrics.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who sent it; null until authentication ran (read it with principalOf). */
    principal: Principal | null;
  }
  interface FastifySchema {
    /** The route also takes an empty body; the OpenAPI document says so (see transformObject). */
    'x-optional-body'?: boolean;
  }
  interface FastifyContextConfig {
    /** The route reads its body as a long-lived stream: only silence cuts it, not its length. */
    streamingBody?: boolean;
  }
}

export interface HttpServerOptions {
  /** Checks every request's credentials (except /healthz and /readyz); absent: off. */
  readonly authenticator?: Authenticator;
  /** Per-principal request quota and failed-authentication budget. */
  readonly quotas?: Quotas;
  /** Throws 403 unless the running principal may `admin` (asked for ADMIN_PATHS when authentication is on). */
  readonly requireAdmin?: () => void;
  /** Serve HTTPS; with clientCa, ask for client certificates (verified, optional at TLS level). */
  readonly tls?: { readonly cert: Buffer; readonly key: Buffer; readonly clientCa?: Buffer };
  readonly logger: Logger;
  readonly registry: Registry;
  /** What GET /metrics answers (default: the registry's own text). */
  readonly metricsText?: () => Promise<string>;
  readonly metrics: Metrics;
  readonly readiness: Readiness;
  readonly bodyLimitBytes: number;
  /** Deadline for a whole body; for streaming routes, the longest silence between chunks. */
  readonly bodyTimeoutMs?: number;
  /** Deadline for the request line and headers. */
  readonly headersTimeoutMs?: number;
  /** Route sets registered after the OpenAPI plugin, so their schemas are documented. */
  readonly routes?: ReadonlyArray<(app: FastifyInstance) => void>;
  readonly version?: string;
}

/** What a caller's X-Request-Id may be: 1–128 of letters, digits and . _ : - */
export const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
/** Longest path parameter (topic, group, instance id); Kafka's topic names stop at 249. */
export const MAX_PATH_PARAM_LENGTH = 255;

/** Who sent the request (ANONYMOUS when authentication is off). */
export function principalOf(request: FastifyRequest): Principal {
  return request.principal ?? ANONYMOUS;
}

/** Paths served without authentication: liveness and readiness probes. */
const OPEN_PATHS = new Set(['/healthz', '/readyz']);
/** Operator endpoints: with authentication on, the principal needs the policy's `admin`. */
const ADMIN_PATHS = new Set(['/metrics', '/openapi.json']);

/** The credentials an HTTP request carries: headers, and a client certificate TLS verified. */
function credentialsOf(request: FastifyRequest): Credentials {
  const header = (name: string): string | undefined => {
    const value = request.headers[name];
    return typeof value === 'string' ? value : undefined;
  };
  const socket = request.raw.socket as TLSSocket;
  const cert = socket.encrypted && socket.authorized ? socket.getPeerCertificate() : undefined;
  const cn = cert?.subject?.CN;
  return {
    authorization: header('authorization'),
    apiKey: header('x-api-key'),
    ...(typeof cn === 'string' && cn !== '' ? { clientCertificate: { subjectCn: cn } } : {}),
  };
}

/** The path without its query and without a trailing slash, as the router matches it. */
function routePath(url: string): string {
  const path = url.split('?')[0]!;
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
}

/** What the route answers with, in preference order; undefined: not negotiated (probes, metrics). */
function answersOf(routeUrl: string | undefined): readonly string[] | undefined {
  if (routeUrl === undefined || NOT_NEGOTIATED.has(routeUrl)) return undefined;
  return routeUrl.startsWith('/v3') ? V3_ANSWERS : V2_ANSWERS;
}
const NOT_NEGOTIATED = new Set(['/healthz', '/readyz', '/metrics', '/openapi.json']);

/** Routes that stay up while the instance drains. */
const ALWAYS_SERVED = new Set(['/healthz', '/readyz', '/metrics']);

function statusClass(status: number): string {
  return `${Math.floor(status / 100)}xx`;
}

/** Builds the HTTP transport; it never listens (app.ts does). */
export function buildHttpServer(options: HttpServerOptions): FastifyInstance {
  const { logger, registry, metrics, readiness } = options;
  const app = Fastify({
    ...(options.tls
      ? {
          https: {
            cert: options.tls.cert,
            key: options.tls.key,
            ...(options.tls.clientCa
              ? // Asked, not required at TLS level: API-key and JWT callers need no certificate;
                // an unverified one is simply not taken as an identity.
                { ca: options.tls.clientCa, requestCert: true, rejectUnauthorized: false }
              : {}),
          },
        }
      : {}),
    // pino's Logger is a FastifyBaseLogger; the cast keeps the default instance type.
    loggerInstance: logger as FastifyBaseLogger,
    // One access line per request, written by the onResponse hook below.
    logController: new LogController({
      disableRequestLogging: true,
      requestIdLogLabel: 'requestId',
    }),
    // request.log makes its pino child only when a line is written (see RequestLogger).
    childLoggerFactory: (root, bindings, childOptions) =>
      new RequestLogger(root as Logger, bindings, childOptions) as unknown as FastifyBaseLogger,
    bodyLimit: options.bodyLimitBytes,
    http: {
      headersTimeout: options.headersTimeoutMs ?? 60_000,
      // Node's own requestTimeout would cut long streaming bodies too: the body hook replaces it.
      requestTimeout: 0,
      // How often Node checks headersTimeout (its default, 30 s, would let slow headers live 40 s).
      connectionsCheckingInterval: 1000,
    },
    // A caller's X-Request-Id is kept only if it is short and plain (it is echoed and copied
    // into produced records' headers); anything else is replaced by a fresh UUID.
    requestIdHeader: false,
    genReqId: (request) => {
      const given = request.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    // Kafka allows topic names of 249 characters; group and instance ids get the same room.
    // Confluent (JAX-RS) serves `/consumers/g/` like `/consumers/g`: so does every route here.
    routerOptions: { maxParamLength: MAX_PATH_PARAM_LENGTH, ignoreTrailingSlash: true },
    // Errors fastify raises before routing answer with our body too: a longer path parameter
    // names nothing that can exist (404), a URL that does not decode is malformed (400).
    frameworkErrors: (err, _request, reply) => {
      const gatewayError =
        err.code === 'FST_ERR_MAX_PARAM_LENGTH'
          ? new GatewayError(
              'KGW_ROUTE_NOT_FOUND',
              `a path parameter is longer than ${MAX_PATH_PARAM_LENGTH} characters`,
            )
          : err.code === 'FST_ERR_BAD_URL'
            ? new GatewayError('KGW_MALFORMED_REQUEST', 'the URL does not decode')
            : toGatewayError(err);
      // The reply here is typed for no particular route; the raw response is plain.
      reply.raw.writeHead(gatewayError.httpStatus, { 'content-type': 'application/json' });
      reply.raw.end(JSON.stringify(gatewayError.toJSON()));
    },
    // Answer a shutdown ourselves with the stable error body (see onRequest below).
    return503OnClosing: false,
    // Reject unknown body fields instead of silently dropping them,
    // and never wrap a scalar into an array ({"topics":"T"} is refused, not read as ["T"]).
    ajv: { customOptions: { removeAdditional: false, coerceTypes: true } },
  });
  // Only JSON-based bodies are accepted; text/plain gets 415 rather than a schema error.
  app.removeContentTypeParser('text/plain');
  registerKafkaMediaTypes(app);
  app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'kafka-gateway',
        version: options.version ?? '0.0.0',
        description:
          'HTTP gateway in front of Apache Kafka, compatible with Confluent REST Proxy v2/v3 produce. Errors: docs/ERRORS.md.',
      },
    },
    // A route marked x-optional-body takes an empty body too (Confluent clients send none).
    transformObject: (documentObject) => {
      const document = (
        'openapiObject' in documentObject
          ? documentObject.openapiObject
          : documentObject.swaggerObject
      ) as { paths?: Record<string, Record<string, Record<string, unknown>>> };
      for (const operations of Object.values(document.paths ?? {})) {
        for (const operation of Object.values(operations)) {
          if (operation['x-optional-body'] !== true) continue;
          delete operation['x-optional-body'];
          const body = operation.requestBody as { required?: boolean } | undefined;
          if (body) body.required = false;
        }
      }
      return document;
    },
  });

  app.decorateRequest('principal', null);
  const { authenticator } = options;
  app.addHook('onRequest', async (request, reply) => {
    metrics.httpRequestsInFlight.inc();
    reply.header('x-request-id', request.id);
    // Normalised: with trailing slashes tolerated, `/metrics/` must not slip past ADMIN_PATHS.
    const path = routePath(request.url);
    if (authenticator?.enabled && !OPEN_PATHS.has(path)) {
      try {
        request.principal = await authenticator.authenticate(credentialsOf(request));
      } catch (err) {
        reply.header('www-authenticate', authenticator.challenge);
        await options.quotas?.authFailure(request.ip); // 429 once an address fails too often
        throw err;
      }
      const quotas = options.quotas;
      if (quotas) {
        const decision = await quotas.request(request.principal);
        if (decision.limit > 0) {
          reply.header('ratelimit-limit', String(decision.limit));
          reply.header('ratelimit-remaining', String(Math.max(0, decision.remaining)));
        }
      }
      const { requireAdmin } = options;
      if (requireAdmin && ADMIN_PATHS.has(path)) runAs(request.principal, requireAdmin);
    }
    // A known path with another method: 405 before any body parsing (e.g. QUERY, TRACE).
    if (request.is404) {
      const refused = methodNotAllowed(request.method, request.url);
      if (refused) {
        reply.header('allow', refused.allowed);
        throw refused.error;
      }
    }
    if (readiness.closing && !ALWAYS_SERVED.has(request.routeOptions.url ?? '')) {
      reply.header('connection', 'close');
      throw new GatewayError('KGW_SHUTTING_DOWN', 'this instance is shutting down; retry');
    }
    // Accept: 406 before any work when the client takes none of what the route answers.
    const answers = request.is404 ? undefined : answersOf(request.routeOptions.url);
    if (answers && negotiate(request.headers.accept, answers) === undefined) {
      throw new GatewayError(
        'KGW_NOT_ACCEPTABLE',
        `this route answers ${answers.join(', ')}; the Accept header takes none of them`,
      );
    }
  });

  // A success body goes out in the type the client asked for when it does not take the route's
  // own (e.g. Accept: application/json gets application/json; the bytes are the same JSON).
  app.addHook('onSend', async (request, reply) => {
    if (reply.statusCode >= 300) return;
    const answers = answersOf(request.routeOptions.url);
    const current = String(reply.getHeader('content-type') ?? '')
      .split(';')[0]!
      .trim();
    if (!answers || current === '' || request.headers.accept === undefined) return;
    if (negotiate(request.headers.accept, [current]) !== undefined) return;
    const chosen = negotiate(request.headers.accept, answers);
    if (chosen) reply.header('content-type', chosen);
  });

  const bodyTimeoutMs = options.bodyTimeoutMs;
  if (bodyTimeoutMs !== undefined) {
    app.addHook('onRequest', async (request) => {
      const streaming = request.routeOptions.config.streamingBody === true;
      cutSlowBodies(request.raw, bodyTimeoutMs, streaming, () => metrics.httpBodyTimeouts.inc());
    });
  }

  // While draining, every answer tells the client to reconnect elsewhere, so no keep-alive
  // connection outlives the request that is in flight on it.
  app.addHook('onSend', async (_request, reply) => {
    if (readiness.closing) reply.header('connection', 'close');
  });

  app.addHook('onResponse', async (request, reply) => {
    metrics.httpRequestsInFlight.dec();
    const route = request.routeOptions.url ?? 'unmatched';
    const labels = { route, method: request.method, status_class: statusClass(reply.statusCode) };
    const seconds = reply.elapsedTime / 1000;
    metrics.httpRequests.inc(labels);
    metrics.httpRequestDuration.observe(labels, seconds);
    // From the root logger with the id in the line: no per-request child is made for it.
    logger.info(
      {
        requestId: request.id,
        route,
        method: request.method,
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 10) / 10,
        // Declared lengths; a streamed (chunked) body has none.
        bytesIn: Number(request.headers['content-length'] ?? 0),
        bytesOut: Number(reply.getHeader('content-length') ?? 0),
      },
      'request',
    );
  });

  app.setErrorHandler((err, request, reply) => {
    const gatewayError = toGatewayError(err);
    if (gatewayError.httpStatus >= 500)
      request.log.error({ err, code: gatewayError.code }, 'request failed');
    else
      request.log.debug(
        { code: gatewayError.code, message: gatewayError.message },
        'request rejected',
      );
    const seconds = gatewayError.details?.retryAfterSeconds;
    if (typeof seconds === 'number') reply.header('retry-after', String(seconds));
    else if (gatewayError.httpStatus === 429 || gatewayError.httpStatus === 503)
      reply.header('retry-after', '1');
    reply.code(gatewayError.httpStatus).type('application/json').send(gatewayError.toJSON());
  });

  // Every route's paths, so a known path asked with another method answers 405 (not 404);
  // and every documented route declares the error statuses it can answer.
  const routeTable: Array<{ readonly method: string; readonly path: RegExp }> = [];
  app.addHook('onRoute', (route) => {
    const path = new RegExp(
      `^${route.url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/:[A-Za-z_]+/g, '[^/]+')}/?$`,
    );
    for (const method of [route.method].flat()) routeTable.push({ method, path });
    // The handler runs on behalf of the request's principal (core code asks currentPrincipal()).
    const handler = route.handler;
    route.handler = function (this: FastifyInstance, request, reply) {
      return runAs(principalOf(request), () => handler.call(this, request, reply));
    };
    if (route.schema && route.schema.hide !== true) {
      const declared = (route.schema.response ?? {}) as Record<string, unknown>;
      route.schema = {
        // What the answers' Content-Type may be: v2 routes answer Confluent's type, errors JSON.
        produces: route.url.startsWith('/v3')
          ? ['application/json']
          : [V2_RESPONSE, 'application/json'],
        ...route.schema,
        response: {
          ...(Object.keys(declared).some((status) => status.startsWith('2'))
            ? {}
            : { 200: { description: 'OK' } }),
          ...errorResponses,
          ...declared,
        },
      };
    }
  });

  function methodNotAllowed(
    method: string,
    url: string,
  ): { error: GatewayError; allowed: string } | undefined {
    const path = routePath(url);
    const allowed = [...new Set(routeTable.filter((r) => r.path.test(path)).map((r) => r.method))];
    if (allowed.length === 0) return undefined;
    return {
      error: new GatewayError(
        'KGW_METHOD_NOT_ALLOWED',
        `${method} is not allowed on ${path}; allowed: ${allowed.join(', ')}`,
      ),
      allowed: allowed.join(', '),
    };
  }

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0]!;
    const err = new GatewayError('KGW_ROUTE_NOT_FOUND', `no route for ${request.method} ${path}`);
    reply.code(err.httpStatus).type('application/json').send(err.toJSON());
  });

  healthRoutes(app, readiness);
  metricsRoutes(app, registry, options.metricsText);
  app.register(async (scope) => {
    scope.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
    for (const addRoutes of options.routes ?? []) addRoutes(scope);
  });
  return app;
}

/**
 * Stops the listener and answers what is in flight: idle keep-alive
 * connections are closed as soon as they are idle (checked every 100 ms, since
 * a connection goes idle when its last response is written), and whatever is
 * still open after `timeoutMs` is cut.
 */
export async function closeHttpServer(app: FastifyInstance, timeoutMs: number): Promise<void> {
  const { server } = app;
  const sweep = setInterval(() => server.closeIdleConnections(), 100);
  const force = setTimeout(() => server.closeAllConnections(), timeoutMs);
  try {
    await app.close();
  } finally {
    clearInterval(sweep);
    clearTimeout(force);
  }
}

/**
 * Closes the connection of a request whose body does not arrive in time: the
 * whole body within `timeoutMs`, or for a streaming body, no silence longer
 * than `timeoutMs`. One timer per request with a body; none for the others.
 */
function cutSlowBodies(
  raw: IncomingMessage,
  timeoutMs: number,
  streaming: boolean,
  onCut: () => void,
): void {
  if (raw.complete) return;
  const socket = raw.socket;
  // Progress is read from the socket's byte count, never from a 'data' listener: the HTTP
  // parser consumes the socket's handle directly, and a listener put the socket in flowing
  // mode, which starved the parser of large v3 stream chunks (the stream stalled).
  let seen = socket.bytesRead;
  let quietSince = Date.now();
  const timer = setInterval(
    () => {
      if (raw.complete) {
        clearInterval(timer);
        return;
      }
      const now = Date.now();
      if (streaming && socket.bytesRead !== seen) {
        seen = socket.bytesRead;
        quietSince = now;
        return;
      }
      // (A few ms early counts: an interval may fire just before the full timeout has passed.)
      if (now - quietSince < timeoutMs - 10) return;
      clearInterval(timer);
      onCut();
      socket.destroy();
    },
    // A whole body is simply due at timeoutMs; a stream is looked at often enough that
    // silence is noticed within a quarter of the timeout (at most a second) of it.
    streaming ? Math.max(50, Math.min(1000, timeoutMs / 4)) : timeoutMs,
  );
  timer.unref();
  const done = (): void => clearInterval(timer);
  raw.once('end', done);
  raw.once('close', done);
}
