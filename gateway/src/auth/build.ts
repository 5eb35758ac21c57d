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
 * The policy when there is someone to check: authentication on, or a policy
 * file. Without either, every caller is anonymous and nothing changes.
 */
export function buildPolicy(config: Config, logger: Logger): Policy | undefined {
  if (config.authMethods.length === 0 && !config.policyFile) return undefined;
  return new Policy(config.policyFile, (err) =>
    logger.error({ err }, 'policy file unreadable; keeping the rules last loaded'),
  );
}

/** Access checks against the policy (none without one). */
export function buildAccess(policy: Policy | undefined, logger: Logger): Access | undefined {
  return policy ? new Access(policy, logger) : undefined;
}
