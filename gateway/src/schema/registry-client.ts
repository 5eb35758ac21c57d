import type { Schema } from '@kafkajs/confluent-schema-registry/dist/@types.js';
import { SchemaType } from '@kafkajs/confluent-schema-registry';
import { schemaFromConfluentSchema } from '@kafkajs/confluent-schema-registry/dist/schemaTypeResolver.js';
import { request } from 'undici';
import { GatewayError } from '../errors.js';
import { LruCache } from '../util/lru-cache.js';

/** The embedded formats that go through a schema registry. */
export const SCHEMA_FORMATS = ['avro', 'jsonschema', 'protobuf'] as const;
export type SchemaFormat = (typeof SCHEMA_FORMATS)[number];

const REGISTRY_TYPE: Record<SchemaFormat, SchemaType.AVRO | SchemaType.JSON | SchemaType.PROTOBUF> =
  {
    avro: SchemaType.AVRO,
    jsonschema: SchemaType.JSON,
    protobuf: SchemaType.PROTOBUF,
  };

/** A schema from the registry, parsed once and kept by id. */
export interface RegisteredSchema {
  readonly id: number;
  readonly format: SchemaFormat;
  readonly text: string;
  /** The parsed form (@kafkajs/confluent-schema-registry: avsc, Ajv or protobufjs underneath). */
  readonly parsed: Schema;
}

export interface SchemaRegistryOptions {
  /** Base of the Confluent-compatible API, e.g. http://host:8080/apis/ccompat/v7. */
  readonly url: string;
  readonly timeoutMs: number;
  readonly cacheSize: number;
}

const REGISTRY_MEDIA_TYPE = 'application/vnd.schemaregistry.v1+json';

/**
 * The few schema registry calls the gateway makes (register under a subject,
 * fetch by id) over the Confluent-compatible REST API, each with a deadline,
 * and a bounded cache of parsed schemas by id. Parsing and the record codecs
 * come from @kafkajs/confluent-schema-registry; its own HTTP client has no
 * per-call deadline and reports a refused connection like a 400, so the calls
 * are made here, where registry failures become KGW_* codes.
 */
export class SchemaRegistryClient {
  readonly #options: SchemaRegistryOptions;
  readonly #byId: LruCache<number, RegisteredSchema>;
  /** `${subject}\0${format}\0${text}` → id: a schema given as text is registered once per subject. */
  readonly #registered: LruCache<string, number>;
  readonly #fetching = new Map<number, Promise<RegisteredSchema>>();

  constructor(options: SchemaRegistryOptions) {
    this.#options = options;
    this.#byId = new LruCache(options.cacheSize);
    this.#registered = new LruCache(options.cacheSize);
  }

  /** Registers `text` under `subject` (or finds it registered) and returns its id. */
  async register(subject: string, format: SchemaFormat, text: string): Promise<RegisteredSchema> {
    const key = `${subject}\0${format}\0${text}`;
    const known = this.#registered.get(key);
    if (known !== undefined) {
      const cached = this.#byId.get(known);
      if (cached) return cached;
    }
    // Parsed first: a schema that does not parse never reaches the registry.
    const parsed = parseSchema(format, text, 'KGW_SCHEMA_INVALID');
    const body: Record<string, unknown> = { schema: text };
    if (format !== 'avro') body['schemaType'] = REGISTRY_TYPE[format];
    const { status, json } = await this.#call(
      'POST',
      `/subjects/${encodeURIComponent(subject)}/versions`,
      body,
    );
    if (status === 409)
      throw new GatewayError(
        'KGW_SCHEMA_INVALID',
        `the schema is incompatible with the earlier versions of subject ${subject}: ${registryMessage(json)}`,
      );
    if (status === 422 || status === 400)
      throw new GatewayError(
        'KGW_SCHEMA_INVALID',
        `the registry refused the schema for subject ${subject}: ${registryMessage(json)}`,
      );
    const id = (json as { id?: unknown } | undefined)?.id;
    if (status !== 200 || typeof id !== 'number') throw unavailable(status, json);
    const schema: RegisteredSchema = { id, format, text, parsed };
    this.#registered.set(key, id);
    this.#byId.set(id, schema);
    return schema;
  }

  /** The schema with this id, from the cache or the registry; KGW_SCHEMA_NOT_FOUND when it has none. */
  async byId(id: number): Promise<RegisteredSchema> {
    const cached = this.#byId.get(id);
    if (cached) return cached;
    // Concurrent misses for one id share one registry call.
    let pending = this.#fetching.get(id);
    if (!pending) {
      pending = this.#fetch(id).finally(() => this.#fetching.delete(id));
      this.#fetching.set(id, pending);
    }
    return pending;
  }

  async #fetch(id: number): Promise<RegisteredSchema> {
    const { status, json } = await this.#call('GET', `/schemas/ids/${id}`);
    if (status === 404)
      throw new GatewayError('KGW_SCHEMA_NOT_FOUND', `the schema registry has no schema ${id}`);
    const found = json as { schema?: unknown; schemaType?: unknown; references?: unknown };
    if (status !== 200 || typeof found?.schema !== 'string') throw unavailable(status, json);
    if (Array.isArray(found.references) && found.references.length > 0)
      throw new GatewayError(
        'KGW_SCHEMA_NOT_FOUND',
        `schema ${id} has references, which the gateway does not resolve`,
      );
    const type = typeof found.schemaType === 'string' ? found.schemaType : 'AVRO';
    const format = SCHEMA_FORMATS.find((f) => REGISTRY_TYPE[f] === type);
    if (!format)
      throw new GatewayError('KGW_SCHEMA_NOT_FOUND', `schema ${id} has an unknown type ${type}`);
    const schema: RegisteredSchema = {
      id,
      format,
      text: found.schema,
      parsed: parseSchema(format, found.schema, 'KGW_SCHEMA_NOT_FOUND'),
    };
    this.#byId.set(id, schema);
    return schema;
  }

  async #call(
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
  ): Promise<{ status: number; json: unknown }> {
    try {
      const response = await request(`${this.#options.url}${path}`, {
        method,
        headers: {
          accept: REGISTRY_MEDIA_TYPE,
          ...(body === undefined ? {} : { 'content-type': REGISTRY_MEDIA_TYPE }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.#options.timeoutMs),
      });
      const text = await response.body.text();
      let json: unknown;
      try {
        json = text ? (JSON.parse(text) as unknown) : undefined;
      } catch {
        json = undefined;
      }
      return { status: response.statusCode, json };
    } catch (err) {
      // Refused, reset or past the deadline: all the same to the caller.
      throw new GatewayError(
        'KGW_SCHEMA_REGISTRY_UNAVAILABLE',
        `the schema registry (KGW_SCHEMA_REGISTRY_URL) did not answer ${method} ${path} within ${this.#options.timeoutMs} ms`,
        { cause: err },
      );
    }
  }
}

function parseSchema(
  format: SchemaFormat,
  text: string,
  code: 'KGW_SCHEMA_INVALID' | 'KGW_SCHEMA_NOT_FOUND',
): Schema {
  try {
    if (format === 'avro') JSON.parse(text);
    return schemaFromConfluentSchema({ type: REGISTRY_TYPE[format], schema: text });
  } catch (err) {
    throw new GatewayError(
      code,
      `the ${format} schema does not parse: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
}

function registryMessage(json: unknown): string {
  const message = (json as { message?: unknown } | undefined)?.message;
  return typeof message === 'string' ? message : 'no reason given';
}

function unavailable(status: number, json: unknown): GatewayError {
  return new GatewayError(
    'KGW_SCHEMA_REGISTRY_UNAVAILABLE',
    `the schema registry (KGW_SCHEMA_REGISTRY_URL) answered ${status}: ${registryMessage(json)}`,
  );
}
