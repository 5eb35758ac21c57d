import { status, type ServerDuplexStream } from '@grpc/grpc-js';
import { toServiceError } from './grpc-errors.js';
import { GatewayError } from '../errors.js';

/**
 * Long-lived streams, so a shutdown can end each one with a retryable status
 * (UNAVAILABLE, KGW_SHUTTING_DOWN) once what it already accepted is answered.
 */
export class OpenStreams {
  readonly #streams = new Map<ServerDuplexStream<unknown, unknown>, () => Promise<void>>();
  #closing = false;

  get closing(): boolean {
    return this.#closing;
  }

  /** Registers a stream; `drain` resolves once everything it accepted was answered. */
  add(call: ServerDuplexStream<unknown, unknown>, drain: () => Promise<void>): () => void {
    this.#streams.set(call, drain);
    return () => this.#streams.delete(call);
  }

  async closeAll(): Promise<void> {
    this.#closing = true;
    await Promise.all(
      [...this.#streams.entries()].map(async ([call, drain]) => {
        await drain();
        const err = toServiceError(
          new GatewayError('KGW_SHUTTING_DOWN', 'this instance is shutting down; reconnect'),
        );
        // grpc-js ends a server stream with a status when the stream emits 'error'.
        if (!call.cancelled) call.emit('error', { ...err, code: status.UNAVAILABLE });
      }),
    );
    this.#streams.clear();
  }
}
