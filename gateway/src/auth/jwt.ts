import { readFileSync, statSync } from 'node:fs';
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  errors,
  jwtVerify,
  type JSONWebKeySet,
  type JWTVerifyGetKey,
} from 'jose';
import { GatewayError } from '../errors.js';
import type { Principal } from './principal.js';

export interface JwtOptions {
  /** A JWKS file path, or an https:// URL (fetched with a timeout, cached, refreshed on unknown kid). */
  readonly jwks: string;
  readonly issuer?: string;
  readonly audience?: string;
  readonly clockSkewMs: number;
  readonly principalClaim: string;
  readonly groupsClaim: string;
  readonly timeoutMs: number;
}

/** Signature algorithms accepted; `none` and HMAC (shared secrets) never are. */
const ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
];

/**
 * Validates JWT bearer tokens against a JWKS: signature (asymmetric
 * algorithms only), issuer and audience when configured, expiry and
 * not-before with the configured clock skew. A JWKS file is read again when
 * it changes, so keys rotate without a restart.
 */
export class JwtVerifier {
  readonly #options: JwtOptions;
  readonly #keys: JWTVerifyGetKey;

  constructor(options: JwtOptions) {
    this.#options = options;
    this.#keys = /^https?:\/\//.test(options.jwks)
      ? createRemoteJWKSet(new URL(options.jwks), {
          timeoutDuration: options.timeoutMs,
          cooldownDuration: 30_000,
          cacheMaxAge: 600_000,
        })
      : fileKeySet(options.jwks);
  }

  async verify(token: string): Promise<Principal> {
    const { issuer, audience, clockSkewMs, principalClaim, groupsClaim } = this.#options;
    try {
      const { payload } = await jwtVerify(token, this.#keys, {
        algorithms: ALGORITHMS,
        ...(issuer ? { issuer } : {}),
        ...(audience ? { audience } : {}),
        clockTolerance: Math.round(clockSkewMs / 1000),
        requiredClaims: ['exp'],
      });
      const name = payload[principalClaim];
      if (typeof name !== 'string' || name === '') {
        throw unauthenticated(`the token has no '${principalClaim}' claim to name its principal`);
      }
      const groups = payload[groupsClaim];
      return {
        name,
        groups: Array.isArray(groups)
          ? groups.filter((g): g is string => typeof g === 'string')
          : [],
        via: 'jwt',
      };
    } catch (err) {
      if (err instanceof GatewayError) throw err;
      throw unauthenticated(`the bearer token was refused: ${reason(err)}`);
    }
  }
}

/** Why jose refused a token, in our words (its codes are stable, its messages are not ours). */
function reason(err: unknown): string {
  if (err instanceof errors.JWTExpired) return 'it has expired';
  if (err instanceof errors.JWTClaimValidationFailed)
    return `its '${err.claim}' claim is not accepted`;
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'its signature does not verify';
  if (err instanceof errors.JWKSNoMatchingKey) return 'no key of the key set matches it';
  if (err instanceof errors.JOSEAlgNotAllowed) return 'its algorithm is not accepted';
  if (err instanceof errors.JWKSTimeout) return 'the key set did not load in time';
  if (err instanceof errors.JWTInvalid || err instanceof errors.JWSInvalid)
    return 'it is malformed';
  return 'it could not be verified';
}

function unauthenticated(message: string): GatewayError {
  return new GatewayError('KGW_UNAUTHENTICATED', message);
}

/** A JWKS from a file, read again when the file's modification time changes. */
function fileKeySet(path: string): JWTVerifyGetKey {
  let mtimeMs = -1;
  let keySet: JWTVerifyGetKey | undefined;
  const load = (): JWTVerifyGetKey => {
    const stat = statSync(path);
    if (!keySet || stat.mtimeMs !== mtimeMs) {
      const jwks = JSON.parse(readFileSync(path, 'utf8')) as JSONWebKeySet;
      keySet = createLocalJWKSet(jwks);
      mtimeMs = stat.mtimeMs;
    }
    return keySet;
  };
  load(); // a broken file stops the boot, not the first request
  return (header, token) => load()(header, token);
}
