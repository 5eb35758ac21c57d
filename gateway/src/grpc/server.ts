import { readFileSync } from 'node:fs';
import {
  Server,
  ServerCredentials,
  loadPackageDefinition,
  type GrpcObject,
  type ServiceClientConstructor,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation } from 'grpc-health-check';
import type { Logger } from '../observability/logger.js';
import type { ConsumeStreamOptions } from './consume-stream.js';
import { gatewayHandlers, type GrpcServices } from './handlers.js';
import { instrument } from './instrument.js';
import { adminOnly, authenticated } from './authenticate.js';
import type { Authenticator } from '../auth/authenticator.js';
import type { Quotas } from '../auth/quotas.js';
import type { Metrics } from '../observability/metrics.js';
import { gatewayProtoPath, healthProtoPath } from './proto-file.js';

export const SERVICE_NAME = 'kafka_gateway.v1.KafkaGateway';

export interface GrpcServerOptions extends ConsumeStreamOptions {
  readonly logger: Logger;
  readonly host: string;
  readonly port: number;
  readonly maxMessageBytes: number;
  readonly keepaliveMs: number;
  /** PEM files; both set: TLS, neither: plaintext. */
  readonly tlsCertFile?: string;
  readonly tlsKeyFile?: string;
  /** PEM CA: clients must present a certificate it signed. */
  readonly tlsClientCaFile?: string;
  /** Checks every call's credentials first (off: every caller is anonymous). */
  readonly authenticator?: Authenticator;
  /** Per-principal request quota and failed-authentication budget. */
  readonly quotas?: Quotas;
  /** Throws 403 unless the calling principal may `admin` (asked for reflection when authentication is on). */
  readonly requireAdmin?: () => void;
  readonly metrics?: Metrics;
}

/** Proto loading options shared by the server and tests' clients. */
export const PROTO_OPTIONS = {
  keepCase: false,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
} as const;

/** The gRPC transport: the KafkaGateway service, the standard health service and server reflection. */
export class GrpcServer {
  readonly #server: Server;
  readonly #health: HealthImplementation;
  readonly #options: GrpcServerOptions;

  constructor(services: GrpcServices, options: GrpcServerOptions) {
    this.#options = options;
    const definition = loadSync(gatewayProtoPath(), PROTO_OPTIONS);
    const pkg = loadPackageDefinition(definition) as GrpcObject;
    const service = ((pkg.kafka_gateway as GrpcObject).v1 as GrpcObject)
      .KafkaGateway as ServiceClientConstructor;
    this.#server = new Server({
      'grpc.max_receive_message_length': options.maxMessageBytes,
      'grpc.max_send_message_length': options.maxMessageBytes,
      'grpc.keepalive_time_ms': options.keepaliveMs,
      'grpc.keepalive_timeout_ms': 10_000,
      'grpc.keepalive_permit_without_calls': 1,
    });
    const handlers = options.authenticator
      ? authenticated(gatewayHandlers(services, options), options.authenticator, options.quotas)
      : gatewayHandlers(services, options);
    this.#server.addService(
      service.service,
      options.metrics ? instrument(handlers, options.metrics) : handlers,
    );
    this.#health = new HealthImplementation({ '': 'SERVING', [SERVICE_NAME]: 'SERVING' });
    this.#health.addToServer(this.#server);
    // Reflection describes both services, so generic tools (grpcurl) can call health checks too.
    // Like /metrics and /openapi.json it is an operator endpoint: authenticated and `admin` when
    // authentication is on (health stays open, like /healthz).
    const reflection = new ReflectionService(
      loadSync([gatewayProtoPath(), healthProtoPath()], PROTO_OPTIONS),
    );
    const { authenticator } = options;
    if (authenticator?.enabled) {
      const guarded: Pick<Server, 'addService'> = {
        addService: (definition, implementation) =>
          this.#server.addService(
            definition,
            authenticated(
              adminOnly(implementation, options.requireAdmin),
              authenticator,
              options.quotas,
            ),
          ),
      };
      reflection.addToServer(guarded as Server);
    } else reflection.addToServer(this.#server);
  }

  /** Binds and starts serving; resolves with the bound port. */
  listen(): Promise<number> {
    const { host, port, tlsCertFile, tlsKeyFile, tlsClientCaFile } = this.#options;
    // With a client CA, every client must present a certificate it signed (mutual TLS).
    const credentials =
      tlsCertFile && tlsKeyFile
        ? ServerCredentials.createSsl(
            tlsClientCaFile ? readFileSync(tlsClientCaFile) : null,
            [{ cert_chain: readFileSync(tlsCertFile), private_key: readFileSync(tlsKeyFile) }],
            Boolean(tlsClientCaFile),
          )
        : ServerCredentials.createInsecure();
    return new Promise((resolve, reject) =>
      this.#server.bindAsync(`${host}:${port}`, credentials, (err, bound) =>
        err ? reject(err) : resolve(bound),
      ),
    );
  }

  /** Health turns NOT_SERVING, then in-flight calls finish until the deadline; open streams are then cancelled (UNAVAILABLE). */
  async close(timeoutMs: number): Promise<void> {
    this.#health.setStatus('', 'NOT_SERVING');
    this.#health.setStatus(SERVICE_NAME, 'NOT_SERVING');
    await this.#options.streams.closeAll();
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.#options.logger.info(
          'gRPC calls still open at the shutdown deadline: cancelling them',
        );
        this.#server.forceShutdown();
        resolve();
      }, timeoutMs);
      timer.unref();
      this.#server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
