import type { KafkaSasl } from '../client-security.js';
import type { ApiSpec } from './api-versions.js';
import type { ResponseReader } from './reader.js';
import { ScramClient } from './scram.js';
import type { RequestWriter } from './writer.js';

/** v1: the mechanism's bytes then travel in SaslAuthenticate requests (v0 is gone, KIP-896). */
export const SASL_HANDSHAKE: ApiSpec = {
  key: 17,
  name: 'SaslHandshake',
  minVersion: 1,
  maxVersion: 1,
};

/** v1 added session_lifetime_ms (KIP-368); v2+ are flexible. */
export const SASL_AUTHENTICATE: ApiSpec = {
  key: 36,
  name: 'SaslAuthenticate',
  minVersion: 0,
  maxVersion: 1,
};

export function encodeSaslHandshakeRequest(writer: RequestWriter, mechanism: string): void {
  writer.string(mechanism);
}

export function decodeSaslHandshakeResponse(reader: ResponseReader): {
  errorCode: number;
  mechanisms: string[];
} {
  const errorCode = reader.int16();
  return { errorCode, mechanisms: reader.array((r) => r.string()) };
}

export function encodeSaslAuthenticateRequest(writer: RequestWriter, bytes: Buffer): void {
  writer.bytes(bytes);
}

export interface SaslAuthenticateResponse {
  readonly errorCode: number;
  readonly errorMessage: string | null;
  readonly authBytes: Buffer;
  /** 0: the broker does not expire the session. */
  readonly sessionLifetimeMs: number;
}

export function decodeSaslAuthenticateResponse(
  reader: ResponseReader,
  version: number,
): SaslAuthenticateResponse {
  const errorCode = reader.int16();
  const errorMessage = reader.nullableString();
  const authBytes = reader.bytes() ?? Buffer.alloc(0);
  const sessionLifetimeMs = version >= 1 ? reader.int64Number() : 0;
  return { errorCode, errorMessage, authBytes, sessionLifetimeMs };
}

/**
 * One mechanism's side of the exchange: the first message, then an answer to
 * each server message until it returns null (done). Throws when the server's
 * message is wrong.
 */
export interface SaslConversation {
  first(): Promise<Buffer>;
  next(server: Buffer): Promise<Buffer | null>;
}

/** Who is authenticating, for messages: the SASL user, or the token's holder. */
export function saslIdentity(sasl: KafkaSasl): string {
  return sasl.mechanism === 'OAUTHBEARER' ? 'the OAuth token' : `'${sasl.username}'`;
}

export function saslConversation(sasl: KafkaSasl): SaslConversation {
  if (sasl.mechanism === 'PLAIN') {
    return {
      first: () => Promise.resolve(Buffer.from(`\0${sasl.username}\0${sasl.password}`, 'utf8')),
      next: () => Promise.resolve(null),
    };
  }
  if (sasl.mechanism === 'OAUTHBEARER') {
    let refused: string | undefined;
    return {
      // RFC 7628 §3.1: the GS2 header, then the bearer token between ^A separators.
      first: async () =>
        Buffer.from(`n,,\x01auth=Bearer ${await sasl.tokens.token()}\x01\x01`, 'utf8'),
      next(server) {
        if (server.length === 0) return Promise.resolve(null);
        // A refusal comes as a JSON challenge; the client answers ^A and the broker then fails
        // the exchange with an error code (RFC 7628 §3.2.3).
        if (refused !== undefined) return Promise.reject(new Error(refused));
        refused = `the broker refused the token: ${server.toString('utf8')}`;
        return Promise.resolve(Buffer.from('\x01', 'utf8'));
      },
    };
  }
  const scram = new ScramClient(sasl.mechanism, sasl.username, sasl.password);
  let step = 0;
  return {
    first: () => Promise.resolve(Buffer.from(scram.first(), 'utf8')),
    async next(server) {
      step += 1;
      if (step === 1) return Buffer.from(await scram.final(server.toString('utf8')), 'utf8');
      scram.verify(server.toString('utf8'));
      return null;
    },
  };
}
