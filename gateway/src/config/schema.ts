import { hostPortList, integer, nonEmpty, oneOf, port, redisUrl, type Parser } from './parsers.js';

/** One configuration variable: its name, default, meaning and parser. */
export interface Setting<T> {
  readonly env: string;
  /** The raw default, parsed like any other value; undefined means required. */
  readonly default: string | undefined;
  readonly doc: string;
  readonly parse: Parser<T>;
}

function setting<T>(
  env: string,
  def: string | undefined,
  doc: string,
  parse: Parser<T>,
): Setting<T> {
  return { env, default: def, doc, parse };
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/**
 * Every variable the gateway reads. README.md's configuration table is checked
 * against this list by a unit test.
 */
export const SETTINGS = {
  httpHost: setting('KGW_HTTP_HOST', '0.0.0.0', 'Address the HTTP server binds.', nonEmpty),
  httpPort: setting('KGW_HTTP_PORT', '8080', 'HTTP port (0 picks a free one).', port),
  grpcPort: setting(
    'KGW_GRPC_PORT',
    '9090',
    'Port for the gRPC API (0 picks a free one); no gRPC server runs yet.',
    port,
  ),
  kafkaBrokers: setting(
    'KAFKA_BROKERS',
    '127.0.0.1:9092',
    'Comma-separated Kafka bootstrap brokers (host:port).',
    hostPortList,
  ),
  redisUrl: setting(
    'REDIS_URL',
    'redis://127.0.0.1:6379',
    'Redis URL (redis:// or rediss://).',
    redisUrl,
  ),
  logLevel: setting(
    'KGW_LOG_LEVEL',
    'info',
    `Log level: ${LOG_LEVELS.join(', ')}.`,
    oneOf(LOG_LEVELS),
  ),
  kafkaClientId: setting(
    'KGW_KAFKA_CLIENT_ID',
    'kafka-gateway',
    'client.id the gateway presents to Kafka.',
    nonEmpty,
  ),
  readyTimeoutMs: setting(
    'KGW_READY_TIMEOUT_MS',
    '2000',
    'Deadline for each dependency check of /readyz, in ms.',
    integer(100, 60_000),
  ),
  shutdownTimeoutMs: setting(
    'KGW_SHUTDOWN_TIMEOUT_MS',
    '10000',
    'Deadline for a graceful shutdown before the process exits anyway, in ms.',
    integer(100, 600_000),
  ),
  bodyLimitBytes: setting(
    'KGW_BODY_LIMIT_BYTES',
    '10485760',
    'Largest request body accepted, in bytes (larger gets 413).',
    integer(1024, 1024 * 1024 * 1024),
  ),
} as const;

type Settings = typeof SETTINGS;

/** The validated, frozen configuration object. */
export type Config = Readonly<{
  [K in keyof Settings]: Settings[K] extends Setting<infer T> ? T : never;
}>;
