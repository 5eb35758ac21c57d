import { GatewayError } from '../errors.js';
import type {
  RegisteredSchema,
  SchemaFormat,
  SchemaRegistryClient,
} from '../schema/registry-client.js';
import { encodeWithSchema } from '../schema/wire-format.js';

/** A v2 produce body in a schema format: JSON keys and values, and the schemas (text or id). */
export interface SchemaProduceInput {
  readonly keySchema?: string | undefined;
  readonly keySchemaId?: number | undefined;
  readonly valueSchema?: string | undefined;
  readonly valueSchemaId?: number | undefined;
  readonly records: readonly { readonly key?: unknown; readonly value?: unknown }[];
}

/** The records' keys and values in the wire format, and the ids of the schemas used. */
export interface EncodedRecords {
  readonly keys: readonly (Buffer | null)[];
  readonly values: readonly (Buffer | null)[];
  readonly keySchemaId: number | null;
  readonly valueSchemaId: number | null;
}

/**
 * Serializes produce records with registry schemas, the way Confluent's REST
 * Proxy does: a schema given as text is registered under `<topic>-key` or
 * `<topic>-value` (TopicNameStrategy); a schema id is used as it is. Null keys
 * and values stay null. Shared by every transport that takes schema formats.
 */
export class SchemaRecordEncoder {
  readonly #registry: SchemaRegistryClient | undefined;

  constructor(registry: SchemaRegistryClient | undefined) {
    this.#registry = registry;
  }

  /** The registry client; undefined when KGW_SCHEMA_REGISTRY_URL is not set. */
  get client(): SchemaRegistryClient | undefined {
    return this.#registry;
  }

  /** The registry, or the error that says it is not configured. */
  registry(format: SchemaFormat): SchemaRegistryClient {
    if (!this.#registry)
      throw new GatewayError(
        'KGW_UNSUPPORTED_MEDIA_TYPE',
        `the ${format} format needs a schema registry, and KGW_SCHEMA_REGISTRY_URL is not set`,
      );
    return this.#registry;
  }

  async encode(
    topic: string,
    format: SchemaFormat,
    input: SchemaProduceInput,
  ): Promise<EncodedRecords> {
    const registry = this.registry(format);
    const [keySchema, valueSchema] = await Promise.all([
      this.#schema(registry, topic, format, 'key', input.keySchema, input.keySchemaId, input),
      this.#schema(registry, topic, format, 'value', input.valueSchema, input.valueSchemaId, input),
    ]);
    const encode = (schema: RegisteredSchema | undefined, data: unknown, field: string) =>
      data === null || data === undefined || !schema ? null : encodeWithSchema(schema, data, field);
    return {
      keys: input.records.map((r, i) => encode(keySchema, r.key, `records[${i}].key`)),
      values: input.records.map((r, i) => encode(valueSchema, r.value, `records[${i}].value`)),
      keySchemaId: keySchema?.id ?? null,
      valueSchemaId: valueSchema?.id ?? null,
    };
  }

  async #schema(
    registry: SchemaRegistryClient,
    topic: string,
    format: SchemaFormat,
    side: 'key' | 'value',
    text: string | undefined,
    id: number | undefined,
    input: SchemaProduceInput,
  ): Promise<RegisteredSchema | undefined> {
    if (id !== undefined) {
      const schema = await registry.byId(id);
      if (schema.format !== format)
        throw new GatewayError(
          'KGW_SCHEMA_NOT_FOUND',
          `${side}_schema_id ${id} is a ${schema.format} schema, not ${format}`,
        );
      return schema;
    }
    if (text !== undefined) return registry.register(`${topic}-${side}`, format, text);
    const used = input.records.some((r) => r[side] !== null && r[side] !== undefined);
    if (used)
      throw new GatewayError(
        'KGW_SCHEMA_MISSING',
        `records carry ${side}s but the request has neither ${side}_schema nor ${side}_schema_id`,
      );
    return undefined;
  }
}
