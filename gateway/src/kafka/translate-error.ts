import Kafka from 'node-rdkafka';
import { GatewayError, isGatewayError } from '../errors.js';

const { ERRORS } = Kafka.CODES;

/** Whether librdkafka gave up waiting, as opposed to knowing the broker is gone. */
const TIMEOUT_CODES: ReadonlySet<number> = new Set([
  ERRORS.ERR__TIMED_OUT,
  ERRORS.ERR_REQUEST_TIMED_OUT,
]);

/**
 * Translates a node-rdkafka error into a GatewayError, by librdkafka's numeric
 * code (never by message text). `action` says what was attempted.
 */
export function translateKafkaError(err: unknown, action: string): GatewayError {
  if (isGatewayError(err)) return err;
  const code =
    typeof (err as { code?: unknown })?.code === 'number'
      ? (err as { code: number }).code
      : undefined;
  const text = err instanceof Error ? err.message : String(err);
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
    `Kafka failed while trying to ${action}: ${text}`,
    {
      cause: err,
      details: { kafkaCode: code },
    },
  );
}
