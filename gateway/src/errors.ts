/**
 * The one error class of the gateway and its closed list of stable codes.
 * Each code maps to an HTTP status, a Confluent-style numeric error_code, a
 * gRPC status and whether the caller may safely retry. docs/ERRORS.md lists
 * every code; a unit test keeps the two in step.
 */

/** gRPC status codes (numbers from the gRPC spec), kept here so no transport is imported. */
export const GrpcStatus = {
  INVALID_ARGUMENT: 3,
  ALREADY_EXISTS: 6,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  UNIMPLEMENTED: 12,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;

interface ErrorSpec {
  readonly http: number;
  readonly errorCode: number;
  readonly grpc: number;
  readonly retryable: boolean;
  readonly title: string;
}

export const ERROR_CODES = {
  KGW_ROUTE_NOT_FOUND: {
    http: 404,
    errorCode: 40400,
    grpc: GrpcStatus.NOT_FOUND,
    retryable: false,
    title: 'No route matches the method and path.',
  },
  KGW_TOPIC_NOT_FOUND: {
    http: 404,
    errorCode: 40401,
    grpc: GrpcStatus.NOT_FOUND,
    retryable: false,
    title: 'The topic does not exist.',
  },
  KGW_PARTITION_NOT_FOUND: {
    http: 404,
    errorCode: 40402,
    grpc: GrpcStatus.NOT_FOUND,
    retryable: false,
    title: 'The partition does not exist in the topic.',
  },
  KGW_CLUSTER_NOT_FOUND: {
    http: 404,
    errorCode: 40404,
    grpc: GrpcStatus.NOT_FOUND,
    retryable: false,
    title: 'The cluster id in the path is not the one this gateway serves.',
  },
  KGW_CONSUMER_GROUP_NOT_FOUND: {
    http: 404,
    errorCode: 40405,
    grpc: GrpcStatus.NOT_FOUND,
    retryable: false,
    title: 'Kafka knows no consumer group with this id (no members and no committed offsets).',
  },
  KGW_CONFIG_NOT_FOUND: {
    http: 404,
    errorCode: 40406,
    grpc: GrpcStatus.NOT_FOUND,
    retryable: false,
    title: 'The topic has no config with this name.',
  },
  KGW_CONSUMER_NOT_FOUND: {
    http: 404,
    errorCode: 40403,
    grpc: GrpcStatus.NOT_FOUND,
    retryable: false,
    title:
      'No consumer instance with this name in the group (expired, deleted, or Redis lost its state).',
  },
  KGW_UNAUTHENTICATED: {
    http: 401,
    errorCode: 40101,
    grpc: GrpcStatus.UNAUTHENTICATED,
    retryable: false,
    title:
      'No accepted credentials: a missing, malformed, expired or revoked API key, token or certificate.',
  },
  KGW_FORBIDDEN: {
    http: 403,
    errorCode: 40302,
    grpc: GrpcStatus.PERMISSION_DENIED,
    retryable: false,
    title: 'The policy does not let this principal do this to this topic or group.',
  },
  KGW_TOPIC_FORBIDDEN: {
    http: 403,
    errorCode: 40301,
    grpc: GrpcStatus.PERMISSION_DENIED,
    retryable: false,
    title: "Kafka's internal topics (names starting with __) are not written through the gateway.",
  },
  KGW_METHOD_NOT_ALLOWED: {
    http: 405,
    errorCode: 40501,
    grpc: GrpcStatus.UNIMPLEMENTED,
    retryable: false,
    title: 'The path exists, but not for this method; the Allow header lists the methods it takes.',
  },
  KGW_NOT_ACCEPTABLE: {
    http: 406,
    errorCode: 40601,
    grpc: GrpcStatus.INVALID_ARGUMENT,
    retryable: false,
    title:
      "The Accept header takes none of the route's media types, or asks for the other embedded format than the consumer's.",
  },
  KGW_CONSUMER_EXISTS: {
    http: 409,
    errorCode: 40902,
    grpc: GrpcStatus.ALREADY_EXISTS,
    retryable: false,
    title: 'A consumer instance with this name already exists in the group.',
  },
  KGW_GROUP_IN_USE: {
    http: 409,
    errorCode: 40903,
    grpc: GrpcStatus.FAILED_PRECONDITION,
    retryable: false,
    title: 'Native Kafka consumers are members of this group; the gateway will not commit for it.',
  },
  KGW_CONSUMER_STATE: {
    http: 409,
    // Confluent's "Illegal state" (its IllegalStateException mapping) is 40903 too.
    errorCode: 40903,
    grpc: GrpcStatus.FAILED_PRECONDITION,
    retryable: false,
    title: 'The request does not fit the consumer state (e.g. polling with no subscription).',
  },
  KGW_DESERIALIZATION_FAILED: {
    // Confluent answers a SerializationException with 408 and 40801; matched for its clients.
    http: 408,
    errorCode: 40801,
    grpc: GrpcStatus.FAILED_PRECONDITION,
    retryable: false,
    title:
      'A json-format consumer read a key or value that is not JSON (a schema-format consumer: not in the wire format, or its schema id unknown); nothing was delivered and the records stay unacked.',
  },
  KGW_SCHEMA_RECORD_MISMATCH: {
    // Confluent's "Conversion of JSON to Avro failed" (42203), for every schema format.
    http: 422,
    errorCode: 42203,
    grpc: GrpcStatus.INVALID_ARGUMENT,
    retryable: false,
    title: 'A key or value does not match its schema (avro, jsonschema, protobuf).',
  },
  KGW_SCHEMA_INVALID: {
    // Confluent's "Invalid schema" (42205).
    http: 422,
    errorCode: 42205,
    grpc: GrpcStatus.INVALID_ARGUMENT,
    retryable: false,
    title: 'key_schema or value_schema does not parse, or the registry refused it.',
  },
  KGW_SCHEMA_MISSING: {
    // Confluent's "Request includes values but does not include value schema" (42202; 42201 for keys).
    http: 422,
    errorCode: 42202,
    grpc: GrpcStatus.INVALID_ARGUMENT,
    retryable: false,
    title: 'Records carry keys or values but the request gives no schema or schema id for them.',
  },
  KGW_SCHEMA_NOT_FOUND: {
    // Confluent answers an unknown schema id with 42207 ("Error serializing message").
    http: 422,
    errorCode: 42207,
    grpc: GrpcStatus.INVALID_ARGUMENT,
    retryable: false,
    title: 'The registry knows no schema with this id, or it is of another format.',
  },
  KGW_SCHEMA_REGISTRY_UNAVAILABLE: {
    http: 503,
    errorCode: 50304,
    grpc: GrpcStatus.UNAVAILABLE,
    retryable: true,
    title: 'The schema registry did not answer within KGW_SCHEMA_REGISTRY_TIMEOUT_MS, or failed.',
  },
  KGW_IDEMPOTENCY_IN_FLIGHT: {
    http: 409,
    errorCode: 40901,
    grpc: GrpcStatus.ABORTED,
    retryable: true,
    title: 'A request with this Idempotency-Key is still being processed.',
  },
  KGW_IDEMPOTENCY_KEY_REUSED: {
    http: 422,
    errorCode: 42202,
    grpc: GrpcStatus.FAILED_PRECONDITION,
    retryable: false,
    title: 'This Idempotency-Key was used for a different request.',
  },
  KGW_IDEMPOTENCY_UNVERIFIABLE: {
    http: 422,
    errorCode: 42203,
    grpc: GrpcStatus.FAILED_PRECONDITION,
    retryable: false,
    title:
      'An earlier attempt with this Idempotency-Key may have written, and Kafka no longer holds the records that would tell.',
  },
  KGW_DEAD_LETTER_TOPIC_NOT_FOUND: {
    http: 422,
    errorCode: 42204,
    grpc: GrpcStatus.FAILED_PRECONDITION,
    retryable: false,
    title:
      'The dead-letter topic named for a consumer does not exist; the gateway never creates topics.',
  },
  KGW_RECORD_TOO_LARGE: {
    http: 413,
    errorCode: 41302,
    grpc: GrpcStatus.INVALID_ARGUMENT,
    retryable: false,
    title: 'One record is larger than KGW_MAX_RECORD_BYTES or the broker accepts.',
  },
  KGW_QUEUE_FULL: {
    http: 429,
    errorCode: 42901,
    grpc: GrpcStatus.RESOURCE_EXHAUSTED,
    retryable: true,
    title: "The gateway's produce queue is full; nothing was written. Retry after Retry-After.",
  },
  KGW_QUOTA_EXCEEDED: {
    http: 429,
    errorCode: 42903,
    grpc: GrpcStatus.RESOURCE_EXHAUSTED,
    retryable: true,
    title:
      'The principal is over its request or produce quota (or its address over its failed-authentication budget); Retry-After says when to try again.',
  },
  KGW_TOO_MANY_SESSIONS: {
    http: 429,
    errorCode: 42902,
    grpc: GrpcStatus.RESOURCE_EXHAUSTED,
    retryable: true,
    title:
      'The consumer group, the principal or the gateway holds as many consumer instances as it is configured to.',
  },
  KGW_DELIVERY_UNKNOWN: {
    http: 504,
    errorCode: 50402,
    grpc: GrpcStatus.DEADLINE_EXCEEDED,
    retryable: false,
    title: 'Kafka did not confirm in time; the record may or may not be written.',
  },
  KGW_MALFORMED_REQUEST: {
    http: 400,
    errorCode: 40001,
    grpc: GrpcStatus.INVALID_ARGUMENT,
    retryable: false,
    title: 'The body is not parsable (for example invalid JSON).',
  },
  KGW_PAYLOAD_TOO_LARGE: {
    http: 413,
    errorCode: 41301,
    grpc: GrpcStatus.RESOURCE_EXHAUSTED,
    retryable: false,
    title: 'The body is larger than the configured limit.',
  },
  KGW_UNSUPPORTED_MEDIA_TYPE: {
    http: 415,
    errorCode: 41501,
    grpc: GrpcStatus.INVALID_ARGUMENT,
    retryable: false,
    title: 'The Content-Type is not one the route accepts.',
  },
  KGW_INVALID_REQUEST: {
    http: 422,
    errorCode: 42201,
    grpc: GrpcStatus.INVALID_ARGUMENT,
    retryable: false,
    title: 'The body, path or query does not match the schema.',
  },
  KGW_TIMEOUT: {
    http: 504,
    errorCode: 50401,
    grpc: GrpcStatus.DEADLINE_EXCEEDED,
    retryable: true,
    title: 'A dependency did not answer in time.',
  },
  KGW_KAFKA_UNAVAILABLE: {
    http: 503,
    errorCode: 50301,
    grpc: GrpcStatus.UNAVAILABLE,
    retryable: true,
    title: 'Kafka is unreachable or refused the write; nothing was written.',
  },
  KGW_REDIS_UNAVAILABLE: {
    http: 503,
    errorCode: 50302,
    grpc: GrpcStatus.UNAVAILABLE,
    retryable: true,
    title: 'Redis is unreachable.',
  },
  KGW_SHUTTING_DOWN: {
    http: 503,
    errorCode: 50303,
    grpc: GrpcStatus.UNAVAILABLE,
    retryable: true,
    title: 'This instance is shutting down; retry on another one.',
  },
  KGW_INTERNAL: {
    http: 500,
    errorCode: 50001,
    grpc: GrpcStatus.INTERNAL,
    retryable: false,
    title: 'An unexpected error; the log has details.',
  },
  KGW_CONFIG_INVALID: {
    http: 500,
    errorCode: 50002,
    grpc: GrpcStatus.INTERNAL,
    retryable: false,
    title: 'A configuration variable is invalid (boot only).',
  },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** The gateway's only error class: a stable code plus a message for humans. */
export class GatewayError extends Error {
  readonly code: ErrorCode;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options: { cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'GatewayError';
    this.code = code;
    this.details = options.details;
  }

  get spec(): ErrorSpec {
    return ERROR_CODES[this.code];
  }

  get httpStatus(): number {
    return this.spec.http;
  }

  get retryable(): boolean {
    return this.spec.retryable;
  }

  /** The Confluent-compatible JSON body, plus the stable code. */
  toJSON(): { error_code: number; message: string; code: ErrorCode } {
    return { error_code: this.spec.errorCode, message: this.message, code: this.code };
  }
}

export function isGatewayError(err: unknown): err is GatewayError {
  return err instanceof GatewayError;
}
