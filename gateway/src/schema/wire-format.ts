import type { Type as AvroType } from 'avsc';
import type { Type as ProtoType } from 'protobufjs';
import { GatewayError } from '../errors.js';
import type { RegisteredSchema, SchemaFormat, SchemaRegistryClient } from './registry-client.js';

/**
 * Confluent's wire format: magic byte 0, the schema id as a 4-byte big-endian
 * integer, then (protobuf only) the message indexes, then the serialized
 * record. Keys and values arrive and leave as JSON: Avro's JSON encoding
 * (unions wrapped as {"type": value}, bytes as strings), JSON Schema's JSON,
 * and protobuf's canonical JSON mapping.
 */

const MAGIC = 0;
const HEADER = 5;

/** The @kafkajs/confluent-schema-registry instances, seen through what is used of them. */
interface ProtoSchemaInstance {
  readonly message: ProtoType;
}

/** Serializes one JSON key or value with `schema`; KGW_SCHEMA_RECORD_MISMATCH when it does not fit. */
export function encodeWithSchema(schema: RegisteredSchema, value: unknown, field: string): Buffer {
  let payload: Buffer;
  try {
    payload = serialize(schema, value);
  } catch (err) {
    throw new GatewayError(
      'KGW_SCHEMA_RECORD_MISMATCH',
      `${field} does not match ${schema.format} schema ${schema.id}: ${reason(err)}`,
    );
  }
  const header = Buffer.alloc(HEADER);
  header.writeUInt8(MAGIC, 0);
  header.writeInt32BE(schema.id, 1);
  // Message indexes [0] (the schema's first message) are written as the single byte 0.
  return schema.format === 'protobuf'
    ? Buffer.concat([header, Buffer.of(0), payload])
    : Buffer.concat([header, payload]);
}

function serialize(schema: RegisteredSchema, value: unknown): Buffer {
  switch (schema.format) {
    case 'avro': {
      const type = schema.parsed as unknown as AvroType;
      // fromString reads Avro's JSON encoding (and throws on a mismatch).
      return type.toBuffer(type.fromString(JSON.stringify(value)));
    }
    case 'jsonschema':
    case 'protobuf':
      // Both validate first and throw ConfluentSchemaRegistryValidationError.
      return schema.parsed.toBuffer(value as object);
  }
}

/**
 * Reads one key or value in the wire format as JSON. Bytes that are not in the
 * wire format, name an unknown schema or one of another format, or do not
 * parse: KGW_DESERIALIZATION_FAILED, as a json consumer's non-JSON record.
 * A registry that does not answer: KGW_SCHEMA_REGISTRY_UNAVAILABLE.
 */
export async function decodeWithSchema(
  registry: SchemaRegistryClient,
  bytes: Buffer,
  format: SchemaFormat,
  where: string,
): Promise<unknown> {
  const fail = (why: string): GatewayError =>
    new GatewayError(
      'KGW_DESERIALIZATION_FAILED',
      `the record at ${where} ${why}; seek past it (POST …/positions) or read it with a binary consumer`,
    );
  if (bytes.length < HEADER || bytes[0] !== MAGIC)
    throw fail(`is not in the ${format} wire format (magic byte 0 and a schema id)`);
  const id = bytes.readInt32BE(1);
  let schema: RegisteredSchema;
  try {
    schema = await registry.byId(id);
  } catch (err) {
    if (err instanceof GatewayError && err.code === 'KGW_SCHEMA_NOT_FOUND')
      throw fail(`names schema ${id}, which the registry does not have`);
    throw err;
  }
  if (schema.format !== format)
    throw fail(`is written with ${schema.format} schema ${id}, not ${format}`);
  try {
    return deserialize(schema, bytes.subarray(HEADER));
  } catch (err) {
    throw fail(`does not parse with ${format} schema ${id}: ${reason(err)}`);
  }
}

function deserialize(schema: RegisteredSchema, payload: Buffer): unknown {
  switch (schema.format) {
    case 'avro': {
      const type = schema.parsed as unknown as AvroType;
      return JSON.parse(type.toString(type.fromBuffer(payload))) as unknown;
    }
    case 'jsonschema':
      return schema.parsed.fromBuffer(payload);
    case 'protobuf': {
      const { indexes, rest } = messageIndexes(payload);
      const type = messageType((schema.parsed as unknown as ProtoSchemaInstance).message, indexes);
      return type.toObject(type.decode(rest), {
        longs: String,
        enums: String,
        bytes: String,
        defaults: false,
      });
    }
  }
}

/** Confluent's protobuf message indexes: a zigzag varint count, then that many zigzag varints; count 0 means [0]. */
export function messageIndexes(payload: Buffer): { indexes: number[]; rest: Buffer } {
  let at = 0;
  const varint = (): number => {
    let result = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      if (at >= payload.length) throw new Error('message indexes run past the end');
      const byte = payload[at++]!;
      result |= (byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return (result >>> 1) ^ -(result & 1);
    }
    throw new Error('a message index is too long');
  };
  const count = varint();
  if (count < 0 || count > 100) throw new Error(`bad message index count ${count}`);
  const indexes = count === 0 ? [0] : Array.from({ length: count }, varint);
  return { indexes, rest: payload.subarray(at) };
}

/** The message the indexes name: top-level messages of the file in order, then nested ones. */
function messageType(first: ProtoType, indexes: readonly number[]): ProtoType {
  const parent = first.parent;
  const typesIn = (ns: { nestedArray: readonly unknown[] }): ProtoType[] =>
    ns.nestedArray.filter((n): n is ProtoType => (n as ProtoType).fields !== undefined);
  let candidates = parent ? typesIn(parent) : [first];
  let type: ProtoType | undefined;
  for (const index of indexes) {
    type = candidates[index];
    if (!type) throw new Error(`no message at index ${indexes.join('.')}`);
    candidates = typesIn(type);
  }
  return type ?? first;
}

function reason(err: unknown): string {
  const paths = (err as { paths?: unknown }).paths;
  const message = err instanceof Error ? err.message : String(err);
  if (Array.isArray(paths) && paths.length > 0) return `${message} at ${JSON.stringify(paths)}`;
  return message;
}
