/**
 * What a Kafka error code means for the gateway's group coordinator client:
 * retry, or which GatewayError. Classified by number, never by message text.
 */

import { GatewayError, isGatewayError } from '../../errors.js';
import {
  BrokerAuthenticationError,
  BrokerConnectionError,
  KafkaErrorCode,
  KafkaResponseError,
  ProtocolError,
} from './errors.js';

/** The coordinator moved, is starting or is loading the group: ask again shortly. */
const COORDINATOR_MOVED: ReadonlySet<number> = new Set([
  KafkaErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
  KafkaErrorCode.COORDINATOR_NOT_AVAILABLE,
  KafkaErrorCode.NOT_COORDINATOR,
]);

/** Codes meaning the group has live members, so a commit from outside it is refused. */
const GROUP_IN_USE: ReadonlySet<number> = new Set([
  KafkaErrorCode.ILLEGAL_GENERATION,
  KafkaErrorCode.UNKNOWN_MEMBER_ID,
  KafkaErrorCode.REBALANCE_IN_PROGRESS,
  KafkaErrorCode.FENCED_INSTANCE_ID,
  KafkaErrorCode.FENCED_MEMBER_EPOCH,
  KafkaErrorCode.STALE_MEMBER_EPOCH,
]);

/** Whether asking again (after forgetting the coordinator) may succeed. */
export function isRetriable(err: unknown): boolean {
  return (
    err instanceof BrokerConnectionError ||
    (err instanceof KafkaResponseError && COORDINATOR_MOVED.has(err.kafkaCode))
  );
}

/** Translates what went wrong while trying to `action` for `group` into the gateway's error. */
export function translateGroupError(err: unknown, group: string, action: string): GatewayError {
  return translateProtocolError(err, action, { group }, (kafka, options) => {
    if (GROUP_IN_USE.has(kafka.kafkaCode)) {
      return new GatewayError(
        'KGW_GROUP_IN_USE',
        `group '${group}' has active Kafka consumers; the gateway will not commit for it`,
        options,
      );
    }
    switch (kafka.kafkaCode) {
      case KafkaErrorCode.OFFSET_METADATA_TOO_LARGE:
        return new GatewayError(
          'KGW_INVALID_REQUEST',
          `the offset metadata is longer than Kafka accepts (offset.metadata.max.bytes)`,
          options,
        );
      case KafkaErrorCode.INVALID_GROUP_ID:
        return new GatewayError(
          'KGW_INVALID_REQUEST',
          `'${group}' is not a valid group id`,
          options,
        );
      default:
        return undefined;
    }
  });
}

/** Translates what went wrong while trying to `action` for `topic`; an unknown topic is a 404. */
export function translateTopicError(err: unknown, topic: string, action: string): GatewayError {
  return translateProtocolError(err, action, { topic }, (kafka, options) =>
    kafka.kafkaCode === KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION
      ? new GatewayError('KGW_TOPIC_NOT_FOUND', `topic '${topic}' not found`, options)
      : undefined,
  );
}

/** Translates a failure of a call not about one group or topic (e.g. listing groups). */
export function translateClusterError(err: unknown, action: string): GatewayError {
  return translateProtocolError(err, action, {}, () => undefined);
}

type ErrorOptions = { cause: unknown; details: Record<string, unknown> };

/** The translation every call shares; `specific` handles the codes that mean something to its caller. */
function translateProtocolError(
  err: unknown,
  action: string,
  subject: Readonly<Record<string, string>>,
  specific: (kafka: KafkaResponseError, options: ErrorOptions) => GatewayError | undefined,
): GatewayError {
  if (isGatewayError(err)) return err;
  if (err instanceof KafkaResponseError) {
    const code = err.kafkaCode;
    const options = { cause: err, details: { kafkaCode: code, ...subject } };
    const translated = specific(err, options);
    if (translated) return translated;
    switch (code) {
      case KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION:
        return new GatewayError('KGW_TOPIC_NOT_FOUND', `Kafka does not know ${err.where}`, options);
      case KafkaErrorCode.GROUP_AUTHORIZATION_FAILED:
      case KafkaErrorCode.TOPIC_AUTHORIZATION_FAILED:
      case KafkaErrorCode.CLUSTER_AUTHORIZATION_FAILED:
        return new GatewayError(
          'KGW_KAFKA_UNAVAILABLE',
          `Kafka did not authorize the gateway to ${action} (${err.api} error code ${code})`,
          options,
        );
      default:
        return new GatewayError(
          'KGW_KAFKA_UNAVAILABLE',
          `Kafka failed to ${action}: ${err.api} answered error code ${code}`,
          options,
        );
    }
  }
  if (err instanceof ProtocolError || err instanceof BrokerAuthenticationError) {
    return new GatewayError('KGW_KAFKA_UNAVAILABLE', `could not ${action}: ${err.message}`, {
      cause: err,
      details: { ...subject },
    });
  }
  return new GatewayError('KGW_INTERNAL', `unexpected failure trying to ${action}`, {
    cause: err,
    details: { ...subject },
  });
}

/** Picks the error to act on: one that a retry may cure wins over the rest. */
export function firstPartitionError(
  api: string,
  results: ReadonlyArray<{ topic: string; partition: number; errorCode: number }>,
): KafkaResponseError | undefined {
  const failed = results.filter((r) => r.errorCode !== KafkaErrorCode.NONE);
  const chosen = failed.find((r) => COORDINATOR_MOVED.has(r.errorCode)) ?? failed[0];
  return chosen
    ? new KafkaResponseError(
        api,
        chosen.errorCode,
        `topic '${chosen.topic}' partition ${chosen.partition}`,
      )
    : undefined;
}
