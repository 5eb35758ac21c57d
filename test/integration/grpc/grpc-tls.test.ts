import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  credentials,
  loadPackageDefinition,
  Metadata,
  type GrpcObject,
  type ServiceClientConstructor,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { afterAll, describe, expect, it } from 'vitest';
import { selfSigned } from '../../support/certificates.js';
import { gatewayProtoPath } from '../../../gateway/src/grpc/proto-file.js';
import { PROTO_OPTIONS } from '../../../gateway/src/grpc/server.js';
import { closeAllGateways, startGateway } from '../../support/gateway-in-process.js';

describe('gRPC over TLS (KGW_GRPC_TLS_CERT / KGW_GRPC_TLS_KEY)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kgw-tls-'));
  afterAll(async () => {
    await closeAllGateways();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves TLS clients that trust the certificate and refuses plaintext ones', async () => {
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'cert.key');
    selfSigned(dir, 'cert', 'localhost', 'DNS:localhost,IP:127.0.0.1');
    const gw = await startGateway({ KGW_GRPC_TLS_CERT: cert, KGW_GRPC_TLS_KEY: key });
    const pkg = loadPackageDefinition(loadSync(gatewayProtoPath(), PROTO_OPTIONS)) as GrpcObject;
    const Service = ((pkg.kafka_gateway as GrpcObject).v1 as GrpcObject)
      .KafkaGateway as ServiceClientConstructor;
    const call = (client: InstanceType<ServiceClientConstructor>): Promise<unknown> =>
      new Promise((resolve, reject) =>
        (
          client as unknown as Record<
            string,
            (r: unknown, m: Metadata, o: unknown, cb: (e: unknown, v: unknown) => void) => void
          >
        ).ListBrokers!.call(
          client,
          {},
          new Metadata(),
          { deadline: Date.now() + 5000 },
          (err, value) => (err ? reject(err) : resolve(value)),
        ),
      );

    const secure = new Service(gw.grpcAddress, credentials.createSsl(readFileSync(cert)));
    const plain = new Service(gw.grpcAddress, credentials.createInsecure());
    try {
      expect(await call(secure)).toMatchObject({ brokers: [{ id: 1 }] });
      await expect(call(plain)).rejects.toMatchObject({ code: 14 }); // UNAVAILABLE: no TLS handshake
    } finally {
      secure.close();
      plain.close();
    }
  });
});
