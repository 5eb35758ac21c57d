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
  problems.push(...authProblems(values));
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

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}
