import { connect, type Socket } from 'node:net';
import { connect as connectTls, type ConnectionOptions } from 'node:tls';
import type { KafkaSasl } from '../client-security.js';
import type { Logger } from '../../observability/logger.js';
import {
  API_VERSIONS,
  decodeApiVersionsResponse,
  pickVersion,
  type ApiSpec,
  type SupportedVersions,
} from './api-versions.js';
import { BrokerAuthenticationError, BrokerConnectionError, ProtocolError } from './errors.js';
import { FrameSplitter, encodeRequest } from './framing.js';
import type { ResponseReader } from './reader.js';
import {
  SASL_AUTHENTICATE,
  SASL_HANDSHAKE,
  decodeSaslAuthenticateResponse,
  decodeSaslHandshakeResponse,
  encodeSaslAuthenticateRequest,
  encodeSaslHandshakeRequest,
  saslConversation,
  saslIdentity,
} from './sasl.js';
import type { RequestWriter } from './writer.js';

export interface BrokerConnectionOptions {
  readonly host: string;
  readonly port: number;
  readonly clientId: string;
  /** Bound on TCP connect plus the ApiVersions exchange, separate from request deadlines. */
  readonly connectTimeoutMs: number;
  readonly logger: Logger;
  /** Speak TLS with these options (host, CA, client certificate…); plain TCP when absent. */
  readonly tls?: ConnectionOptions;
  /** Authenticate each connection with SASL after the ApiVersions exchange. */
  readonly sasl?: KafkaSasl;
}

interface PendingRequest {
  readonly resolve: (body: ResponseReader) => void;
  readonly reject: (err: Error) => void;
  readonly timer: NodeJS.Timeout;
}

/** One socket and what was negotiated on it; discarded, never repaired, when it breaks. */
interface Session {
  readonly socket: Socket;
  readonly splitter: FrameSplitter;
  readonly pending: Map<number, PendingRequest>;
  versions: SupportedVersions;
  broken: boolean;
  /** Set once the broker's SASL session is about to expire: no new requests go to it. */
  retiring: boolean;
  expiry: NodeJS.Timeout | undefined;
}

/**
 * One TCP connection to one broker, shared by every caller: requests are
 * pipelined and answers matched by correlation id. A broken connection
 * rejects what was in flight and is re-opened lazily by the next request.
 */
export class BrokerConnection {
  readonly address: string;
  readonly #options: BrokerConnectionOptions;
  /** The current session (open or opening) and the promise that resolves once it is usable. */
  #session: Session | undefined;
  #ready: Promise<Session> | undefined;
  #nextCorrelationId = 1;
  #closed = false;

  constructor(options: BrokerConnectionOptions) {
    this.#options = options;
    this.address = `${options.host}:${options.port}`;
  }

  /** Sends one request at the highest version both sides speak; rejects by `deadline` (epoch ms). */
  async request<T>(
    api: ApiSpec,
    encode: (writer: RequestWriter, version: number) => void,
    decode: (reader: ResponseReader, version: number) => T,
    deadline: number,
  ): Promise<T> {
    const session = await this.#open(deadline);
    const version = pickVersion(api, session.versions);
    const body = await this.#send(session, api, version, (w) => encode(w, version), deadline);
    return decode(body, version);
  }

  /** Drops the socket now: pending requests reject, and so does every later request. */
  close(): void {
    this.#closed = true;
    if (this.#session) this.#fail(this.#session, new BrokerConnectionError(this.address, 'closed'));
  }

  #open(deadline: number): Promise<Session> {
    if (this.#closed) return Promise.reject(new BrokerConnectionError(this.address, 'closed'));
    if (this.#ready) return this.#ready;
    const { host, port, tls } = this.#options;
    const socket = tls
      ? connectTls({ ...tls, host, port })
          .setNoDelay(true)
          .setKeepAlive(true)
      : connect({ host, port, noDelay: true, keepAlive: true });
    const session: Session = {
      socket,
      splitter: new FrameSplitter(),
      pending: new Map(),
      versions: new Map(),
      broken: false,
      retiring: false,
      expiry: undefined,
    };
    session.socket.on('data', (chunk: Buffer) => this.#onData(session, chunk));
    session.socket.on('error', (err) =>
      this.#fail(session, new BrokerConnectionError(this.address, err.message, { cause: err })),
    );
    session.socket.on('close', () =>
      this.#fail(session, new BrokerConnectionError(this.address, 'connection closed')),
    );
    this.#session = session;
    this.#ready = this.#handshake(session, deadline);
    return this.#ready;
  }

  /**
   * Connects (TLS included), learns the broker's API versions and
   * authenticates, all within the connect timeout.
   */
  async #handshake(session: Session, deadline: number): Promise<Session> {
    const openBy = Math.min(deadline, Date.now() + this.#options.connectTimeoutMs);
    try {
      await this.#connected(session.socket, openBy);
      const body = await this.#send(session, API_VERSIONS, 0, () => undefined, openBy);
      session.versions = decodeApiVersionsResponse(body);
      if (this.#options.sasl) await this.#authenticate(session, this.#options.sasl, openBy);
    } catch (err) {
      this.#fail(
        session,
        err instanceof BrokerConnectionError
          ? err
          : new BrokerConnectionError(this.address, 'handshake failed', { cause: err }),
      );
      throw err;
    }
    this.#options.logger.debug({ broker: this.address }, 'broker connection open');
    return session;
  }

  /**
   * SaslHandshake then SaslAuthenticate rounds until the mechanism is done. A
   * session the broker will expire (KIP-368) is retired before then: new
   * requests open a fresh connection while this one drains.
   */
  async #authenticate(session: Session, sasl: KafkaSasl, by: number): Promise<void> {
    const handshake = decodeSaslHandshakeResponse(
      await this.#send(
        session,
        SASL_HANDSHAKE,
        pickVersion(SASL_HANDSHAKE, session.versions),
        (w) => encodeSaslHandshakeRequest(w, sasl.mechanism),
        by,
      ),
    );
    if (handshake.errorCode !== 0) {
      throw new BrokerAuthenticationError(
        this.address,
        `SASL mechanism ${sasl.mechanism} is not enabled on the broker (it offers ${handshake.mechanisms.join(', ') || 'none'})`,
      );
    }
    const version = pickVersion(SASL_AUTHENTICATE, session.versions);
    const conversation = saslConversation(sasl);
    let message: Buffer | null;
    try {
      message = await conversation.first();
    } catch (err) {
      throw new BrokerAuthenticationError(
        this.address,
        `SASL ${sasl.mechanism}: ${(err as Error).message}`,
        { cause: err },
      );
    }
    let lifetimeMs = 0;
    while (message) {
      const bytes: Buffer = message;
      const answer = decodeSaslAuthenticateResponse(
        await this.#send(
          session,
          SASL_AUTHENTICATE,
          version,
          (w) => encodeSaslAuthenticateRequest(w, bytes),
          by,
        ),
        version,
      );
      if (answer.errorCode !== 0) {
        throw new BrokerAuthenticationError(
          this.address,
          `SASL ${sasl.mechanism} authentication of ${saslIdentity(sasl)} failed: ${answer.errorMessage ?? `Kafka error code ${answer.errorCode}`}`,
        );
      }
      lifetimeMs = answer.sessionLifetimeMs;
      try {
        message = await conversation.next(answer.authBytes);
      } catch (err) {
        throw new BrokerAuthenticationError(
          this.address,
          `SASL ${sasl.mechanism}: ${(err as Error).message}`,
          { cause: err },
        );
      }
    }
    if (lifetimeMs > 0) {
      session.expiry = setTimeout(() => this.#retire(session), lifetimeMs * 0.8);
      session.expiry.unref();
    }
  }

  /** Stops routing requests to a session; it closes once its answers are in. */
  #retire(session: Session): void {
    session.retiring = true;
    if (this.#session === session) {
      this.#session = undefined;
      this.#ready = undefined;
    }
    if (session.pending.size === 0) {
      this.#fail(session, new BrokerConnectionError(this.address, 'SASL session expired'));
    }
  }

  #connected(socket: Socket, by: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const done = (err?: Error): void => {
        clearTimeout(timer);
        socket.off(connectEvent, onConnect).off('error', onError).off('close', onClose);
        if (err) reject(err);
        else resolve();
      };
      const onConnect = (): void => done();
      // A TLS socket is usable once its handshake is done, not at TCP connect.
      const connectEvent = this.#options.tls ? 'secureConnect' : 'connect';
      const onError = (err: Error): void =>
        done(new BrokerConnectionError(this.address, err.message, { cause: err }));
      const onClose = (): void =>
        done(new BrokerConnectionError(this.address, 'could not connect'));
      const timer = setTimeout(
        () => done(new BrokerConnectionError(this.address, 'connect timed out')),
        Math.max(0, by - Date.now()),
      );
      socket.once(connectEvent, onConnect).once('error', onError).once('close', onClose);
    });
  }

  #send(
    session: Session,
    api: ApiSpec,
    version: number,
    writeBody: (writer: RequestWriter) => void,
    deadline: number,
  ): Promise<ResponseReader> {
    if (session.broken) {
      return Promise.reject(new BrokerConnectionError(this.address, 'connection closed'));
    }
    const correlationId = this.#nextCorrelationId;
    // Ids only need to be unique among requests in flight, so wrapping the int32 is safe.
    this.#nextCorrelationId = correlationId >= 0x7fffffff ? 1 : correlationId + 1;
    const frame = encodeRequest(
      { apiKey: api.key, apiVersion: version, correlationId, clientId: this.#options.clientId },
      writeBody,
    );
    return new Promise<ResponseReader>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          // The connection may be half-open: replace it rather than keep waiting on it.
          this.#fail(
            session,
            new BrokerConnectionError(this.address, `no answer to ${api.name} in time`),
          ),
        Math.max(0, deadline - Date.now()),
      );
      session.pending.set(correlationId, { resolve, reject, timer });
      session.socket.write(frame);
    });
  }

  #onData(session: Session, chunk: Buffer): void {
    let frames;
    try {
      frames = session.splitter.push(chunk);
    } catch (err) {
      const message = err instanceof ProtocolError ? err.message : 'unreadable response';
      this.#fail(session, new BrokerConnectionError(this.address, message, { cause: err }));
      return;
    }
    for (const frame of frames) {
      const pending = session.pending.get(frame.correlationId);
      if (!pending) continue; // ids are unique in flight, so only a broker bug lands here
      session.pending.delete(frame.correlationId);
      clearTimeout(pending.timer);
      pending.resolve(frame.body);
    }
    if (session.retiring && session.pending.size === 0) {
      this.#fail(session, new BrokerConnectionError(this.address, 'SASL session expired'));
    }
  }

  /** Marks a session broken, rejects its requests and forgets it so the next request reconnects. */
  #fail(session: Session, err: BrokerConnectionError): void {
    if (session.broken) return;
    session.broken = true;
    clearTimeout(session.expiry);
    session.socket.destroy();
    for (const pending of session.pending.values()) {
      clearTimeout(pending.timer);
      pending.reject(err);
    }
    session.pending.clear();
    if (this.#session === session) {
      this.#session = undefined;
      this.#ready = undefined;
    }
    this.#options.logger.debug({ broker: this.address, err }, 'broker connection closed');
  }
}
