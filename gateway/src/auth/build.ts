import type { Config } from '../config/schema.js';
import type { Logger } from '../observability/logger.js';
import { ApiKeys } from './api-keys.js';
import { Authenticator } from './authenticator.js';
import { JwtVerifier } from './jwt.js';

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
