import Kafka from 'node-rdkafka';
import { GatewayError, isGatewayError, type ErrorCode } from '../errors.js';

const { ERRORS } = Kafka.CODES;

/** Whether librdkafka gave up waiting, as opposed to knowing the broker is gone. */
const TIMEOUT_CODES: ReadonlySet<number> = new Set([
  ERRORS.ERR__TIMED_OUT,
  ERRORS.ERR_REQUEST_TIMED_OUT,
]);

function codeOf(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

const NAMES = new Map<number, string>(
  Object.entries(ERRORS).map(([name, code]) => [code as number, name]),
);

/**
 * librdkafka's stable name for the error (ERR__TRANSPORT, ERR_NOT_LEADER_FOR_PARTITION…)
 * for response bodies; its free-text message goes to the log through `cause`.
 */
function nameOf(err: unknown): string {
  const code = codeOf(err);
  return (code === undefined ? undefined : NAMES.get(code)) ?? 'unknown error';
}

/**
 * Translates a node-rdkafka error into a GatewayError, by librdkafka's numeric
 * code (never by message text). `action` says what was attempted.
 */
export function translateKafkaError(err: unknown, action: string): GatewayError {
  if (isGatewayError(err)) return err;
  const code = codeOf(err);
  if (code !== undefined && TIMEOUT_CODES.has(code)) {
    return new GatewayError(
      'KGW_TIMEOUT',
      `Kafka did not answer in time while trying to ${action}`,
      {
        cause: err,
        details: { kafkaCode: code },
      },
    );
  }
  return new GatewayError(
    'KGW_KAFKA_UNAVAILABLE',
    `Kafka failed while trying to ${action} (${nameOf(err)})`,
    {
      cause: err,
      details: { kafkaCode: code },
    },
  );
}

/**
 * What a failed produce means for the caller. `written: false` errors are known
 * not to have reached the log (safe to retry); everything librdkafka reports
 * after handing a record to a broker, unless listed, may have been written.
 */
const PRODUCE_ERRORS: ReadonlyMap<number, { code: ErrorCode; written: boolean }> = new Map([
  [ERRORS.ERR__QUEUE_FULL, { code: 'KGW_QUEUE_FULL', written: false }],
  [ERRORS.ERR_MSG_SIZE_TOO_LARGE, { code: 'KGW_RECORD_TOO_LARGE', written: false }],
  [ERRORS.ERR_RECORD_LIST_TOO_LARGE, { code: 'KGW_RECORD_TOO_LARGE', written: false }],
  [ERRORS.ERR__UNKNOWN_PARTITION, { code: 'KGW_PARTITION_NOT_FOUND', written: false }],
  [ERRORS.ERR__UNKNOWN_TOPIC, { code: 'KGW_TOPIC_NOT_FOUND', written: false }],
  [ERRORS.ERR_UNKNOWN_TOPIC_OR_PART, { code: 'KGW_TOPIC_NOT_FOUND', written: false }],
  [ERRORS.ERR_NOT_ENOUGH_REPLICAS, { code: 'KGW_KAFKA_UNAVAILABLE', written: false }],
  [ERRORS.ERR_INVALID_RECORD, { code: 'KGW_INVALID_REQUEST', written: false }],
  [ERRORS.ERR_INVALID_TIMESTAMP, { code: 'KGW_INVALID_REQUEST', written: false }],
  [ERRORS.ERR_TOPIC_AUTHORIZATION_FAILED, { code: 'KGW_KAFKA_UNAVAILABLE', written: false }],
  [ERRORS.ERR__MSG_TIMED_OUT, { code: 'KGW_DELIVERY_UNKNOWN', written: true }],
  [ERRORS.ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND, { code: 'KGW_DELIVERY_UNKNOWN', written: true }],
]);

/** Translates a produce() throw or a failed delivery report. */
export function translateProduceError(err: unknown): GatewayError {
  if (isGatewayError(err)) return err;
  const code = codeOf(err);
  const known = code === undefined ? undefined : PRODUCE_ERRORS.get(code);
  const errorCode = known?.code ?? 'KGW_DELIVERY_UNKNOWN';
  const message =
    errorCode === 'KGW_DELIVERY_UNKNOWN'
      ? `Kafka did not confirm the record (${nameOf(err)}); it may or may not have been written`
      : `Kafka rejected the record (${nameOf(err)})`;
  return new GatewayError(errorCode, message, { cause: err, details: { kafkaCode: code } });
}
