import { accessSync, constants } from 'node:fs';
import { GatewayError } from '../errors.js';
import { SETTINGS, TOOLING_VARIABLES, type Config, type Setting } from './schema.js';

/** Prefix of the variables this gateway owns; an unknown one is a typo and fails the boot. */
const OWN_PREFIX = 'KGW_';

/**
 * Parses the environment into one frozen Config. Every problem is reported at
 * once, each naming its variable, as a KGW_CONFIG_INVALID error.
 */
export function loadConfig(env: Readonly<Record<string, string | undefined>>): Config {
  const problems: string[] = [];
  const values: Record<string, unknown> = {};
  const known = new Set<string>();

  for (const [key, setting] of Object.entries(SETTINGS) as [string, Setting<unknown>][]) {
    known.add(setting.env);
    const raw = env[setting.env] ?? setting.default;
    if (raw === undefined) {
      problems.push(`${setting.env} is required: ${setting.doc}`);
      continue;
    }
    try {
      values[key] = setting.parse(raw);
    } catch (err) {
      problems.push(`${setting.env}: ${(err as Error).message}`);
    }
  }
  for (const name of Object.keys(env)) {
    if (name.startsWith(OWN_PREFIX) && !known.has(name) && !TOOLING_VARIABLES.has(name)) {
      problems.push(`${name} is not a known variable (known: ${[...known].sort().join(', ')})`);
    }
  }
  if (
    typeof values.requestTimeoutMs === 'number' &&
    typeof values.produceTimeoutMs === 'number' &&
    values.requestTimeoutMs <= values.produceTimeoutMs
  ) {
    problems.push(
      `KGW_REQUEST_TIMEOUT_MS (${values.requestTimeoutMs}) must exceed KGW_PRODUCE_TIMEOUT_MS (${values.produceTimeoutMs}) so a delivery report always arrives before the request's deadline`,
    );
  }
  problems.push(...authProblems(values), ...connectionProblems(values));
  if (problems.length > 0) {
    throw new GatewayError('KGW_CONFIG_INVALID', `invalid configuration: ${problems.join('; ')}`, {
      details: { problems },
    });
  }
  return Object.freeze(values) as Config;
}

/** Settings that only make sense together (see docs/SECURITY.md). */
function authProblems(values: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const methods = (values.authMethods ?? []) as readonly string[];
  const host = String(values.httpHost ?? '');
  if (methods.length === 0 && !values.allowUnauthenticated && !isLoopback(host)) {
    problems.push(
      `KGW_HTTP_HOST=${host} is reachable from other machines while KGW_AUTH=none: set KGW_AUTH (api-key, jwt, mtls), bind 127.0.0.1, or set KGW_AUTH_ALLOW_UNAUTHENTICATED=true to accept anyone`,
    );
  }
  if (methods.includes('api-key') && !values.apiKeysFile)
    problems.push('KGW_AUTH includes api-key: set KGW_AUTH_API_KEYS_FILE');
  if (methods.includes('jwt') && !values.jwks)
    problems.push('KGW_AUTH includes jwt: set KGW_AUTH_JWKS');
  if (methods.includes('mtls') && !values.httpTlsClientCa && !values.grpcTlsClientCa)
    problems.push('KGW_AUTH includes mtls: set KGW_HTTP_TLS_CLIENT_CA or KGW_GRPC_TLS_CLIENT_CA');
  if (Boolean(values.httpTlsCert) !== Boolean(values.httpTlsKey))
    problems.push('KGW_HTTP_TLS_CERT and KGW_HTTP_TLS_KEY go together');
  if (values.httpTlsClientCa && !values.httpTlsCert)
    problems.push('KGW_HTTP_TLS_CLIENT_CA needs HTTPS: set KGW_HTTP_TLS_CERT and KGW_HTTP_TLS_KEY');
  if (values.grpcTlsClientCa && !values.grpcTlsCert)
    problems.push(
      'KGW_GRPC_TLS_CLIENT_CA needs gRPC TLS: set KGW_GRPC_TLS_CERT and KGW_GRPC_TLS_KEY',
    );
  return problems;
}

/** Kafka and Redis security settings that only make sense together, and files that must be readable. */
function connectionProblems(values: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const protocol = String(values.kafkaSecurityProtocol ?? 'plaintext');
  const tls = protocol === 'ssl' || protocol === 'sasl_ssl';
  const sasl = protocol.startsWith('sasl_');
  const mechanism = String(values.kafkaSaslMechanism ?? '');
  const set = (key: string): boolean => Boolean(values[key]);
  if (!tls) {
    for (const [key, env] of [
      ['kafkaSslCaFile', 'KGW_KAFKA_SSL_CA_FILE'],
      ['kafkaSslCertFile', 'KGW_KAFKA_SSL_CERT_FILE'],
      ['kafkaSslKeyFile', 'KGW_KAFKA_SSL_KEY_FILE'],
    ] as const)
      if (set(key)) problems.push(`${env} needs KGW_KAFKA_SECURITY_PROTOCOL=ssl or sasl_ssl`);
  }
  if (set('kafkaSslCertFile') !== set('kafkaSslKeyFile'))
    problems.push('KGW_KAFKA_SSL_CERT_FILE and KGW_KAFKA_SSL_KEY_FILE go together');
  if (set('kafkaSslKeyPasswordFile') && !set('kafkaSslKeyFile'))
    problems.push('KGW_KAFKA_SSL_KEY_PASSWORD_FILE needs KGW_KAFKA_SSL_KEY_FILE');
  if (sasl && !mechanism)
    problems.push(`KGW_KAFKA_SECURITY_PROTOCOL=${protocol}: set KGW_KAFKA_SASL_MECHANISM`);
  if (!sasl && mechanism)
    problems.push(
      'KGW_KAFKA_SASL_MECHANISM needs KGW_KAFKA_SECURITY_PROTOCOL=sasl_ssl or sasl_plaintext',
    );
  if (sasl && mechanism === 'OAUTHBEARER') {
    for (const [key, env] of [
      ['kafkaOauthTokenUrl', 'KGW_KAFKA_OAUTH_TOKEN_URL'],
      ['kafkaOauthClientId', 'KGW_KAFKA_OAUTH_CLIENT_ID'],
      ['kafkaOauthClientSecretFile', 'KGW_KAFKA_OAUTH_CLIENT_SECRET_FILE'],
    ] as const)
      if (!set(key)) problems.push(`SASL OAUTHBEARER: set ${env}`);
    if (set('kafkaOauthTokenUrl') && !/^https?:\/\//.test(String(values.kafkaOauthTokenUrl)))
      problems.push('KGW_KAFKA_OAUTH_TOKEN_URL must be an http:// or https:// URL');
  } else if (sasl && mechanism) {
    if (!set('kafkaSaslUsername')) problems.push(`SASL ${mechanism}: set KGW_KAFKA_SASL_USERNAME`);
    if (set('kafkaSaslPassword') === set('kafkaSaslPasswordFile'))
      problems.push(
        `SASL ${mechanism}: set one of KGW_KAFKA_SASL_PASSWORD or KGW_KAFKA_SASL_PASSWORD_FILE`,
      );
  }
  const rediss = String(values.redisUrl ?? '').startsWith('rediss:');
  for (const [key, env] of [
    ['redisTlsCaFile', 'KGW_REDIS_TLS_CA_FILE'],
    ['redisTlsCertFile', 'KGW_REDIS_TLS_CERT_FILE'],
    ['redisTlsKeyFile', 'KGW_REDIS_TLS_KEY_FILE'],
  ] as const)
    if (set(key) && !rediss) problems.push(`${env} needs a rediss:// REDIS_URL`);
  if (set('redisTlsCertFile') !== set('redisTlsKeyFile'))
    problems.push('KGW_REDIS_TLS_CERT_FILE and KGW_REDIS_TLS_KEY_FILE go together');
  for (const [key, env] of FILE_SETTINGS) {
    const path = values[key];
    if (typeof path !== 'string' || path === '') continue;
    try {
      accessSync(path, constants.R_OK);
    } catch {
      problems.push(`${env}: cannot read '${path}'`);
    }
  }
  return problems;
}

/** Settings naming files the gateway reads at boot (or watches); each must be readable. */
const FILE_SETTINGS = [
  ['kafkaSslCaFile', 'KGW_KAFKA_SSL_CA_FILE'],
  ['kafkaSslCertFile', 'KGW_KAFKA_SSL_CERT_FILE'],
  ['kafkaSslKeyFile', 'KGW_KAFKA_SSL_KEY_FILE'],
  ['kafkaSslKeyPasswordFile', 'KGW_KAFKA_SSL_KEY_PASSWORD_FILE'],
  ['kafkaSaslPasswordFile', 'KGW_KAFKA_SASL_PASSWORD_FILE'],
  ['kafkaOauthClientSecretFile', 'KGW_KAFKA_OAUTH_CLIENT_SECRET_FILE'],
  ['redisPasswordFile', 'KGW_REDIS_PASSWORD_FILE'],
  ['redisTlsCaFile', 'KGW_REDIS_TLS_CA_FILE'],
  ['redisTlsCertFile', 'KGW_REDIS_TLS_CERT_FILE'],
  ['redisTlsKeyFile', 'KGW_REDIS_TLS_KEY_FILE'],
] as const;

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}
