/** Who made a request, as authentication established it. */
export interface Principal {
  /** Stable name: an API key's principal, a JWT claim, a client certificate's subject CN. */
  readonly name: string;
  /** Groups the principal belongs to (for policies that name groups). */
  readonly groups: readonly string[];
  readonly via: 'api-key' | 'jwt' | 'mtls' | 'anonymous';
}

/** The principal of a request when authentication is off. */
export const ANONYMOUS: Principal = Object.freeze({
  name: 'anonymous',
  groups: [],
  via: 'anonymous',
});

/** What a transport hands the authenticator: the credentials it found on the request. */
export interface Credentials {
  /** The Authorization header (`Bearer <jwt>` or `ApiKey <key>`). */
  readonly authorization?: string;
  /** The X-API-Key header (HTTP) or x-api-key metadata (gRPC). */
  readonly apiKey?: string;
  /** The verified client certificate's subject and SANs, when the TLS layer checked one. */
  readonly clientCertificate?: {
    readonly subjectCn?: string;
    readonly dnsNames?: readonly string[];
  };
}
