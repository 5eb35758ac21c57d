// A client written for Confluent REST Proxy v2 (test/e2e/confluent-client.sh: bash + curl in
// the shape of Confluent's quickstart) run unchanged against a gateway started as its own
// process, with a real Kafka, Redis and schema registry (Apicurio, the test stack's).
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { killAllGateways, spawnGateway, type GatewayProcess } from '../support/gateway-process.js';
import { closeAllClients, createTopic } from '../support/kafka.js';
import { REPO_ROOT } from '../support/stack.js';

const run = promisify(execFile);
const SCRIPT = join(REPO_ROOT, 'test', 'e2e', 'confluent-client.sh');

interface ReadRecord {
  readonly topic: string;
  readonly key: unknown;
  readonly value: unknown;
  readonly partition: number;
  readonly offset: number;
}

/** The script's `HTTP <status> <METHOD> <path>` lines and the records of its `RECORDS <format> <json>` lines. */
function parseOutput(stdout: string): {
  calls: { status: number; method: string; path: string }[];
  records: Record<string, ReadRecord[]>;
} {
  const calls: { status: number; method: string; path: string }[] = [];
  const records: Record<string, ReadRecord[]> = {};
  for (const line of stdout.split('\n')) {
    const http = /^HTTP (\d{3}) (\S+) (\S+)$/.exec(line);
    if (http) calls.push({ status: Number(http[1]), method: http[2]!, path: http[3]! });
    const read = /^RECORDS (\S+) (.*)$/.exec(line);
    if (read) (records[read[1]!] ??= []).push(...(JSON.parse(read[2]!) as ReadRecord[]));
  }
  return { calls, records };
}

const b64 = (text: string): string => Buffer.from(text).toString('base64');

describe('a Confluent REST Proxy v2 client from the documentation, run unchanged (bash + curl)', () => {
  let gw: GatewayProcess;
  beforeAll(async () => {
    const registry = inject('schemaRegistryUrl');
    if (!registry)
      throw new Error(
        'no schema registry: run the tests with the stack global setup starts, or set SCHEMA_REGISTRY_URL (deploy/local/stack up --registry)',
      );
    gw = await spawnGateway({ KGW_SCHEMA_REGISTRY_URL: registry });
  });
  afterEach(closeAllClients);
  afterAll(killAllGateways);

  it('produces and consumes binary, json and avro records; every request answers 2xx', async () => {
    const [binary, json, avro] = await Promise.all(
      ['binarytest', 'jsontest', 'avrotest'].map((prefix) => createTopic({ prefix })),
    );
    const { stdout } = await run('bash', [SCRIPT, gw.url, binary!, json!, avro!], {
      timeout: 60_000,
    });
    const { calls, records } = parseOutput(stdout);

    const failed = calls.filter((c) => c.status < 200 || c.status > 299);
    expect(failed, stdout).toEqual([]);
    // Per format: produce, create, subscribe, ≥ 1 read, commit, delete.
    expect(calls.length, stdout).toBeGreaterThanOrEqual(18);
    for (const [topic, format] of [
      [binary, 'binary'],
      [json, 'json'],
      [avro, 'avro'],
    ] as const) {
      const group = `${topic}_consumer`;
      expect(calls.map((c) => `${c.method} ${c.path}`)).toEqual(
        expect.arrayContaining([
          `POST /topics/${topic}`,
          `POST /consumers/${group}`,
          `POST /consumers/${group}/instances/my_consumer_instance/subscription`,
          `GET /consumers/${group}/instances/my_consumer_instance/records`,
          `POST /consumers/${group}/instances/my_consumer_instance/offsets`,
          `DELETE /consumers/${group}/instances/my_consumer_instance`,
        ]),
      );
      expect(records[format]?.every((r) => r.topic === topic)).toBe(true);
    }

    const read = (format: string): { key: unknown; value: unknown }[] =>
      (records[format] ?? [])
        .slice()
        .sort((a, b) => a.offset - b.offset)
        .map(({ key, value }) => ({ key, value }));
    expect(read('binary')).toEqual([
      { key: b64('key-1'), value: b64('first record') },
      { key: b64('key-2'), value: b64('second record') },
    ]);
    expect(read('json')).toEqual([
      { key: null, value: { city: 'Lisbon', visits: 3 } },
      { key: null, value: ['a', 1, null] },
    ]);
    expect(read('avro')).toEqual([
      { key: null, value: { city: 'Porto', visits: 2 } },
      { key: null, value: { city: 'Faro', visits: 7 } },
    ]);

    // The avro produce registered the schema: its answer names the id.
    const avroProduce = stdout
      .split('\n')
      .findIndex((line) => line === `HTTP 200 POST /topics/${avro}`);
    const answer = JSON.parse(stdout.split('\n')[avroProduce + 1]!.slice('BODY '.length)) as {
      value_schema_id: unknown;
    };
    expect(answer.value_schema_id).toEqual(expect.any(Number));
  });
});
