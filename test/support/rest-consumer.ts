import { uniqueName } from './kafka.js';

export interface ConsumedRecord {
  topic: string;
  key: unknown;
  value: unknown;
  partition: number;
  offset: number;
  headers: { name: string; value: string }[];
  attempt: number;
}

const V2 = 'application/vnd.kafka.v2+json';

/** One request to the REST API with a Confluent v2 body (a string is sent as is); the JSON answer parsed. */
export async function restCall(
  method: string,
  url: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': V2 }), ...headers },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    signal: AbortSignal.timeout(60_000),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as unknown) : undefined };
}

async function ok(
  method: string,
  url: string,
  body?: unknown,
  headers?: Record<string, string>,
): Promise<unknown> {
  const res = await restCall(method, url, body, headers);
  if (res.status >= 300)
    throw new Error(`${method} ${url} → ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** A consumer session driven over the Confluent v2 REST API, through any gateway instance. */
export class RestConsumer {
  readonly group: string;
  readonly id: string;

  private constructor(group: string, id: string) {
    this.group = group;
    this.id = id;
  }

  static async create(
    baseUrl: string,
    group: string,
    settings: Record<string, unknown> = {},
  ): Promise<RestConsumer> {
    const created = (await ok('POST', `${baseUrl}/consumers/${group}`, {
      name: uniqueName('c'),
      format: 'json',
      'auto.offset.reset': 'earliest',
      ...settings,
    })) as { instance_id: string };
    return new RestConsumer(group, created.instance_id);
  }

  path(baseUrl: string, rest = ''): string {
    return `${baseUrl}/consumers/${this.group}/instances/${this.id}${rest}`;
  }

  async subscribe(baseUrl: string, topics: string[]): Promise<void> {
    await ok('POST', this.path(baseUrl, '/subscription'), { topics });
  }

  async poll(
    baseUrl: string,
    query: { timeout?: number; max_records?: number } = {},
  ): Promise<ConsumedRecord[]> {
    const qs = new URLSearchParams(
      Object.entries(query).map(([k, v]): [string, string] => [k, String(v)]),
    ).toString();
    return (await ok('GET', this.path(baseUrl, `/records${qs ? `?${qs}` : ''}`), undefined, {
      accept: 'application/vnd.kafka.json.v2+json',
    })) as ConsumedRecord[];
  }

  async ack(
    baseUrl: string,
    records: ConsumedRecord[],
  ): Promise<{ acked: number; fenced: number }> {
    return (await ok('POST', this.path(baseUrl, '/acks'), {
      records: records.map((r) => ({
        topic: r.topic,
        partition: r.partition,
        offset: r.offset,
        attempt: r.attempt,
      })),
    })) as { acked: number; fenced: number };
  }

  async nack(
    baseUrl: string,
    records: ConsumedRecord[],
    extra: { delay_ms?: number; error?: string } = {},
  ): Promise<{ nacked: number }> {
    return (await ok('POST', this.path(baseUrl, '/nacks'), {
      records: records.map((r) => ({ topic: r.topic, partition: r.partition, offset: r.offset })),
      ...extra,
    })) as { nacked: number };
  }

  async commit(
    baseUrl: string,
    offsets?: { topic: string; partition: number; offset: number }[],
  ): Promise<void> {
    await ok('POST', this.path(baseUrl, '/offsets'), offsets ? { offsets } : undefined);
  }

  async committed(baseUrl: string, topic: string, partitions: number[]): Promise<number[]> {
    const body = (await ok(
      'GET',
      this.path(baseUrl, `/offsets?partitions=${partitions.map((p) => `${topic}:${p}`).join(',')}`),
    )) as {
      offsets: { partition: number; offset: number }[];
    };
    return partitions.map((p) => body.offsets.find((o) => o.partition === p)?.offset ?? NaN);
  }

  async delete(baseUrl: string): Promise<void> {
    await ok('DELETE', this.path(baseUrl));
  }

  raw(
    method: string,
    baseUrl: string,
    rest: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<{ status: number; body: unknown }> {
    return restCall(method, this.path(baseUrl, rest), body, headers);
  }
}

/** Produces `count` JSON records {i} through a gateway, spread over partitions, in batches. */
export async function produceNumbers(
  baseUrl: string,
  topic: string,
  count: number,
  start = 0,
): Promise<void> {
  for (let from = start; from < start + count; from += 500) {
    const n = Math.min(500, start + count - from);
    const res = await fetch(`${baseUrl}/topics/${topic}`, {
      method: 'POST',
      headers: { 'content-type': 'application/vnd.kafka.json.v2+json' },
      body: JSON.stringify({
        records: Array.from({ length: n }, (_, i) => ({ value: { i: from + i } })),
      }),
      signal: AbortSignal.timeout(30_000),
    });
    if (res.status !== 200) throw new Error(`produce failed: ${res.status} ${await res.text()}`);
  }
}
