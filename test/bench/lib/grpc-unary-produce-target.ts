import type { ServiceError } from '@grpc/grpc-js';
import { describeStatus, GatewayGrpcConnection } from './grpc-gateway-client.js';
import type { LoadTarget, SendDone } from './load-target.js';

interface ProduceResponse {
  readonly results: readonly { readonly error?: { code: string; message: string } | null }[];
}

/**
 * Unary `Produce` of a fixed batch of `recordsPerSend` records over one
 * grpc-js connection: the load generator used when ghz cannot be installed.
 */
export class GrpcUnaryProduceTarget implements LoadTarget {
  readonly name: string;
  readonly recordsPerSend: number;
  readonly #connection: GatewayGrpcConnection;
  readonly #request: object;

  constructor(options: {
    readonly address: string;
    readonly topic: string;
    readonly value: Buffer;
    readonly recordsPerSend: number;
  }) {
    this.name = `gRPC Produce x${options.recordsPerSend}`;
    this.recordsPerSend = options.recordsPerSend;
    this.#connection = new GatewayGrpcConnection(options.address);
    this.#request = {
      topic: options.topic,
      records: Array.from({ length: options.recordsPerSend }, () => ({ value: options.value })),
    };
  }

  async begin(): Promise<void> {}

  send(done: SendDone): void {
    const n = this.recordsPerSend;
    this.#connection.unary<ProduceResponse>('Produce', this.#request).then(
      (response) => {
        let failed = 0;
        let rejected = 0;
        let reason: string | undefined;
        for (const result of response.results) {
          if (!result.error) continue;
          if (result.error.code === 'KGW_QUEUE_FULL') rejected += 1;
          else failed += 1;
          reason ??= `result ${result.error.code}: ${result.error.message.slice(0, 80)}`;
        }
        done(n - failed - rejected, failed, rejected, reason);
      },
      (err: ServiceError) => {
        const code = err.metadata?.get('kgw-code')[0];
        const reason = describeStatus(err.code, `${String(code ?? '')} ${err.details}`);
        if (code === 'KGW_QUEUE_FULL') done(0, 0, n, reason);
        else done(0, n, 0, reason);
      },
    );
  }

  async end(): Promise<void> {}

  async close(): Promise<void> {
    this.#connection.close();
  }
}
