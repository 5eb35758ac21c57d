import {
  credentials,
  loadPackageDefinition,
  Metadata,
  type Client,
  type GrpcObject,
  type ServiceClientConstructor,
  type ServiceError,
} from '@grpc/grpc-js';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
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

/**
 * Lists the services through gRPC server reflection (grpc.reflection.v1), as a
 * tool like grpcurl does; rejects with the call's error.
 */
export function reflectionServices(address: string, metadata = new Metadata()): Promise<string[]> {
  const proto = join(
    dirname(createRequire(import.meta.url).resolve('@grpc/reflection')),
    '..',
    'proto',
    'grpc',
    'reflection',
    'v1',
    'reflection.proto',
  );
  const pkg = loadPackageDefinition(loadSync(proto, PROTO_OPTIONS)) as GrpcObject;
  const Service = (((pkg.grpc as GrpcObject).reflection as GrpcObject).v1 as GrpcObject)
    .ServerReflection as ServiceClientConstructor;
  const client = new Service(address, credentials.createInsecure());
  clients.add(client);
  return new Promise((resolve, reject) => {
    const call = (
      client as unknown as Record<
        string,
        (m: Metadata, o: { deadline: number }) => NodeJS.ReadWriteStream
      >
    ).ServerReflectionInfo!.call(client, metadata, { deadline: Date.now() + 30_000 });
    call.on('data', (response: { listServicesResponse?: { service: { name: string }[] } }) => {
      resolve((response.listServicesResponse?.service ?? []).map((s) => s.name));
      call.end();
    });
    call.on('error', reject);
    call.write({ listServices: '' } as unknown as string);
  });
}
