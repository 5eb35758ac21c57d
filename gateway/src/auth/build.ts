import type { Config } from '../config/schema.js';
import type { Logger } from '../observability/logger.js';
import { ApiKeys } from './api-keys.js';
import { Authenticator } from './authenticator.js';
import { JwtVerifier } from './jwt.js';
import { Access } from './access.js';
import { Policy } from './policy.js';

/** The authenticator the configuration asks for; a broken keys file or JWKS stops the boot. */
export function buildAuthenticator(config: Config, logger: Logger): Authenticator {
  const methods = config.authMethods;
  return new Authenticator({
    methods,
    ...(methods.includes('api-key')
      ? {
          apiKeys: new ApiKeys(config.apiKeysFile, {
            onReloadError: (err) =>
              logger.error({ err }, 'API keys file unreadable; keeping the keys last loaded'),
          }),
        }
      : {}),
    ...(methods.includes('jwt')
      ? {
          jwt: new JwtVerifier({
            jwks: config.jwks,
            ...(config.jwtIssuer ? { issuer: config.jwtIssuer } : {}),
            ...(config.jwtAudience ? { audience: config.jwtAudience } : {}),
            clockSkewMs: config.jwtClockSkewMs,
            principalClaim: config.jwtPrincipalClaim,
            groupsClaim: config.jwtGroupsClaim,
            timeoutMs: config.readyTimeoutMs,
          }),
        }
      : {}),
  });
}

/**
 * Access checks when there is someone to check: authentication on, or a
 * policy file. Without either, every caller is anonymous and nothing changes.
 */
export function buildAccess(config: Config, logger: Logger): Access | undefined {
  if (config.authMethods.length === 0 && !config.policyFile) return undefined;
  const policy = new Policy(config.policyFile, (err) =>
    logger.error({ err }, 'policy file unreadable; keeping the rules last loaded'),
  );
  return new Access(policy, logger);
}
