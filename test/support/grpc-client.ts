import {
  credentials,
  loadPackageDefinition,
  Metadata,
  type Client,
  type GrpcObject,
  type ServiceClientConstructor,
  type ServiceError,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { gatewayProtoPath } from '../../gateway/src/grpc/proto-file.js';
import { PROTO_OPTIONS } from '../../gateway/src/grpc/server.js';

type Callback = (err: ServiceError | null, value: unknown) => void;
type UnaryMethod = (
  request: unknown,
  metadata: Metadata,
  options: { deadline: number },
  callback: Callback,
) => void;

/** A generated @grpc/grpc-js client of kafka_gateway.v1.KafkaGateway. */
export type GatewayClient = Client & Record<string, unknown>;

const clients = new Set<Client>();

export function gatewayClient(address: string): GatewayClient {
  const pkg = loadPackageDefinition(loadSync(gatewayProtoPath(), PROTO_OPTIONS)) as GrpcObject;
  const Service = ((pkg.kafka_gateway as GrpcObject).v1 as GrpcObject)
    .KafkaGateway as ServiceClientConstructor;
  const client = new Service(address, credentials.createInsecure()) as unknown as GatewayClient;
  clients.add(client);
  return client;
}

/** Calls a unary method with a 30 s deadline. */
export function unary<T>(
  client: GatewayClient,
  method: string,
  request: unknown,
  metadata: Metadata = new Metadata(),
): Promise<T> {
  return new Promise((resolve, reject) =>
    (client[method] as UnaryMethod).call(
      client,
      request,
      metadata,
      { deadline: Date.now() + 30_000 },
      (err, value) => (err ? reject(err) : resolve(value as T)),
    ),
  );
}

export function closeAllGrpcClients(): void {
  for (const c of clients) c.close();
  clients.clear();
}
