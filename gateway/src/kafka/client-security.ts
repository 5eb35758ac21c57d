import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import type { Config } from '../config/schema.js';
import { createLogger } from '../observability/logger.js';
import { OAuthTokenSource } from './oauth-token.js';
import type { KAFKA_SASL_MECHANISMS, KAFKA_SECURITY_PROTOCOLS } from '../config/schema.js';

export type KafkaSecurityProtocol = (typeof KAFKA_SECURITY_PROTOCOLS)[number];
export type KafkaSaslMechanism = (typeof KAFKA_SASL_MECHANISMS)[number];

export interface KafkaTls {
  readonly caFile?: string;
  readonly certFile?: string;
  readonly keyFile?: string;
  readonly keyPassword?: string;
  readonly verifyHostname: boolean;
}

export type KafkaSasl =
  | {
      readonly mechanism: Exclude<KafkaSaslMechanism, 'OAUTHBEARER'>;
      readonly username: string;
      readonly password: string;
    }
  | { readonly mechanism: 'OAUTHBEARER'; readonly tokens: OAuthTokenSource };

/** How every Kafka client of the process connects: librdkafka's and the group coordinator's. */
export interface KafkaSecurity {
  readonly protocol: KafkaSecurityProtocol;
  readonly tls?: KafkaTls;
  readonly sasl?: KafkaSasl;
}

export const PLAINTEXT: KafkaSecurity = { protocol: 'plaintext' };

const readSecret = (path: string): string => readFileSync(path, 'utf8').trim();

/** One per configuration, so the process shares one OAuth token source. */
const resolved = new WeakMap<Config, KafkaSecurity>();

/** Resolves the settings (secrets read from their files, once) into one KafkaSecurity. */
export function kafkaSecurity(config: Config): KafkaSecurity {
  let security = resolved.get(config);
  if (!security) {
    security = resolve(config);
    resolved.set(config, security);
  }
  return security;
}

function sasl(config: Config): KafkaSasl {
  if (config.kafkaSaslMechanism === 'OAUTHBEARER') {
    return {
      mechanism: 'OAUTHBEARER',
      tokens: new OAuthTokenSource({
        url: config.kafkaOauthTokenUrl,
        clientId: config.kafkaOauthClientId,
        clientSecret: readSecret(config.kafkaOauthClientSecretFile),
        scope: config.kafkaOauthScope,
        timeoutMs: config.readyTimeoutMs,
        logger: createLogger(config.logLevel).child({ component: 'kafka-oauth' }),
      }),
    };
  }
  return {
    mechanism: config.kafkaSaslMechanism as Exclude<KafkaSaslMechanism, 'OAUTHBEARER'>,
    username: config.kafkaSaslUsername,
    password: config.kafkaSaslPasswordFile
      ? readSecret(config.kafkaSaslPasswordFile)
      : config.kafkaSaslPassword,
  };
}

function resolve(config: Config): KafkaSecurity {
  const protocol = config.kafkaSecurityProtocol;
  const usesTls = protocol === 'ssl' || protocol === 'sasl_ssl';
  const usesSasl = protocol === 'sasl_plaintext' || protocol === 'sasl_ssl';
  return {
    protocol,
    ...(usesTls
      ? {
          tls: {
            ...(config.kafkaSslCaFile ? { caFile: config.kafkaSslCaFile } : {}),
            ...(config.kafkaSslCertFile ? { certFile: config.kafkaSslCertFile } : {}),
            ...(config.kafkaSslKeyFile ? { keyFile: config.kafkaSslKeyFile } : {}),
            ...(config.kafkaSslKeyPasswordFile
              ? { keyPassword: readSecret(config.kafkaSslKeyPasswordFile) }
              : {}),
            verifyHostname: config.kafkaSslVerifyHostname,
          },
        }
      : {}),
    ...(usesSasl && config.kafkaSaslMechanism ? { sasl: sasl(config) } : {}),
  };
}

/** The same settings as librdkafka properties, merged into every client the gateway creates. */
export function librdkafkaSecurity(security: KafkaSecurity = PLAINTEXT): Record<string, string> {
  const props: Record<string, string> = { 'security.protocol': security.protocol };
  const { tls, sasl } = security;
  if (tls) {
    if (tls.caFile) props['ssl.ca.location'] = tls.caFile;
    if (tls.certFile) props['ssl.certificate.location'] = tls.certFile;
    if (tls.keyFile) props['ssl.key.location'] = tls.keyFile;
    if (tls.keyPassword) props['ssl.key.password'] = tls.keyPassword;
    props['ssl.endpoint.identification.algorithm'] = tls.verifyHostname ? 'https' : 'none';
  }
  if (sasl) {
    props['sasl.mechanisms'] = sasl.mechanism;
    // OAUTHBEARER: the token is handed to each client (LazyConnection), never configured.
    if (sasl.mechanism !== 'OAUTHBEARER') {
      props['sasl.username'] = sasl.username;
      props['sasl.password'] = sasl.password;
    }
  }
  return props;
}

/** The OAuth token source of a security setup, if it uses OAUTHBEARER. */
export function oauthTokens(security: KafkaSecurity | undefined): OAuthTokenSource | undefined {
  return security?.sasl?.mechanism === 'OAUTHBEARER' ? security.sasl.tokens : undefined;
}

/** node:tls options toward one broker, for the gateway's own protocol client. */
export function brokerTlsOptions(tls: KafkaTls, host: string): ConnectionOptions {
  return {
    host,
    // SNI carries names only; an IP address is still checked against the certificate.
    ...(isIP(host) ? {} : { servername: host }),
    ...(tls.caFile ? { ca: readFileSync(tls.caFile) } : {}),
    ...(tls.certFile ? { cert: readFileSync(tls.certFile) } : {}),
    ...(tls.keyFile ? { key: readFileSync(tls.keyFile) } : {}),
    ...(tls.keyPassword ? { passphrase: tls.keyPassword } : {}),
    ...(tls.verifyHostname ? {} : { checkServerIdentity: () => undefined }),
  };
}
