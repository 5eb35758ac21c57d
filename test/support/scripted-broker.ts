// A Kafka broker in a few lines, for unit tests of the gateway's own protocol client: it cuts
// request frames from the socket and hands each (header read, body next) to the test's script.
import { createServer, type Server, type Socket } from 'node:net';
import { ResponseReader } from '../../gateway/src/kafka/protocol/reader.js';

/** Bytes from hex with free spacing and `#` comments, so expected frames read like the protocol docs. */
export function hex(text: string): Buffer {
  return Buffer.from(text.replace(/#.*$/gm, '').replace(/\s+/g, ''), 'hex');
}

export interface ScriptedRequest {
  readonly apiKey: number;
  readonly apiVersion: number;
  readonly correlationId: number;
  /** Positioned at the request body (after the header's client id). */
  readonly body: ResponseReader;
}

/**
 * Listens on a free loopback port and calls `onRequest` for every request frame, in order,
 * with the socket to answer on. The server is added to `servers` so the test closes it.
 */
export async function scriptedBroker(
  servers: Server[],
  onRequest: (request: ScriptedRequest, socket: Socket) => void,
  onConnection: (socket: Socket) => void = () => undefined,
): Promise<number> {
  const server = createServer((socket) => {
    onConnection(socket);
    socket.on('error', () => undefined);
    let buffered = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 4 && buffered.length >= 4 + buffered.readInt32BE(0)) {
        const body = new ResponseReader(buffered.subarray(4, 4 + buffered.readInt32BE(0)));
        buffered = buffered.subarray(4 + buffered.readInt32BE(0));
        const apiKey = body.int16();
        const apiVersion = body.int16();
        const correlationId = body.int32();
        body.nullableString(); // client id
        onRequest({ apiKey, apiVersion, correlationId, body }, socket);
      }
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return (server.address() as { port: number }).port;
}

/** Closes every server a test opened. */
export async function closeServers(servers: Server[]): Promise<void> {
  await Promise.all(
    servers.splice(0).map((s) => new Promise<void>((resolve) => s.close(() => resolve()))),
  );
}
