// avro, jsonschema and protobuf against a real Apicurio Registry (the test stack's, started
// with --registry): produce with a schema's text and with its id, read back through a consumer
// of the same format and with a plain Kafka consumer that checks Confluent's wire format, and the
// errors: a record that does not match, an unknown id, no schema, a record not in the format.
import { createServer } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  closeAllClients,
  connectProducer,
  createTopic,
  readTopic,
  uniqueName,
} from '../../support/kafka.js';
import {
  closeAllGateways,
  post,
  startGateway,
  type RunningGateway,
} from '../../support/gateway-in-process.js';
import { RestConsumer, type ConsumedRecord } from '../../support/rest-consumer.js';
import { eventually } from '../../support/eventually.js';

interface SchemaOffsets {
  key_schema_id: number | null;
  value_schema_id: number | null;
  offsets: { partition: number; offset: number; error_code: number | null }[];
}

const FORMATS = {
  avro: {
    schema: JSON.stringify({
      type: 'record',
      name: 'User',
      namespace: 'kgw.test',
      fields: [
        { name: 'name', type: 'string' },
        { name: 'age', type: 'int' },
        { name: 'nick', type: ['null', 'string'], default: null },
      ],
    }),
    keySchema: JSON.stringify('string'),
    key: 'k1',
    // Avro's JSON encoding: a union's branch is named.
    value: { name: 'ada', age: 36, nick: { string: 'countess' } },
    read: { name: 'ada', age: 36, nick: { string: 'countess' } },
    mismatch: { name: 'ada', age: 'thirty-six', nick: null },
  },
  jsonschema: {
    schema: JSON.stringify({
      type: 'object',
      properties: { name: { type: 'string' }, age: { type: 'integer' } },
      required: ['name', 'age'],
      additionalProperties: false,
    }),
    // Apicurio takes a JSON schema only when it looks like one: $schema (or properties) present.
    keySchema: JSON.stringify({
      $schema: 'http://json-schema.org/draft-07/schema#',
      type: 'string',
    }),
    key: 'k1',
    value: { name: 'ada', age: 36 },
    read: { name: 'ada', age: 36 },
    mismatch: { name: 'ada' },
  },
  protobuf: {
    schema:
      'syntax = "proto3";\npackage kgw.test;\nmessage User {\n  string name = 1;\n  int32 age = 2;\n}\n',
    keySchema: 'syntax = "proto3";\npackage kgw.test;\nmessage Key {\n  string id = 1;\n}\n',
    key: { id: 'k1' },
    value: { name: 'ada', age: 36 },
    read: { name: 'ada', age: 36 },
    mismatch: { name: 36 },
  },
} as const;

type Format = keyof typeof FORMATS;
const type = (format: string): string => `application/vnd.kafka.${format}.v2+json`;

async function poll(gw: RunningGateway, c: RestConsumer, format: string) {
  return c.raw('GET', gw.url, '/records?timeout=500', undefined, { accept: type(format) });
}

describe('schema formats with a real schema registry', () => {
  let gw: RunningGateway;
  beforeAll(async () => {
    const url = inject('schemaRegistryUrl');
    if (!url)
      throw new Error(
        'no schema registry: run the tests with the stack global setup starts, or set SCHEMA_REGISTRY_URL (deploy/local/stack up --registry)',
      );
    gw = await startGateway({
      KGW_SCHEMA_REGISTRY_URL: url,
      KGW_SCHEMA_REGISTRY_TIMEOUT_MS: '5000',
    });
  });
  afterEach(closeAllClients);
  afterAll(closeAllGateways);

  it.each(Object.keys(FORMATS) as Format[])(
    '%s: produce with schema text, then with its id; read back in the wire format and as JSON',
    async (format) => {
      const f = FORMATS[format];
      const topic = await createTopic();
      const first = await post<SchemaOffsets>(
        `${gw.url}/topics/${topic}`,
        {
          key_schema: f.keySchema,
          value_schema: f.schema,
          records: [{ key: f.key, value: f.value }],
        },
        { contentType: type(format) },
      );
      expect(first.status, JSON.stringify(first.body)).toBe(200);
      const { key_schema_id: keyId, value_schema_id: valueId } = first.body;
      expect(valueId).toEqual(expect.any(Number));
      expect(keyId).toEqual(expect.any(Number));
      expect(first.body.offsets[0]).toMatchObject({ offset: 0, error_code: null });

      const second = await post<SchemaOffsets>(
        `${gw.url}/topics/${topic}`,
        {
          key_schema_id: keyId,
          value_schema_id: valueId,
          records: [{ key: f.key, value: f.value }],
        },
        { contentType: type(format) },
      );
      expect(second.status, JSON.stringify(second.body)).toBe(200);
      expect(second.body).toMatchObject({ key_schema_id: keyId, value_schema_id: valueId });

      // A plain Kafka consumer sees Confluent's wire format: magic byte 0, then the schema id.
      const raw = await readTopic(topic, { count: 2 });
      expect(raw).toHaveLength(2);
      for (const r of raw) {
        expect(r.value![0]).toBe(0);
        expect(r.value!.readInt32BE(1)).toBe(valueId);
        expect(r.key![0]).toBe(0);
        expect(r.key!.readInt32BE(1)).toBe(keyId);
        // Protobuf: message indexes [0], written as one 0 byte.
        if (format === 'protobuf') expect(r.value![5]).toBe(0);
      }

      const consumer = await RestConsumer.create(gw.url, uniqueName('g'), { format });
      await consumer.subscribe(gw.url, [topic]);
      const records = await eventually(async () => {
        const res = await poll(gw, consumer, format);
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        const got = res.body as ConsumedRecord[];
        expect(got).toHaveLength(2);
        return got;
      });
      expect(records.map((r) => r.value)).toEqual([f.read, f.read]);
      expect(records.map((r) => r.key)).toEqual([f.key, f.key]);
    },
  );

  it.each(Object.keys(FORMATS) as Format[])(
    '%s: a value that does not match its schema → 422 KGW_SCHEMA_RECORD_MISMATCH, nothing written',
    async (format) => {
      const f = FORMATS[format];
      const topic = await createTopic();
      const res = await post(
        `${gw.url}/topics/${topic}`,
        { value_schema: f.schema, records: [{ value: f.value }, { value: f.mismatch }] },
        { contentType: type(format) },
      );
      expect(res.status).toBe(422);
      expect(res.body).toMatchObject({ code: 'KGW_SCHEMA_RECORD_MISMATCH', error_code: 42203 });
      expect((res.body as { message: string }).message).toContain('records[1].value');
      expect(await readTopic(topic, { count: 1, timeoutMs: 1000 })).toHaveLength(0);
    },
  );

  it('an unknown schema id → 422 KGW_SCHEMA_NOT_FOUND; no schema at all → 422 KGW_SCHEMA_MISSING', async () => {
    const topic = await createTopic();
    const unknown = await post(
      `${gw.url}/topics/${topic}`,
      { value_schema_id: 987654, records: [{ value: { name: 'ada' } }] },
      { contentType: type('avro') },
    );
    expect(unknown.status).toBe(422);
    expect(unknown.body).toMatchObject({ code: 'KGW_SCHEMA_NOT_FOUND', error_code: 42207 });

    const missing = await post(
      `${gw.url}/topics/${topic}`,
      { records: [{ value: { name: 'ada' } }] },
      { contentType: type('jsonschema') },
    );
    expect(missing.status).toBe(422);
    expect(missing.body).toMatchObject({ code: 'KGW_SCHEMA_MISSING' });

    const invalid = await post(
      `${gw.url}/topics/${topic}`,
      { value_schema: '{"type": "record"', records: [{ value: { name: 'ada' } }] },
      { contentType: type('avro') },
    );
    expect(invalid.status).toBe(422);
    expect(invalid.body).toMatchObject({ code: 'KGW_SCHEMA_INVALID', error_code: 42205 });
  });

  it('an avro consumer reading a record not in the wire format gets 408 KGW_DESERIALIZATION_FAILED, then the record after a seek', async () => {
    const topic = await createTopic();
    const producer = await connectProducer();
    producer.produce(topic, 0, Buffer.from('{"plain":"json"}'));
    await new Promise<void>((resolve, reject) =>
      producer.flush(5000, (err) => (err ? reject(err) : resolve())),
    );
    const ok = await post<SchemaOffsets>(
      `${gw.url}/topics/${topic}`,
      { value_schema: FORMATS.avro.schema, records: [{ value: FORMATS.avro.value }] },
      { contentType: type('avro') },
    );
    expect(ok.status).toBe(200);

    const consumer = await RestConsumer.create(gw.url, uniqueName('g'), { format: 'avro' });
    await consumer.subscribe(gw.url, [topic]);
    await eventually(async () => {
      const res = await poll(gw, consumer, 'avro');
      expect(res.status).toBe(408);
      expect(res.body).toMatchObject({ code: 'KGW_DESERIALIZATION_FAILED', error_code: 40801 });
    });
    const seek = await consumer.raw('POST', gw.url, '/positions', {
      offsets: [{ topic, partition: 0, offset: 1 }],
    });
    expect(seek.status).toBe(204);
    const after = await eventually(async () => {
      const res = await poll(gw, consumer, 'avro');
      expect(res.status).toBe(200);
      expect(res.body).toHaveLength(1);
      return res.body as ConsumedRecord[];
    });
    expect(after[0]).toMatchObject({ offset: 1, value: FORMATS.avro.read });
  });

  it('without KGW_SCHEMA_REGISTRY_URL the formats are refused naming it; a registry that is down → 503', async () => {
    const topic = await createTopic();
    const none = await startGateway();
    const refused = await post(
      `${none.url}/topics/${topic}`,
      { value_schema: FORMATS.avro.schema, records: [{ value: FORMATS.avro.value }] },
      { contentType: type('avro') },
    );
    expect(refused.status).toBe(415);
    expect((refused.body as { message: string }).message).toContain('KGW_SCHEMA_REGISTRY_URL');
    const create = await post(
      `${none.url}/consumers/${uniqueName('g')}`,
      { format: 'protobuf' },
      { contentType: 'application/vnd.kafka.v2+json' },
    );
    expect(create.status).toBe(422);
    expect((create.body as { message: string }).message).toContain('KGW_SCHEMA_REGISTRY_URL');

    // A port nothing listens on: connection refused, well within the deadline.
    const closedPort = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const { port } = server.address() as { port: number };
        server.close(() => resolve(port));
      });
    });
    const down = await startGateway({
      KGW_SCHEMA_REGISTRY_URL: `http://127.0.0.1:${closedPort}/apis/ccompat/v7`,
      KGW_SCHEMA_REGISTRY_TIMEOUT_MS: '1000',
    });
    const unavailable = await post(
      `${down.url}/topics/${topic}`,
      { value_schema: FORMATS.avro.schema, records: [{ value: FORMATS.avro.value }] },
      { contentType: type('avro') },
    );
    expect(unavailable.status).toBe(503);
    expect(unavailable.body).toMatchObject({ code: 'KGW_SCHEMA_REGISTRY_UNAVAILABLE' });
  });
});
