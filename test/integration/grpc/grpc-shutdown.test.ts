import type { ClientDuplexStream, ServiceError } from '@grpc/grpc-js';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { closeAllGateways, startGateway } from '../../support/gateway-in-process.js';
import { closeAllGrpcClients, gatewayClient } from '../../support/grpc-client.js';
import { closeAllClients, createTopic, uniqueName } from '../../support/kafka.js';

describe('gRPC shutdown', () => {
  afterEach(closeAllClients);
  afterAll(async () => {
    closeAllGrpcClients();
    await closeAllGateways();
  });

  it('ends an open Consume stream with UNAVAILABLE and KGW_SHUTTING_DOWN, a status clients retry elsewhere', async () => {
    const gw = await startGateway();
    const topic = await createTopic();
    const client = gatewayClient(gw.grpcAddress);
    const call = (client.Consume as () => ClientDuplexStream<unknown, { kind: string }>).call(
      client,
    );
    const opened = new Promise<void>((resolve) =>
      call.on('data', (m: { kind: string }) => m.kind === 'opened' && resolve()),
    );
    const ended = new Promise<ServiceError>((resolve) =>
      call.on('error', (err: ServiceError) => resolve(err)),
    );
    call.write({ open: { group: uniqueName('g'), topics: [topic], initialCredit: 10 } });
    await opened;

    await gw.close();
    const err = await ended;
    expect(err.code).toBe(14); // UNAVAILABLE
    expect(err.metadata.get('kgw-code')).toEqual(['KGW_SHUTTING_DOWN']);
  });
});
