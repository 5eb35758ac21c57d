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

/** Tokens remembered as verified, and for how long at most (a key removed from a URL JWKS is noticed by then). */
const CACHE_MAX_ENTRIES = 10_000;
const CACHE_MAX_MS = 60_000;
/** How often a JWKS file's modification time is looked at. */
const FILE_CHECK_MS = 1000;

/**
 * Validates JWT bearer tokens against a JWKS: signature (asymmetric
 * algorithms only), issuer and audience when configured, expiry and
 * not-before with the configured clock skew. A JWKS file is read again when
 * it changes, so keys rotate without a restart. A token that verified is
 * remembered (bounded, until it expires or for a minute at most, forgotten
 * when the JWKS file changes): a client sends the same token on every
 * request, and checking its signature each time doubled a request's CPU.
 */
export class JwtVerifier {
  readonly #options: JwtOptions;
  readonly #keys: JWTVerifyGetKey;
  /** Looks at a JWKS file for changes (at most once a second); none for a URL. */
  readonly #refresh: () => void = () => undefined;
  readonly #verified = new Map<string, { principal: Principal; until: number }>();

  constructor(options: JwtOptions) {
    this.#options = options;
    if (/^https?:\/\//.test(options.jwks)) {
      this.#keys = createRemoteJWKSet(new URL(options.jwks), {
        timeoutDuration: options.timeoutMs,
        cooldownDuration: 30_000,
        cacheMaxAge: 600_000,
      });
    } else {
      const file = fileKeySet(options.jwks, () => this.#verified.clear());
      this.#keys = file.getKey;
      this.#refresh = file.refresh;
    }
  }

  async verify(token: string): Promise<Principal> {
    this.#refresh();
    const now = Date.now();
    const known = this.#verified.get(token);
    if (known && known.until > now) return known.principal;
    if (known) this.#verified.delete(token);
    const { principal, expiresAt } = await this.#verify(token);
    if (this.#verified.size >= CACHE_MAX_ENTRIES) {
      // Oldest first: a Map iterates in insertion order.
      this.#verified.delete(this.#verified.keys().next().value!);
    }
    this.#verified.set(token, { principal, until: Math.min(expiresAt, now + CACHE_MAX_MS) });
    return principal;
  }

  async #verify(token: string): Promise<{ principal: Principal; expiresAt: number }> {
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
        principal: {
          name,
          groups: Array.isArray(groups)
            ? groups.filter((g): g is string => typeof g === 'string')
            : [],
          via: 'jwt',
        },
        // requiredClaims makes exp present; remembered no longer than jwtVerify would accept it.
        expiresAt: payload.exp! * 1000,
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

/** A JWKS from a file, read again when the file's modification time changes (looked at once a second). */
function fileKeySet(
  path: string,
  onChange: () => void,
): { getKey: JWTVerifyGetKey; refresh: () => void } {
  let mtimeMs = -1;
  let checkedAt = 0;
  let keySet: JWTVerifyGetKey | undefined;
  const load = (): JWTVerifyGetKey => {
    const now = Date.now();
    if (keySet && now - checkedAt < FILE_CHECK_MS) return keySet;
    checkedAt = now;
    const stat = statSync(path);
    if (!keySet || stat.mtimeMs !== mtimeMs) {
      const jwks = JSON.parse(readFileSync(path, 'utf8')) as JSONWebKeySet;
      keySet = createLocalJWKSet(jwks);
      if (mtimeMs !== -1) onChange();
      mtimeMs = stat.mtimeMs;
    }
    return keySet;
  };
  load(); // a broken file stops the boot, not the first request
  return { getKey: (header, token) => load()(header, token), refresh };

  function refresh(): void {
    try {
      load();
    } catch {
      // A file caught mid-write: the next verification reads it again and refuses meanwhile.
      keySet = undefined;
    }
  }
}
