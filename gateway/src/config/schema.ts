import { STRATEGY_NAMES } from '../balancer/index.js';
import {
  duration,
  hostPortList,
  httpUrl,
  integer,
  integerOrAuto,
  nonEmpty,
  oneOf,
  optional,
  optionalHttpUrl,
  optionalOneOf,
  port,
  redisUrl,
  someOf,
  boolean,
  type Parser,
} from './parsers.js';
import { AUTH_METHODS } from '../auth/authenticator.js';
import { availableCores } from '../util/available-cores.js';

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

export const KAFKA_SECURITY_PROTOCOLS = ['plaintext', 'ssl', 'sasl_plaintext', 'sasl_ssl'] as const;
export const KAFKA_SASL_MECHANISMS = [
  'PLAIN',
  'SCRAM-SHA-256',
  'SCRAM-SHA-512',
  'OAUTHBEARER',
] as const;

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/**
 * Every variable the gateway reads. README.md's configuration table is checked
 * against this list by a unit test.
 */
export const SETTINGS = {
  httpHost: setting(
    'KGW_HTTP_HOST',
    '127.0.0.1',
    'Address the HTTP and gRPC servers bind; a non-loopback address needs KGW_AUTH (or KGW_AUTH_ALLOW_UNAUTHENTICATED=true).',
    nonEmpty,
  ),
  httpPort: setting('KGW_HTTP_PORT', '8080', 'HTTP port (0 picks a free one).', port),
  grpcPort: setting(
    'KGW_GRPC_PORT',
    '9090',
    'gRPC port (0 picks a free one); binds KGW_HTTP_HOST too.',
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
  kafkaSecurityProtocol: setting(
    'KGW_KAFKA_SECURITY_PROTOCOL',
    'plaintext',
    `How the gateway talks to Kafka: ${KAFKA_SECURITY_PROTOCOLS.join(', ')}.`,
    oneOf(KAFKA_SECURITY_PROTOCOLS),
  ),
  kafkaSslCaFile: setting(
    'KGW_KAFKA_SSL_CA_FILE',
    '',
    "PEM CA bundle the brokers' certificates must chain to (ssl, sasl_ssl); empty: the system's CAs.",
    optional,
  ),
  kafkaSslCertFile: setting(
    'KGW_KAFKA_SSL_CERT_FILE',
    '',
    'PEM client certificate presented to Kafka (with KGW_KAFKA_SSL_KEY_FILE); empty: none.',
    optional,
  ),
  kafkaSslKeyFile: setting(
    'KGW_KAFKA_SSL_KEY_FILE',
    '',
    'PEM private key of KGW_KAFKA_SSL_CERT_FILE.',
    optional,
  ),
  kafkaSslKeyPasswordFile: setting(
    'KGW_KAFKA_SSL_KEY_PASSWORD_FILE',
    '',
    'File holding the password of an encrypted KGW_KAFKA_SSL_KEY_FILE.',
    optional,
  ),
  kafkaSslVerifyHostname: setting(
    'KGW_KAFKA_SSL_VERIFY_HOSTNAME',
    'true',
    "Check that a broker's certificate names the host the gateway dialled.",
    boolean,
  ),
  kafkaSaslMechanism: setting(
    'KGW_KAFKA_SASL_MECHANISM',
    '',
    `SASL mechanism (sasl_plaintext, sasl_ssl): ${KAFKA_SASL_MECHANISMS.join(', ')}.`,
    optionalOneOf(KAFKA_SASL_MECHANISMS),
  ),
  kafkaSaslUsername: setting('KGW_KAFKA_SASL_USERNAME', '', 'SASL user name.', optional),
  kafkaSaslPassword: setting(
    'KGW_KAFKA_SASL_PASSWORD',
    '',
    'SASL password (prefer KGW_KAFKA_SASL_PASSWORD_FILE); never logged.',
    optional,
  ),
  kafkaSaslPasswordFile: setting(
    'KGW_KAFKA_SASL_PASSWORD_FILE',
    '',
    'File holding the SASL password, read at boot.',
    optional,
  ),
  kafkaOauthTokenUrl: setting(
    'KGW_KAFKA_OAUTH_TOKEN_URL',
    '',
    'OAUTHBEARER: the OAuth 2 token endpoint the gateway gets Kafka access tokens from (client credentials).',
    optional,
  ),
  kafkaOauthClientId: setting(
    'KGW_KAFKA_OAUTH_CLIENT_ID',
    '',
    'OAUTHBEARER: the client id sent to the token endpoint.',
    optional,
  ),
  kafkaOauthClientSecretFile: setting(
    'KGW_KAFKA_OAUTH_CLIENT_SECRET_FILE',
    '',
    'OAUTHBEARER: file holding the client secret, read at boot.',
    optional,
  ),
  kafkaOauthScope: setting(
    'KGW_KAFKA_OAUTH_SCOPE',
    '',
    'OAUTHBEARER: space-separated scopes to ask for (empty: none).',
    optional,
  ),
  redisPasswordFile: setting(
    'KGW_REDIS_PASSWORD_FILE',
    '',
    "File holding the Redis password (overrides one in REDIS_URL; the URL's user name is kept).",
    optional,
  ),
  redisTlsCaFile: setting(
    'KGW_REDIS_TLS_CA_FILE',
    '',
    "PEM CA bundle Redis's certificate must chain to (rediss:// only); empty: the system's CAs.",
    optional,
  ),
  redisTlsCertFile: setting(
    'KGW_REDIS_TLS_CERT_FILE',
    '',
    'PEM client certificate presented to Redis (with KGW_REDIS_TLS_KEY_FILE).',
    optional,
  ),
  redisTlsKeyFile: setting(
    'KGW_REDIS_TLS_KEY_FILE',
    '',
    'PEM private key of KGW_REDIS_TLS_CERT_FILE.',
    optional,
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
  processes: setting(
    'KGW_PROCESSES',
    'auto',
    "Gateway processes serving this instance's ports (1..64); 'auto' is one per CPU core it may use (cgroup quota included). With more than one, a supervisor process forks them, restarts one that dies and aggregates /metrics; 1 serves from a single process.",
    integerOrAuto(1, 64, availableCores),
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
  bodyTimeoutMs: setting(
    'KGW_BODY_TIMEOUT_MS',
    '30000',
    'Deadline for receiving a request body, in ms; for a v3 streaming body, the longest silence between chunks. A slower client is cut off.',
    integer(1000, 600_000),
  ),
  headersTimeoutMs: setting(
    'KGW_HEADERS_TIMEOUT_MS',
    '10000',
    "Deadline for receiving a request's headers, in ms.",
    integer(1000, 600_000),
  ),
  requestTimeoutMs: setting(
    'KGW_REQUEST_TIMEOUT_MS',
    '30000',
    'Deadline of a produce request; must exceed KGW_PRODUCE_TIMEOUT_MS so Kafka answers first.',
    integer(1000, 600_000),
  ),
  produceTimeoutMs: setting(
    'KGW_PRODUCE_TIMEOUT_MS',
    '10000',
    "librdkafka's message.timeout.ms: how long a record may wait for its delivery report.",
    integer(1000, 300_000),
  ),
  produceQueueMaxMessages: setting(
    'KGW_PRODUCE_QUEUE_MAX_MESSAGES',
    '100000',
    'Records awaiting delivery per producer before requests get 429.',
    integer(100, 10_000_000),
  ),
  produceQueueMaxBytes: setting(
    'KGW_PRODUCE_QUEUE_MAX_BYTES',
    '67108864',
    'Bytes of records awaiting delivery per producer before requests get 429.',
    integer(1024 * 1024, 2 ** 31 - 1),
  ),
  producerLingerMs: setting(
    'KGW_PRODUCER_LINGER_MS',
    '5',
    "librdkafka's linger.ms: how long a batch may wait for more records.",
    integer(0, 1000),
  ),
  maxRecordBytes: setting(
    'KGW_MAX_RECORD_BYTES',
    '1000000',
    'Largest key + value + headers of one record, in bytes (larger is rejected per record).',
    integer(1024, 100 * 1024 * 1024),
  ),
  schemaRegistryUrl: setting(
    'KGW_SCHEMA_REGISTRY_URL',
    '',
    'Confluent-compatible schema registry API (e.g. Apicurio: http://host:8080/apis/ccompat/v7) for the avro, jsonschema and protobuf formats; empty: those formats are refused.',
    optionalHttpUrl,
  ),
  schemaRegistryTimeoutMs: setting(
    'KGW_SCHEMA_REGISTRY_TIMEOUT_MS',
    '5000',
    'Deadline of each schema registry call; past it the request gets 503 KGW_SCHEMA_REGISTRY_UNAVAILABLE.',
    integer(100, 60_000),
  ),
  schemaRegistryCacheSize: setting(
    'KGW_SCHEMA_REGISTRY_CACHE_SIZE',
    '1000',
    'Schemas kept in memory by id (and registered schema texts by subject), least recently used dropped first.',
    integer(10, 1_000_000),
  ),
  metadataMaxAgeMs: setting(
    'KGW_METADATA_MAX_AGE_MS',
    '30000',
    'How long topic metadata (partitions, leaders) is reused before it is fetched again.',
    integer(100, 3_600_000),
  ),
  balancer: setting(
    'KGW_BALANCER',
    'round-robin',
    `Partition choice for records with neither key nor partition: ${STRATEGY_NAMES.join(', ')}.`,
    oneOf(STRATEGY_NAMES),
  ),
  idempotencyTtlMs: setting(
    'KGW_IDEMPOTENCY_TTL',
    '24h',
    'How long an Idempotency-Key and its response are kept (seconds, or 30m, 24h, 7d).',
    duration(1000, 30 * 86_400_000),
  ),
  clusterId: setting(
    'KGW_CLUSTER_ID',
    'kafka-gateway',
    'The cluster id served by GET /v3/clusters and accepted in v3 paths.',
    nonEmpty,
  ),
  metricsMaxTopics: setting(
    'KGW_METRICS_MAX_TOPICS',
    '100',
    'Distinct topic label values in metrics; later topics are counted as "other".',
    integer(0, 10_000),
  ),
  grpcMaxMessageBytes: setting(
    'KGW_GRPC_MAX_MESSAGE_BYTES',
    '16777216',
    'Largest gRPC message received or sent, in bytes.',
    integer(1024, 1024 * 1024 * 1024),
  ),
  grpcKeepaliveMs: setting(
    'KGW_GRPC_KEEPALIVE_MS',
    '30000',
    'gRPC keepalive ping interval on idle connections, in ms.',
    integer(1000, 3_600_000),
  ),
  authMethods: setting(
    'KGW_AUTH',
    'none',
    `How callers authenticate: none, or a comma list of ${AUTH_METHODS.join(', ')}.`,
    someOf(AUTH_METHODS),
  ),
  allowUnauthenticated: setting(
    'KGW_AUTH_ALLOW_UNAUTHENTICATED',
    'false',
    'Allow KGW_AUTH=none on a non-loopback KGW_HTTP_HOST (anyone who reaches the port may do anything).',
    boolean,
  ),
  apiKeysFile: setting(
    'KGW_AUTH_API_KEYS_FILE',
    '',
    'JSON file of API keys, stored as SHA-256 ({"keys":[{"principal","sha256","groups"}]}); re-read when it changes.',
    optional,
  ),
  jwks: setting(
    'KGW_AUTH_JWKS',
    '',
    'JWKS for JWT bearer tokens: a file (re-read when it changes) or an https:// URL (cached).',
    optional,
  ),
  jwtIssuer: setting('KGW_AUTH_JWT_ISSUER', '', 'Required iss of JWTs (empty: any).', optional),
  jwtAudience: setting('KGW_AUTH_JWT_AUDIENCE', '', 'Required aud of JWTs (empty: any).', optional),
  jwtClockSkewMs: setting(
    'KGW_AUTH_JWT_CLOCK_SKEW_MS',
    '30000',
    'Clock skew tolerated on exp and nbf, in ms.',
    integer(0, 600_000),
  ),
  jwtPrincipalClaim: setting(
    'KGW_AUTH_JWT_PRINCIPAL_CLAIM',
    'sub',
    'JWT claim that names the principal.',
    nonEmpty,
  ),
  jwtGroupsClaim: setting(
    'KGW_AUTH_JWT_GROUPS_CLAIM',
    'groups',
    "JWT claim listing the principal's groups.",
    nonEmpty,
  ),
  policyFile: setting(
    'KGW_AUTHZ_POLICY_FILE',
    '',
    'JSON policy: which principals may produce, consume, describe or commit which topics and groups (docs/SECURITY.md); re-read when it changes. Empty: all may, except internal topics.',
    optional,
  ),
  quotaRequestsPerSecond: setting(
    'KGW_QUOTA_REQUESTS_PER_SECOND',
    '0',
    'Requests per second per principal, across all instances (0: no limit); over it: 429 KGW_QUOTA_EXCEEDED.',
    integer(0, 10_000_000),
  ),
  quotaRecordsPerSecond: setting(
    'KGW_QUOTA_RECORDS_PER_SECOND',
    '0',
    'Produced records per second per principal, across all instances (0: no limit).',
    integer(0, 100_000_000),
  ),
  quotaBytesPerSecond: setting(
    'KGW_QUOTA_BYTES_PER_SECOND',
    '0',
    'Produced bytes per second per principal, across all instances (0: no limit).',
    integer(0, 2 ** 40),
  ),
  authFailuresPerMinute: setting(
    'KGW_AUTH_FAILURES_PER_MINUTE',
    '60',
    'Failed authentications per minute per client address before it gets 429 (0: no limit).',
    integer(0, 1_000_000),
  ),
  httpTlsCert: setting(
    'KGW_HTTP_TLS_CERT',
    '',
    'PEM certificate file: serve HTTPS (with KGW_HTTP_TLS_KEY); empty: plain HTTP.',
    optional,
  ),
  httpTlsKey: setting('KGW_HTTP_TLS_KEY', '', 'PEM private key file for HTTPS.', optional),
  httpTlsClientCa: setting(
    'KGW_HTTP_TLS_CLIENT_CA',
    '',
    'PEM CA file: HTTPS asks for client certificates signed by it (KGW_AUTH=mtls names callers by them).',
    optional,
  ),
  grpcTlsClientCa: setting(
    'KGW_GRPC_TLS_CLIENT_CA',
    '',
    'PEM CA file: gRPC TLS requires client certificates signed by it.',
    optional,
  ),
  grpcTlsCert: setting(
    'KGW_GRPC_TLS_CERT',
    '',
    'PEM certificate file for gRPC TLS (with KGW_GRPC_TLS_KEY); empty: plaintext.',
    optional,
  ),
  grpcTlsKey: setting('KGW_GRPC_TLS_KEY', '', 'PEM private key file for gRPC TLS.', optional),
  publicUrl: setting(
    'KGW_PUBLIC_URL',
    'http://localhost:8080',
    'Base URL clients reach the gateway at (any instance); used in consumer base_uri.',
    httpUrl,
  ),
  ackTimeoutMs: setting(
    'KGW_ACK_TIMEOUT_MS',
    '30000',
    'Default visibility timeout: a delivered record not acked within it is delivered again.',
    integer(100, 24 * 3_600_000),
  ),
  maxAttempts: setting(
    'KGW_MAX_ATTEMPTS',
    '5',
    'Default deliveries of a record before it goes to the dead-letter topic.',
    integer(1, 1000),
  ),
  leaseTimeoutMs: setting(
    'KGW_LEASE_TIMEOUT_MS',
    '30000',
    'Default ordered-mode lease: a session that does not poll within it loses its partitions.',
    integer(500, 3_600_000),
  ),
  consumerRequestTimeoutMs: setting(
    'KGW_CONSUMER_REQUEST_TIMEOUT_MS',
    '1000',
    'Default long-poll timeout of GET records (Confluent consumer.request.timeout.ms).',
    integer(0, 600_000),
  ),
  maxPollTimeoutMs: setting(
    'KGW_MAX_POLL_TIMEOUT_MS',
    '60000',
    'Longest long-poll a client may ask for.',
    integer(1000, 600_000),
  ),
  maxPollRecords: setting(
    'KGW_MAX_POLL_RECORDS',
    '10000',
    'Most records one poll returns (a safety cap: KGW_MAX_POLL_BYTES, max_bytes and the in-flight window size polls first).',
    integer(1, 100_000),
  ),
  maxPollBytes: setting(
    'KGW_MAX_POLL_BYTES',
    '16777216',
    'Most bytes (keys, values, headers) one poll returns.',
    integer(1024, 1024 * 1024 * 1024),
  ),
  maxSessionsPerGroup: setting(
    'KGW_MAX_SESSIONS_PER_GROUP',
    '1000',
    'Consumer instances one group may hold; more get 429 KGW_TOO_MANY_SESSIONS.',
    integer(1, 1_000_000),
  ),
  maxGroups: setting(
    'KGW_MAX_GROUPS',
    '10000',
    'Consumer groups with instances the gateway serves; instances of a new group beyond it get 429.',
    integer(1, 10_000_000),
  ),
  maxSessionsPerPrincipal: setting(
    'KGW_MAX_SESSIONS_PER_PRINCIPAL',
    '1000',
    'Consumer instances one authenticated principal may hold across all instances (0: no cap); more get 429 KGW_TOO_MANY_SESSIONS.',
    integer(0, 10_000_000),
  ),
  maxInFlightPerPartition: setting(
    'KGW_MAX_IN_FLIGHT_PER_PARTITION',
    '1000',
    'Unacked records per partition and group; a full window hands out nothing more until acks arrive.',
    integer(1, 1_000_000),
  ),
  fetchers: setting(
    'KGW_FETCHERS',
    '2',
    'Kafka consumers per process shared by all sessions for reading.',
    integer(1, 64),
  ),
  fetchCacheBytes: setting(
    'KGW_FETCH_CACHE_BYTES',
    '67108864',
    'Bytes of fetched records cached for other groups and redeliveries.',
    integer(0, 2 ** 31 - 1),
  ),
  clientRack: setting(
    'KGW_CLIENT_RACK',
    '',
    "client.rack of the fetchers: with brokers' rack-aware replica selector, reads go to the nearest in-sync replica.",
    optional,
  ),
  offsetMetadataMaxBytes: setting(
    'KGW_OFFSET_METADATA_MAX_BYTES',
    '4096',
    "The brokers' offset.metadata.max.bytes: commits carry the acked offsets above the committed one in it, so a partition hands out new records at most (this − 20) × 6 offsets past its lowest unacked one.",
    integer(256, 1_048_576),
  ),
  groupRecheckMs: setting(
    'KGW_GROUP_RECHECK_MS',
    '10000',
    'How often a served group is described to detect native Kafka consumers in it (they get the group KGW_GROUP_IN_USE).',
    integer(100, 3_600_000),
  ),
  metricsEnabled: setting(
    'KGW_METRICS_ENABLED',
    'true',
    'false makes metrics record nothing (for measuring their cost); /metrics still answers.',
    (raw) => oneOf(['true', 'false'] as const)(raw) === 'true',
  ),
  kafkaStatsIntervalMs: setting(
    'KGW_KAFKA_STATS_INTERVAL_MS',
    '15000',
    "librdkafka's statistics.interval.ms for the broker health metrics (0: off).",
    integer(0, 3_600_000),
  ),
  consumerStatsIntervalMs: setting(
    'KGW_CONSUMER_STATS_INTERVAL_MS',
    '15000',
    'How often consumer lag, sessions and in-flight counts are read from Redis and Kafka for metrics (0: off).',
    integer(0, 3_600_000),
  ),
  sessionIdleTimeoutMs: setting(
    'KGW_SESSION_IDLE_TIMEOUT_MS',
    '300000',
    'The worker deletes a consumer session that has not polled for this long.',
    integer(1000, 7 * 86_400_000),
  ),
} as const;

/**
 * KGW_* variables read by the project's scripts (deploy/local, tests,
 * benchmarks), not by the gateway; the gateway ignores them instead of
 * reporting them as typos.
 */
export const TOOLING_VARIABLES: ReadonlySet<string> = new Set([
  'KGW_STACK_DIR',
  'KGW_CACHE_DIR',
  'KGW_KAFKA_HEAP',
  'KGW_STACK_TIMEOUT',
  'KGW_QUICK',
  'KGW_TEST_LOG_LEVEL',
]);

type Settings = typeof SETTINGS;

/** The validated, frozen configuration object. */
export type Config = Readonly<{
  [K in keyof Settings]: Settings[K] extends Setting<infer T> ? T : never;
}>;
