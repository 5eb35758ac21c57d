import type { Dispatcher } from 'undici';

const V2 = 'application/vnd.kafka.v2+json';
const V2_BINARY = 'application/vnd.kafka.binary.v2+json';

/** A record as `GET …/records` returns it in the binary embedded format. */
export interface ConsumedRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  /** Kafka's record timestamp, ms since the epoch. */
  readonly timestamp: number;
  /** Base64. */
  readonly value: string | null;
  readonly attempt: number;
}

/** Settings a bench session is created with. */
export interface SessionSettings {
  readonly mode: 'ordered' | 'shared';
  readonly autoOffsetReset: 'earliest' | 'latest';
  /** When an ack answers; absent: the gateway's default (kafka). */
  readonly ackDurability?: 'kafka' | 'redis';
}

/** A gateway answer other than 2xx. */
export class GatewayHttpError extends Error {
  readonly status: number;

  constructor(what: string, status: number, body: string) {
    super(`${what} answered ${status}: ${body.slice(0, 200)}`);
    this.status = status;
  }
}

async function call(
  dispatcher: Dispatcher,
  origin: string,
  what: string,
  request: { method: Dispatcher.HttpMethod; path: string; body?: unknown; accept?: string },
): Promise<string> {
  const { statusCode, body } = await dispatcher.request({
    origin,
    method: request.method,
    path: request.path,
    headers: {
      ...(request.body === undefined ? {} : { 'content-type': V2 }),
      ...(request.accept ? { accept: request.accept } : {}),
    },
    ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }),
  });
  const text = await body.text();
  if (statusCode >= 300) throw new GatewayHttpError(what, statusCode, text);
  return text;
}

/**
 * One consumer session of the gateway's v2 REST API (binary format), driven
 * over a caller-owned undici dispatcher so many sessions share its connections.
 */
export class GatewaySession {
  readonly group: string;
  readonly id: string;
  readonly #dispatcher: Dispatcher;
  readonly #origin: string;
  readonly #path: string;

  private constructor(dispatcher: Dispatcher, origin: string, group: string, id: string) {
    this.#dispatcher = dispatcher;
    this.#origin = origin;
    this.group = group;
    this.id = id;
    this.#path = `/consumers/${encodeURIComponent(group)}/instances/${encodeURIComponent(id)}`;
  }

  /** `POST /consumers/{group}` with the given name. */
  static async create(
    dispatcher: Dispatcher,
    origin: string,
    group: string,
    name: string,
    settings: SessionSettings,
  ): Promise<GatewaySession> {
    const text = await call(dispatcher, origin, 'create consumer', {
      method: 'POST',
      path: `/consumers/${encodeURIComponent(group)}`,
      body: {
        name,
        format: 'binary',
        mode: settings.mode,
        'auto.offset.reset': settings.autoOffsetReset,
        ...(settings.ackDurability ? { 'ack.durability': settings.ackDurability } : {}),
      },
    });
    const { instance_id: id } = JSON.parse(text) as { instance_id: string };
    return new GatewaySession(dispatcher, origin, group, id);
  }

  async subscribe(topics: readonly string[]): Promise<void> {
    await call(this.#dispatcher, this.#origin, 'subscribe', {
      method: 'POST',
      path: `${this.#path}/subscription`,
      body: { topics },
    });
  }

  /**
   * One long-poll: records as soon as some are claimed, or none after
   * `timeoutMs`; `acks` are acknowledged by the same request first.
   */
  async poll(
    timeoutMs: number,
    maxRecords: number | undefined,
    acks: readonly ConsumedRecord[] = [],
  ): Promise<ConsumedRecord[]> {
    const folded = acks
      .map(
        (r) => `&ack=${encodeURIComponent(`${r.topic}:${r.partition}:${r.offset}:${r.attempt}`)}`,
      )
      .join('');
    const text = await call(this.#dispatcher, this.#origin, 'poll', {
      method: 'GET',
      path: `${this.#path}/records?timeout=${timeoutMs}${maxRecords === undefined ? '' : `&max_records=${maxRecords}`}${folded}`,
      accept: V2_BINARY,
    });
    return JSON.parse(text) as ConsumedRecord[];
  }

  /** The acks extension: each record named with its delivery attempt. */
  async ack(records: readonly ConsumedRecord[]): Promise<{ acked: number; fenced: number }> {
    const text = await call(this.#dispatcher, this.#origin, 'ack', {
      method: 'POST',
      path: `${this.#path}/acks`,
      body: {
        records: records.map((r) => ({
          topic: r.topic,
          partition: r.partition,
          offset: r.offset,
          attempt: r.attempt,
        })),
      },
    });
    return JSON.parse(text) as { acked: number; fenced: number };
  }

  /** Confluent commit: the last offset of each partition in `records`. */
  async commitOffsets(records: readonly ConsumedRecord[]): Promise<void> {
    const last = new Map<string, { topic: string; partition: number; offset: number }>();
    for (const r of records) {
      const key = `${r.topic}:${r.partition}`;
      const seen = last.get(key);
      if (!seen || r.offset > seen.offset) {
        last.set(key, { topic: r.topic, partition: r.partition, offset: r.offset });
      }
    }
    await call(this.#dispatcher, this.#origin, 'commit offsets', {
      method: 'POST',
      path: `${this.#path}/offsets`,
      body: { offsets: [...last.values()] },
    });
  }

  /** Kafka's committed offsets of the group for these partitions of one topic. */
  async committed(topic: string, partitions: readonly number[]): Promise<number[]> {
    const query = partitions.map((p) => `${topic}:${p}`).join(',');
    const text = await call(this.#dispatcher, this.#origin, 'committed offsets', {
      method: 'GET',
      path: `${this.#path}/offsets?partitions=${encodeURIComponent(query)}`,
    });
    const { offsets } = JSON.parse(text) as { offsets: { partition: number; offset: number }[] };
    return partitions.map((p) => offsets.find((o) => o.partition === p)?.offset ?? NaN);
  }

  async delete(): Promise<void> {
    await call(this.#dispatcher, this.#origin, 'delete consumer', {
      method: 'DELETE',
      path: this.#path,
    });
  }
}

/** Runs `work` over `items` with at most `limit` at a time; resolves with the results in order. */
export async function mapLimited<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < items.length; i = next++) results[i] = await work(items[i]!, i);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
