import { request } from 'undici';

/** The bench's Avro value schema: a long and a string, so the encoder walks a record, not one blob. */
export const BENCH_AVRO_SCHEMA = JSON.stringify({
  type: 'record',
  name: 'BenchRecord',
  namespace: 'kgw.bench',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'payload', type: 'string' },
  ],
});

/** Encodes as 4 bytes (zigzag varint). */
const RECORD_ID = 123_456_789;

/**
 * Registers `schema` under `subject` through the registry's Confluent-compatible
 * API (`POST /subjects/{subject}/versions`) and resolves with its id.
 */
export async function registerSchema(
  registryUrl: string,
  subject: string,
  schema: string,
): Promise<number> {
  const res = await request(
    `${registryUrl.replace(/\/$/, '')}/subjects/${encodeURIComponent(subject)}/versions`,
    {
      method: 'POST',
      headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
      body: JSON.stringify({ schema }),
    },
  );
  const text = await res.body.text();
  const id = res.statusCode === 200 ? (JSON.parse(text) as { id?: unknown }).id : undefined;
  if (typeof id !== 'number') {
    throw new Error(`registering ${subject}: HTTP ${res.statusCode} ${text.slice(0, 200)}`);
  }
  return id;
}

/**
 * `{"value_schema_id":…,"records":[{"value":{"id":…,"payload":"…"}},…]}` with
 * `count` copies of one record whose Avro encoding is `valueBytes` bytes (4 for
 * the id, 2 for the string's length, the rest ASCII taken from `value`'s base64).
 */
export function avroV2Body(
  schemaId: number,
  value: Buffer,
  valueBytes: number,
  count: number,
): Buffer {
  const payload = value.toString('base64').slice(0, valueBytes - 6);
  const record = JSON.stringify({ value: { id: RECORD_ID, payload } });
  return Buffer.from(
    `{"value_schema_id":${schemaId},"records":[${new Array<string>(count).fill(record).join(',')}]}`,
  );
}
