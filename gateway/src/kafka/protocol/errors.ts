/**
 * What can go wrong below the group coordinator client, as three classes the
 * caller tells apart by type and numeric code (never by message text).
 */

/** Kafka error codes this client reacts to (numbers from the protocol's error table). */
export const KafkaErrorCode = {
  NONE: 0,
  UNKNOWN_TOPIC_OR_PARTITION: 3,
  OFFSET_METADATA_TOO_LARGE: 12,
  COORDINATOR_LOAD_IN_PROGRESS: 14,
  COORDINATOR_NOT_AVAILABLE: 15,
  NOT_COORDINATOR: 16,
  ILLEGAL_GENERATION: 22,
  INVALID_GROUP_ID: 24,
  UNKNOWN_MEMBER_ID: 25,
  REBALANCE_IN_PROGRESS: 27,
  TOPIC_AUTHORIZATION_FAILED: 29,
  GROUP_AUTHORIZATION_FAILED: 30,
  CLUSTER_AUTHORIZATION_FAILED: 31,
  UNSUPPORTED_VERSION: 35,
  GROUP_ID_NOT_FOUND: 69,
  FENCED_INSTANCE_ID: 82,
  FENCED_MEMBER_EPOCH: 110,
  STALE_MEMBER_EPOCH: 113,
} as const;

/** A broker answered with a non-zero error code. */
export class KafkaResponseError extends Error {
  readonly kafkaCode: number;
  readonly api: string;
  /** What the code is about, for messages: "group 'g'" or "topic 't' partition 0". */
  readonly where: string;

  constructor(api: string, kafkaCode: number, where: string) {
    super(`${api} answered Kafka error code ${kafkaCode} for ${where}`);
    this.name = 'KafkaResponseError';
    this.api = api;
    this.kafkaCode = kafkaCode;
    this.where = where;
  }
}

/** The TCP connection failed, broke, or a request on it got no answer in time. */
export class BrokerConnectionError extends Error {
  readonly address: string;

  constructor(address: string, message: string, options: { cause?: unknown } = {}) {
    super(`broker ${address}: ${message}`, { cause: options.cause });
    this.name = 'BrokerConnectionError';
    this.address = address;
  }
}

/** The broker refused our SASL credentials or mechanism: retrying cannot help. */
export class BrokerAuthenticationError extends Error {
  readonly address: string;

  constructor(address: string, message: string, options: { cause?: unknown } = {}) {
    super(`broker ${address}: ${message}`, { cause: options.cause });
    this.name = 'BrokerAuthenticationError';
    this.address = address;
  }
}

/** The bytes do not fit the protocol (a bug on one side), or no API version is usable. */
export class ProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProtocolError';
  }
}

/** Throws a KafkaResponseError unless `code` is NONE. */
export function checkKafkaCode(api: string, code: number, where: string): void {
  if (code !== KafkaErrorCode.NONE) throw new KafkaResponseError(api, code, where);
}
