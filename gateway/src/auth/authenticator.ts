import { GatewayError } from '../errors.js';
import type { ApiKeys } from './api-keys.js';
import type { JwtVerifier } from './jwt.js';
import { ANONYMOUS, type Credentials, type Principal } from './principal.js';

export const AUTH_METHODS = ['api-key', 'jwt', 'mtls'] as const;
export type AuthMethod = (typeof AUTH_METHODS)[number];

export interface AuthenticatorOptions {
  /** Enabled methods; empty: authentication is off and every caller is ANONYMOUS. */
  readonly methods: readonly AuthMethod[];
  readonly apiKeys?: ApiKeys;
  readonly jwt?: JwtVerifier;
}

/**
 * Turns the credentials a transport found into a principal, or refuses with
 * 401 KGW_UNAUTHENTICATED. One part for HTTP and gRPC: transports only
 * collect headers/metadata and the verified client certificate.
 */
export class Authenticator {
  readonly #options: AuthenticatorOptions;

  constructor(options: AuthenticatorOptions) {
    this.#options = options;
  }

  get enabled(): boolean {
    return this.#options.methods.length > 0;
  }

  /** The schemes a 401 names in WWW-Authenticate. */
  get challenge(): string {
    const schemes: string[] = [];
    if (this.#options.methods.includes('jwt')) schemes.push('Bearer');
    if (this.#options.methods.includes('api-key')) schemes.push('ApiKey');
    return schemes.join(', ') || 'Bearer';
  }

  async authenticate(credentials: Credentials): Promise<Principal> {
    const { methods, apiKeys, jwt } = this.#options;
    if (methods.length === 0) return ANONYMOUS;
    const [scheme, value] = splitAuthorization(credentials.authorization);
    if (scheme === 'bearer' && methods.includes('jwt') && jwt) return jwt.verify(value);
    const key =
      credentials.apiKey ?? (scheme === 'apikey' || scheme === 'bearer' ? value : undefined);
    if (key !== undefined && methods.includes('api-key') && apiKeys) {
      const principal = apiKeys.lookup(key);
      if (principal) return principal;
      throw unauthenticated('the API key is not valid (unknown or revoked)');
    }
    const cert = credentials.clientCertificate;
    if (methods.includes('mtls') && cert?.subjectCn) {
      return { name: cert.subjectCn, groups: [], via: 'mtls' };
    }
    throw unauthenticated(
      credentials.authorization !== undefined
        ? 'the Authorization header carries no accepted credentials'
        : 'authentication is required: send an Authorization header (or a client certificate)',
    );
  }
}

function splitAuthorization(header: string | undefined): [string, string] {
  if (!header) return ['', ''];
  const space = header.indexOf(' ');
  if (space === -1) return ['', ''];
  return [header.slice(0, space).toLowerCase(), header.slice(space + 1).trim()];
}

function unauthenticated(message: string): GatewayError {
  return new GatewayError('KGW_UNAUTHENTICATED', message);
}
