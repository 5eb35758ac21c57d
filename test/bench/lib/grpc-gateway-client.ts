import {
  Client,
  credentials,
  Metadata,
  status,
  type ClientDuplexStream,
  type ServiceError,
} from '@grpc/grpc-js';
import { loadSync, type MethodDefinition, type ServiceDefinition } from '@grpc/proto-loader';
import { gatewayProtoPath } from '../../../gateway/src/grpc/proto-file.js';
import { PROTO_OPTIONS } from '../../../gateway/src/grpc/server.js';

/** The fully qualified service name, as `--call` and method paths spell it. */
export const GRPC_SERVICE = 'kafka_gateway.v1.KafkaGateway';

/** How long a unary call of the bench may take. */
const UNARY_DEADLINE_MS = 30_000;

type AnyMethod = MethodDefinition<object, object>;

let definition: ServiceDefinition | undefined;

/** The KafkaGateway methods from proto/, loaded once with the gateway's own proto-loader options. */
function service(): ServiceDefinition {
  definition ??= loadSync(gatewayProtoPath(), PROTO_OPTIONS)[GRPC_SERVICE] as ServiceDefinition;
  return definition;
}

function method(name: string): AnyMethod {
  const found = service()[name];
  if (!found) throw new Error(`${GRPC_SERVICE} has no method ${name}`);
  return found as AnyMethod;
}

/** Encodes a ProduceStreamRequest once, so a load generator can write the same bytes again and again. */
export function encodeProduceStreamRequest(request: {
  readonly topic: string;
  readonly record: { readonly value: Buffer };
}): Buffer {
  return method('ProduceStream').requestSerialize(request);
}

const identity = (bytes: Buffer): Buffer => bytes;

/**
 * One HTTP/2 connection to the gateway's gRPC port: a local subchannel pool,
 * so each instance gets a connection of its own (as each v3 stream gets its own socket).
 */
export class GatewayGrpcConnection {
  readonly #client: Client;

  constructor(address: string) {
    this.#client = new Client(address, credentials.createInsecure(), {
      'grpc.use_local_subchannel_pool': 1,
    });
  }

  /**
   * ProduceStream with requests written as pre-encoded bytes and results
   * handed over undecoded (see `recordResultFailed`), so the generator stays cheap.
   */
  produceStream(): ClientDuplexStream<Buffer, Buffer> {
    return this.#client.makeBidiStreamRequest(
      method('ProduceStream').path,
      identity,
      identity,
      new Metadata(),
    );
  }

  /** The Consume stream, with messages as plain objects (proto-loader field names, camelCase). */
  consume(): ClientDuplexStream<object, object> {
    const consume = method('Consume');
    return this.#client.makeBidiStreamRequest(
      consume.path,
      consume.requestSerialize,
      consume.responseDeserialize,
      new Metadata(),
    );
  }

  /** Calls a unary method; rejects with the ServiceError on a non-OK status. */
  unary<T>(name: string, request: object): Promise<T> {
    const m = method(name);
    return new Promise((resolve, reject) =>
      this.#client.makeUnaryRequest(
        m.path,
        m.requestSerialize,
        m.responseDeserialize,
        request,
        new Metadata(),
        { deadline: Date.now() + UNARY_DEADLINE_MS },
        (err: ServiceError | null, value?: object) => (err ? reject(err) : resolve(value as T)),
      ),
    );
  }

  close(): void {
    this.#client.close();
  }
}

/** A short description of a gRPC status, e.g. `UNAVAILABLE: …`. */
export function describeStatus(code: number, details: string): string {
  const name = (status as Record<number, string | undefined>)[code] ?? String(code);
  return `${name}: ${details.slice(0, 120)}`;
}

/**
 * Whether an encoded RecordResult carries its `error` field (number 4): walks
 * the top-level fields instead of decoding the message, so checking a result
 * costs next to nothing. Throws on bytes that are not a well-formed message.
 */
export function recordResultFailed(bytes: Buffer): boolean {
  let at = 0;
  const varint = (): number => {
    let value = 0;
    for (let shift = 0; ; shift += 7) {
      if (at >= bytes.length || shift > 63) throw new Error('truncated varint');
      const byte = bytes[at]!;
      at += 1;
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return value;
    }
  };
  while (at < bytes.length) {
    const tag = varint();
    const field = Math.floor(tag / 8);
    const wireType = tag % 8;
    if (field === 4) return true;
    if (wireType === 0) varint();
    else if (wireType === 2) at += varint();
    else throw new Error(`unexpected wire type ${wireType}`);
  }
  if (at !== bytes.length) throw new Error('truncated field');
  return false;
}

/** The error of an encoded RecordResult, decoded (only for the rare failed record). */
export function recordResultError(bytes: Buffer): string {
  const result = method('ProduceStream').responseDeserialize(bytes) as {
    error?: { code?: string; message?: string } | null;
  };
  return `${result.error?.code ?? '?'}: ${(result.error?.message ?? '').slice(0, 120)}`;
}
