import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../gateway/src/config/load-config.js';
import { GatewayError } from '../../../gateway/src/errors.js';
import { availableCores } from '../../../gateway/src/util/available-cores.js';

function configError(env: Record<string, string>): GatewayError {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof GatewayError) return err;
    throw err;
  }
  throw new Error('loadConfig accepted a bad environment');
}

describe('loadConfig', () => {
  it('fills every default when the environment is empty', () => {
    expect(loadConfig({})).toEqual({
      httpHost: '127.0.0.1',
      httpPort: 8080,
      grpcPort: 9090,
      kafkaBrokers: ['127.0.0.1:9092'],
      redisUrl: 'redis://127.0.0.1:6379',
      kafkaSecurityProtocol: 'plaintext',
      kafkaSslCaFile: '',
      kafkaSslCertFile: '',
      kafkaSslKeyFile: '',
      kafkaSslKeyPasswordFile: '',
      kafkaSslVerifyHostname: true,
      kafkaSaslMechanism: '',
      kafkaSaslUsername: '',
      kafkaSaslPassword: '',
      kafkaSaslPasswordFile: '',
      kafkaOauthTokenUrl: '',
      kafkaOauthClientId: '',
      kafkaOauthClientSecretFile: '',
      kafkaOauthScope: '',
      redisPasswordFile: '',
      redisTlsCaFile: '',
      redisTlsCertFile: '',
      redisTlsKeyFile: '',
      logLevel: 'info',
      kafkaClientId: 'kafka-gateway',
      readyTimeoutMs: 2000,
      shutdownTimeoutMs: 10000,
      bodyLimitBytes: 10485760,
      bodyTimeoutMs: 30000,
      headersTimeoutMs: 10000,
      requestTimeoutMs: 30000,
      produceTimeoutMs: 10000,
      produceQueueMaxMessages: 100000,
      produceQueueMaxBytes: 67108864,
      producerLingerMs: 5,
      maxRecordBytes: 1000000,
      schemaRegistryUrl: '',
      schemaRegistryTimeoutMs: 5000,
      schemaRegistryCacheSize: 1000,
      metadataMaxAgeMs: 30000,
      balancer: 'round-robin',
      idempotencyTtlMs: 86_400_000,
      clusterId: 'kafka-gateway',
      metricsMaxTopics: 100,
      grpcMaxMessageBytes: 16777216,
      grpcKeepaliveMs: 30000,
      authMethods: [],
      allowUnauthenticated: false,
      apiKeysFile: '',
      jwks: '',
      jwtIssuer: '',
      jwtAudience: '',
      jwtClockSkewMs: 30000,
      jwtPrincipalClaim: 'sub',
      jwtGroupsClaim: 'groups',
      policyFile: '',
      processes: availableCores(),
      quotaRequestsPerSecond: 0,
      quotaRecordsPerSecond: 0,
      quotaBytesPerSecond: 0,
      authFailuresPerMinute: 60,
      httpTlsCert: '',
      httpTlsKey: '',
      httpTlsClientCa: '',
      grpcTlsClientCa: '',
      grpcTlsCert: '',
      grpcTlsKey: '',
      publicUrl: 'http://localhost:8080',
      ackTimeoutMs: 30000,
      maxAttempts: 5,
      leaseTimeoutMs: 30000,
      consumerRequestTimeoutMs: 1000,
      maxPollTimeoutMs: 60000,
      maxPollRecords: 10000,
      maxPollBytes: 16777216,
      maxSessionsPerGroup: 1000,
      maxGroups: 10000,
      maxSessionsPerPrincipal: 1000,
      maxInFlightPerPartition: 1000,
      fetchers: 2,
      fetchCacheBytes: 67108864,
      clientRack: '',
      offsetMetadataMaxBytes: 4096,
      groupRecheckMs: 10000,
      sessionIdleTimeoutMs: 300000,
      metricsEnabled: true,
      kafkaStatsIntervalMs: 15000,
      consumerStatsIntervalMs: 15000,
    });
  });

  it('parses given values and returns a frozen object', () => {
    const config = loadConfig({
      KGW_HTTP_PORT: '0',
      KAFKA_BROKERS: ' a:1, [::1]:9092 ,b.example:65535',
      REDIS_URL: 'rediss://user:pw@cache:6380/2',
      KGW_LOG_LEVEL: 'debug',
    });
    expect(config.httpPort).toBe(0);
    expect(config.kafkaBrokers).toEqual(['a:1', '[::1]:9092', 'b.example:65535']);
    expect(config.redisUrl).toBe('rediss://user:pw@cache:6380/2');
    expect(config.logLevel).toBe('debug');
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.kafkaBrokers)).toBe(true);
  });

  it.each([
    ['KGW_HTTP_PORT', 'http', /not an integer/],
    ['KGW_HTTP_PORT', '65536', /outside 0\.\.65535/],
    ['KGW_GRPC_PORT', '-1', /outside/],
    ['KAFKA_BROKERS', 'localhost', /not host:port/],
    ['KAFKA_BROKERS', ' , ', /at least one/],
    ['KAFKA_BROKERS', 'a:0', /not host:port/],
    ['REDIS_URL', 'localhost:6379', /redis:\/\//],
    ['REDIS_URL', 'not a url', /not a URL/],
    ['KGW_LOG_LEVEL', 'verbose', /not one of/],
    ['KGW_READY_TIMEOUT_MS', '5', /outside/],
    ['KGW_KAFKA_CLIENT_ID', '  ', /empty/],
    ['KGW_SCHEMA_REGISTRY_URL', 'registry:8081', /http:\/\/ or https:\/\//],
    ['KGW_SCHEMA_REGISTRY_TIMEOUT_MS', '10', /outside/],
    ['KGW_SCHEMA_REGISTRY_CACHE_SIZE', '0', /outside/],
  ])('rejects %s=%j naming the variable', (name, value, reason) => {
    const err = configError({ [name]: value });
    expect(err.code).toBe('KGW_CONFIG_INVALID');
    expect(err.message).toContain(name);
    expect(err.message).toMatch(reason);
  });

  it.each([
    ['86400', 86_400_000],
    ['1500ms', 1500],
    ['30s', 30_000],
    ['15m', 900_000],
    ['24h', 86_400_000],
    ['7d', 604_800_000],
  ])('reads KGW_IDEMPOTENCY_TTL=%s as %i ms', (raw, ms) => {
    expect(loadConfig({ KGW_IDEMPOTENCY_TTL: raw }).idempotencyTtlMs).toBe(ms);
  });

  it('rejects a bad duration and an unknown balancer', () => {
    expect(configError({ KGW_IDEMPOTENCY_TTL: '1 day' }).message).toMatch(
      /KGW_IDEMPOTENCY_TTL: .*not a duration/,
    );
    expect(configError({ KGW_BALANCER: 'random' }).message).toMatch(
      /KGW_BALANCER: 'random' is not one of round-robin, least-connections/,
    );
  });

  it('rejects a request deadline that does not exceed the produce timeout', () => {
    const err = configError({ KGW_REQUEST_TIMEOUT_MS: '5000', KGW_PRODUCE_TIMEOUT_MS: '5000' });
    expect(err.message).toMatch(
      /KGW_REQUEST_TIMEOUT_MS \(5000\) must exceed KGW_PRODUCE_TIMEOUT_MS/,
    );
  });

  it('rejects an unknown KGW_ variable (a typo) but ignores other variables', () => {
    const err = configError({ KGW_HTTP_PROT: '8080', PATH: '/bin', HOME: '/root' });
    expect(err.message).toContain('KGW_HTTP_PROT is not a known variable');
    expect(err.message).not.toContain('PATH');
  });

  it("ignores the KGW_* variables of the project's own scripts", () => {
    expect(() => loadConfig({ KGW_STACK_DIR: '/tmp/x', KGW_QUICK: '1' })).not.toThrow();
  });

  it('reports every problem at once', () => {
    const err = configError({ KGW_HTTP_PORT: 'x', KGW_LOG_LEVEL: 'y' });
    expect(err.details?.problems).toHaveLength(2);
  });

  it('refuses a non-loopback address without authentication unless told to accept anyone', () => {
    expect(() => loadConfig({ KGW_HTTP_HOST: '0.0.0.0' })).toThrow(
      /KGW_AUTH_ALLOW_UNAUTHENTICATED/,
    );
    expect(
      loadConfig({ KGW_HTTP_HOST: '0.0.0.0', KGW_AUTH_ALLOW_UNAUTHENTICATED: 'true' }).httpHost,
    ).toBe('0.0.0.0');
    expect(() => loadConfig({ KGW_HTTP_HOST: '0.0.0.0', KGW_AUTH: 'api-key' })).toThrow(
      /KGW_AUTH_API_KEYS_FILE/,
    );
    expect(() => loadConfig({ KGW_AUTH: 'jwt,kerberos' })).toThrow(/'kerberos' is not one of/);
    expect(() => loadConfig({ KGW_AUTH: 'mtls' })).toThrow(/KGW_HTTP_TLS_CLIENT_CA/);
    expect(() => loadConfig({ KGW_HTTP_TLS_CERT: 'cert.pem' })).toThrow(/go together/);
    expect(
      loadConfig({ KGW_HTTP_HOST: '10.0.0.5', KGW_AUTH: 'jwt', KGW_AUTH_JWKS: 'keys.json' })
        .authMethods,
    ).toEqual(['jwt']);
  });

  it('checks Kafka and Redis security settings together, and that their files are readable', () => {
    const file = fileURLToPath(import.meta.url); // any readable file
    const sasl = {
      KGW_KAFKA_SECURITY_PROTOCOL: 'sasl_ssl',
      KGW_KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
    };
    expect(() => loadConfig({ KGW_KAFKA_SECURITY_PROTOCOL: 'sasl_ssl' })).toThrow(
      /set KGW_KAFKA_SASL_MECHANISM/,
    );
    expect(() => loadConfig({ KGW_KAFKA_SASL_MECHANISM: 'PLAIN' })).toThrow(
      /KGW_KAFKA_SASL_MECHANISM needs KGW_KAFKA_SECURITY_PROTOCOL/,
    );
    expect(() => loadConfig({ KGW_KAFKA_SASL_MECHANISM: 'GSSAPI' })).toThrow(
      /'GSSAPI' is not one of/,
    );
    expect(() => loadConfig(sasl)).toThrow(/set KGW_KAFKA_SASL_USERNAME/);
    expect(() =>
      loadConfig({
        ...sasl,
        KGW_KAFKA_SASL_MECHANISM: 'OAUTHBEARER',
        KGW_KAFKA_OAUTH_TOKEN_URL: 'ftp://x',
      }),
    ).toThrow(/KGW_KAFKA_OAUTH_CLIENT_ID.*KGW_KAFKA_OAUTH_CLIENT_SECRET_FILE.*must be an http/);
    expect(() => loadConfig({ ...sasl, KGW_KAFKA_SASL_USERNAME: 'u' })).toThrow(
      /set one of KGW_KAFKA_SASL_PASSWORD or KGW_KAFKA_SASL_PASSWORD_FILE/,
    );
    expect(() =>
      loadConfig({
        ...sasl,
        KGW_KAFKA_SASL_USERNAME: 'u',
        KGW_KAFKA_SASL_PASSWORD_FILE: '/nonexistent/pw',
      }),
    ).toThrow(/KGW_KAFKA_SASL_PASSWORD_FILE: cannot read '\/nonexistent\/pw'/);
    expect(() => loadConfig({ KGW_KAFKA_SSL_CA_FILE: file })).toThrow(
      /KGW_KAFKA_SSL_CA_FILE needs KGW_KAFKA_SECURITY_PROTOCOL=ssl or sasl_ssl/,
    );
    expect(() =>
      loadConfig({ KGW_KAFKA_SECURITY_PROTOCOL: 'ssl', KGW_KAFKA_SSL_CERT_FILE: file }),
    ).toThrow(/KGW_KAFKA_SSL_CERT_FILE and KGW_KAFKA_SSL_KEY_FILE go together/);
    expect(() => loadConfig({ KGW_REDIS_TLS_CA_FILE: file })).toThrow(
      /needs a rediss:\/\/ REDIS_URL/,
    );
    const ok = loadConfig({
      ...sasl,
      KGW_KAFKA_SASL_USERNAME: 'u',
      KGW_KAFKA_SASL_PASSWORD_FILE: file,
      KGW_KAFKA_SSL_CA_FILE: file,
      REDIS_URL: 'rediss://u@127.0.0.1:6380',
      KGW_REDIS_TLS_CA_FILE: file,
    });
    expect(ok.kafkaSaslMechanism).toBe('SCRAM-SHA-512');
  });
});
