import type { MessageHeader } from 'node-rdkafka';
import type { BalancerStrategy, TopicView } from '../balancer/index.js';
import { keyPartition, type InFlightTracker } from '../balancer/index.js';
import { GatewayError, isGatewayError, type ErrorCode } from '../errors.js';
import type { TopicInfo } from '../kafka/metadata-client.js';
import type { KafkaProducer, OutgoingRecord } from '../kafka/producer.js';
import type { TopicMetadataCache } from '../kafka/topic-metadata-cache.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { TopicLabels } from '../observability/topic-labels.js';
import { randomUUID } from 'node:crypto';
import type { Access } from '../auth/access.js';
import type { Quotas } from '../auth/quotas.js';
import { currentPrincipal } from '../auth/request-context.js';
import type { EndOffsets } from '../kafka/end-offsets.js';
import type { IdempotencyStore, IdempotencyTarget } from '../store/idempotency-store.js';
import { findWritten, type FoundRecord, type SettlementSource } from './idempotency-settlement.js';
import { withDeadline } from '../util/deadline.js';
import { produceFingerprint } from './fingerprint.js';
import type {
  DeliveryMode,
  ProduceCommand,
  ProduceResult,
  RecordInput,
  RecordOutcome,
} from './produce-types.js';

/** Header that carries the caller's Idempotency-Key on every record, so consumers can dedupe. */
export const IDEMPOTENCY_HEADER = 'idempotency-key';
/** Headers carrying the request's trace context on every produced record. */
export const TRACEPARENT_HEADER = 'traceparent';
export const REQUEST_ID_HEADER = 'x-request-id';

/** Printable ASCII, as the IETF Idempotency-Key draft suggests; bounded so it fits a Redis key. */
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/** Failures known to have written nothing; a retry with the same key may run again. */
const NOTHING_WRITTEN: ReadonlySet<ErrorCode> = new Set([
  'KGW_QUEUE_FULL',
  'KGW_RECORD_TOO_LARGE',
  'KGW_PARTITION_NOT_FOUND',
  'KGW_TOPIC_NOT_FOUND',
  'KGW_KAFKA_UNAVAILABLE',
  'KGW_INVALID_REQUEST',
]);

/** Errors after which the cached leaders may be stale. */
const STALE_METADATA: ReadonlySet<ErrorCode> = new Set([
  'KGW_PARTITION_NOT_FOUND',
  'KGW_TOPIC_NOT_FOUND',
  'KGW_KAFKA_UNAVAILABLE',
  'KGW_DELIVERY_UNKNOWN',
]);

export interface ProduceServiceDeps {
  readonly metadata: TopicMetadataCache;
  readonly producers: Readonly<Record<DeliveryMode, KafkaProducer>>;
  readonly strategy: BalancerStrategy;
  readonly inFlight: InFlightTracker;
  readonly idempotency: IdempotencyStore;
  /** When set, writing to a topic needs the produce permission. */
  readonly access?: Access;
  /** When set, produced records and bytes count against the principal's quota. */
  readonly quotas?: Quotas;
  /** Lower bounds of end offsets, recorded with each Idempotency-Key claim. */
  readonly endOffsets: EndOffsets;
  /** Reads the log to settle a key whose earlier attempt may have written. */
  readonly settlement: SettlementSource;
  readonly metrics: Metrics;
  readonly topicLabels: TopicLabels;
  readonly logger: Logger;
  readonly maxRecordBytes: number;
  readonly connectTimeoutMs: number;
  /** Safety net over the whole request; every step below it already has a shorter deadline. */
  readonly requestTimeoutMs: number;
  /** Called for every written record (e.g. to wake local long-polls of that partition). */
  readonly onWritten?: (topic: string, partition: number, offset: number) => void;
}

/** Metric children bound to their labels once, so the per-record cost is a plain increment. */
interface OkMetrics {
  readonly records: { inc(): void };
  readonly bytes: { inc(n: number): void };
  readonly broker: { inc(): void };
  readonly delivery: { observe(seconds: number): void };
}

/** The produce use-case, shared by every transport. */
export class ProduceService {
  readonly #deps: ProduceServiceDeps;
  readonly #okMetricsCache = new Map<string, OkMetrics>();

  #okMetrics(topic: string, delivery: DeliveryMode, broker: number): OkMetrics {
    const key = `${topic}\u0000${delivery}\u0000${broker}`;
    let m = this.#okMetricsCache.get(key);
    if (!m) {
      const { metrics } = this.#deps;
      m = {
        records: metrics.produceRecords.labels({ topic, delivery, outcome: 'ok' }),
        bytes: metrics.produceBytes.labels({ topic, delivery }),
        broker: metrics.produceBrokerRecords.labels({ broker: String(broker) }),
        delivery: metrics.produceDeliverySeconds.labels({ delivery }),
      };
      // Bounded: topic labels are capped, delivery modes and brokers are few.
      this.#okMetricsCache.set(key, m);
    }
    return m;
  }

  constructor(deps: ProduceServiceDeps) {
    this.#deps = deps;
  }

  /**
   * Writes the records and resolves once every one has its delivery report (or
   * a per-record error). Throws GatewayError for request-level failures:
   * unknown topic or partition, Idempotency-Key conflicts, a full queue,
   * Kafka unreachable.
   */
  produce(command: ProduceCommand): Promise<ProduceResult> {
    return withDeadline(this.#produce(command), this.#deps.requestTimeoutMs, () => {
      return new GatewayError(
        'KGW_DELIVERY_UNKNOWN',
        `no outcome within ${this.#deps.requestTimeoutMs} ms; the records may or may not be written`,
      );
    });
  }

  async #produce(command: ProduceCommand): Promise<ProduceResult> {
    const { idempotencyKey } = command;
    if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY.test(idempotencyKey)) {
      throw new GatewayError(
        'KGW_INVALID_REQUEST',
        'Idempotency-Key must be 1 to 255 printable ASCII characters',
      );
    }
    const topic = await this.#topic(command);
    const outgoing = command.records.map((record) => this.#encode(command, topic, record));
    if (idempotencyKey === undefined) {
      const outcomes = await this.#write(command, topic, outgoing, new Map());
      return { topic: command.topic, outcomes, replayed: false };
    }
    return this.#produceOnce(command, topic, idempotencyKey, outgoing);
  }

  /**
   * A keyed request: claim the key with the partitions it will write to and
   * an offset below where its records land; when an earlier attempt may have
   * written, read those partitions for the key and write only what is not
   * there (see docs/ARCHITECTURE.md, "Idempotency keys").
   */
  async #produceOnce(
    command: ProduceCommand,
    topic: TopicInfo,
    key: string,
    outgoing: readonly (OutgoingRecord | GatewayError)[],
  ): Promise<ProduceResult> {
    const { idempotency, metrics } = this.#deps;
    const fingerprint = produceFingerprint(command);
    const token = randomUUID();
    const claim = await idempotency.claim(
      key,
      fingerprint,
      token,
      await this.#targets(command.topic, outgoing),
    );
    let found = new Map<number, FoundRecord>();
    switch (claim.kind) {
      case 'replay':
        metrics.idempotencyRequests.inc({ result: 'replayed' });
        return { ...(JSON.parse(claim.response) as ProduceResult), replayed: true };
      case 'in_flight':
        metrics.idempotencyRequests.inc({ result: 'in_flight' });
        throw new GatewayError(
          'KGW_IDEMPOTENCY_IN_FLIGHT',
          `a request with this Idempotency-Key is still in flight; retry in ${Math.ceil(claim.retryAfterMs / 1000)} s`,
          { details: { retryAfterSeconds: Math.max(1, Math.ceil(claim.retryAfterMs / 1000)) } },
        );
      case 'mismatch':
        metrics.idempotencyRequests.inc({ result: 'mismatch' });
        throw new GatewayError(
          'KGW_IDEMPOTENCY_KEY_REUSED',
          'this Idempotency-Key was already used for a different request',
        );
      case 'settle': {
        metrics.idempotencyRequests.inc({ result: 'settled' });
        found = await findWritten(
          this.#deps.settlement,
          command.topic,
          key,
          IDEMPOTENCY_HEADER,
          claim.targets,
          outgoing.map((o) => (o instanceof GatewayError ? null : o)),
          command.records.map((r) => r.headers?.length ?? 0),
        );
        const more = outgoing.filter(
          (o, i): o is OutgoingRecord => !(o instanceof GatewayError) && !found.has(i),
        );
        if (
          more.length > 0 &&
          !(await idempotency.addTargets(key, token, await this.#targets(command.topic, more)))
        ) {
          throw new GatewayError(
            'KGW_IDEMPOTENCY_IN_FLIGHT',
            'another request with this Idempotency-Key took it over; retry shortly',
            { details: { retryAfterSeconds: 1 } },
          );
        }
        break;
      }
      case 'started':
        metrics.idempotencyRequests.inc({ result: 'started' });
    }

    let outcomes: RecordOutcome[];
    try {
      outcomes = await this.#write(command, topic, outgoing, found);
    } catch (err) {
      // Thrown before anything of this attempt reached librdkafka.
      if (found.size === 0) await idempotency.abandon(key, token).catch(() => undefined);
      else await idempotency.settleable(key, token).catch(() => undefined);
      throw err;
    }
    const wrote = outgoing.some((o, i) => !(o instanceof GatewayError) && !found.has(i));
    // Everything was already in the log: this answer is the first attempt's, rebuilt.
    const result: ProduceResult = { topic: command.topic, outcomes, replayed: !wrote };
    try {
      if (outcomes.some((o) => !o.ok && o.code === 'KGW_DELIVERY_UNKNOWN')) {
        // Every report is in, so nothing more of this attempt can land: the retry settles from the log.
        await idempotency.settleable(key, token);
      } else if (outcomes.every((o) => !o.ok && NOTHING_WRITTEN.has(o.code))) {
        await idempotency.abandon(key, token);
      } else if (!(await idempotency.complete(key, token, JSON.stringify(result)))) {
        this.#deps.logger.warn({ key }, 'the Idempotency-Key was taken over before it completed');
      }
    } catch (err) {
      // The records are in Kafka; the response still goes out. The key stays
      // pending, and a retry settles it from the log.
      this.#deps.logger.warn({ err }, 'could not store the Idempotency-Key result');
    }
    return result;
  }

  /** Each partition the records go to, with an offset at or below where they land. */
  async #targets(
    topic: string,
    outgoing: readonly (OutgoingRecord | GatewayError)[],
  ): Promise<IdempotencyTarget[]> {
    const partitions = new Set<number>();
    for (const o of outgoing) if (!(o instanceof GatewayError)) partitions.add(o.partition);
    return Promise.all(
      [...partitions].map(async (partition) => ({
        partition,
        from: await this.#deps.endOffsets.lowerBound(topic, partition),
      })),
    );
  }

  /**
   * The topic checks of a produce (internal topic, authorization, existence), for
   * work that must not happen without them: registering a schema for the topic.
   */
  async admit(topicName: string): Promise<void> {
    await this.#admitted(topicName);
  }

  async #admitted(name: string): Promise<TopicInfo> {
    if (name.startsWith('__')) {
      throw new GatewayError(
        'KGW_TOPIC_FORBIDDEN',
        `'${name}' is an internal Kafka topic; the gateway does not write to it`,
      );
    }
    this.#deps.access?.require('produce', 'topic', name);
    const topic = await this.#deps.metadata.topic(name);
    if (!topic) throw new GatewayError('KGW_TOPIC_NOT_FOUND', `topic '${name}' not found`);
    return topic;
  }

  async #topic(command: ProduceCommand): Promise<TopicInfo> {
    const topic = await this.#admitted(command.topic);
    if (command.unknownPartition !== 'record') {
      const missing = command.records.find((r) => !hasPartition(topic, r));
      if (missing) throw partitionNotFound(command.topic, topic, missing.partition!);
    }
    return topic;
  }

  /** Writes every record not already `found` in the log; outcomes in request order. */
  async #write(
    command: ProduceCommand,
    topic: TopicInfo,
    outgoing: readonly (OutgoingRecord | GatewayError)[],
    found: ReadonlyMap<number, FoundRecord>,
  ): Promise<RecordOutcome[]> {
    const { producers, metrics, connectTimeoutMs } = this.#deps;
    const producer = producers[command.delivery];
    let messages = 0;
    let bytes = 0;
    outgoing.forEach((o, i) => {
      if (o instanceof GatewayError || found.has(i)) return;
      messages += 1;
      bytes += o.size;
    });
    if (!producer.fitsAtAll(messages, bytes)) {
      metrics.produceRejected.inc({ reason: 'too_large' });
      // A retry could never succeed: not 429 but a request that is too big.
      throw new GatewayError(
        'KGW_PAYLOAD_TOO_LARGE',
        `the request holds ${messages} records of ${bytes} bytes; more than the whole produce queue takes (KGW_PRODUCE_QUEUE_MAX_MESSAGES, KGW_PRODUCE_QUEUE_MAX_BYTES): split it`,
      );
    }
    // Charged for what this attempt writes: a replay, or records already in the log, cost nothing.
    if (messages > 0) {
      await this.#deps.quotas?.produce(currentPrincipal(), messages, bytes);
      await producer.ready(connectTimeoutMs);
    }
    if (!producer.hasRoom(messages, bytes)) {
      metrics.produceRejected.inc({ reason: 'queue_full' });
      throw new GatewayError('KGW_QUEUE_FULL', 'the produce queue is full; retry shortly', {
        details: { retryAfterSeconds: 1, queued: producer.queued },
      });
    }
    return Promise.all(
      outgoing.map((o, i) => {
        const already = found.get(i);
        if (already) return { ok: true as const, ...already };
        return o instanceof GatewayError
          ? failed(o, null)
          : this.#send(command, topic, producer, o);
      }),
    );
  }

  #encode(
    command: ProduceCommand,
    topic: TopicInfo,
    record: RecordInput,
  ): OutgoingRecord | GatewayError {
    const headers: MessageHeader[] = (record.headers ?? []).map((h) => ({ [h.name]: h.value }));
    if (command.idempotencyKey !== undefined)
      headers.push({ [IDEMPOTENCY_HEADER]: Buffer.from(command.idempotencyKey) });
    const { traceparent, requestId } = command.context ?? {};
    if (traceparent !== undefined) headers.push({ [TRACEPARENT_HEADER]: Buffer.from(traceparent) });
    if (requestId !== undefined) headers.push({ [REQUEST_ID_HEADER]: Buffer.from(requestId) });
    if (!hasPartition(topic, record))
      return partitionNotFound(command.topic, topic, record.partition!);
    let size = (record.key?.length ?? 0) + (record.value?.length ?? 0);
    for (const h of record.headers ?? []) size += Buffer.byteLength(h.name) + h.value.length;
    if (size > this.#deps.maxRecordBytes) {
      return new GatewayError(
        'KGW_RECORD_TOO_LARGE',
        `record is ${size} bytes; the limit is ${this.#deps.maxRecordBytes}`,
      );
    }
    return {
      topic: command.topic,
      partition: this.#partition(topic, record),
      key: record.key,
      value: record.value,
      headers,
      timestamp: record.timestamp,
      size,
    };
  }

  #partition(topic: TopicInfo, record: RecordInput): number {
    if (record.partition !== undefined) return record.partition;
    if (record.key !== null) return keyPartition(record.key, topic.partitions.length);
    const { strategy, metrics } = this.#deps;
    const partition = strategy.pick(topic as TopicView);
    const leader = topic.partitions.find((p) => p.id === partition)?.leader ?? -1;
    metrics.balancerPicks.inc({ strategy: strategy.name, broker: String(leader) });
    return partition;
  }

  async #send(
    command: ProduceCommand,
    topic: TopicInfo,
    producer: KafkaProducer,
    record: OutgoingRecord,
  ): Promise<RecordOutcome> {
    const { inFlight, metrics, topicLabels, metadata } = this.#deps;
    const leader = topic.partitions.find((p) => p.id === record.partition)?.leader ?? -1;
    const topicLabel = topicLabels.label(command.topic);
    inFlight.begin(leader);
    const started = performance.now();
    try {
      const delivered = await producer.send(record);
      this.#deps.endOffsets.observe(command.topic, delivered.partition, delivered.offset + 1);
      this.#deps.onWritten?.(command.topic, delivered.partition, delivered.offset);
      const m = this.#okMetrics(topicLabel, command.delivery, leader);
      m.records.inc();
      m.bytes.inc(record.size);
      m.broker.inc();
      m.delivery.observe((performance.now() - started) / 1000);
      return {
        ok: true,
        partition: delivered.partition,
        offset: delivered.offset,
        timestamp: delivered.timestamp,
      };
    } catch (err) {
      const gatewayError = isGatewayError(err)
        ? err
        : new GatewayError('KGW_INTERNAL', 'produce failed', { cause: err });
      metrics.produceRecords.inc({
        topic: topicLabel,
        delivery: command.delivery,
        outcome: gatewayError.code,
      });
      if (STALE_METADATA.has(gatewayError.code)) metadata.invalidate(command.topic);
      return failed(gatewayError, record.partition);
    } finally {
      inFlight.end(leader);
    }
  }
}

function hasPartition(topic: TopicInfo, record: RecordInput): boolean {
  return record.partition === undefined || topic.partitions.some((p) => p.id === record.partition);
}

function partitionNotFound(name: string, topic: TopicInfo, partition: number): GatewayError {
  return new GatewayError(
    'KGW_PARTITION_NOT_FOUND',
    `partition ${partition} not found in topic '${name}' (it has ${topic.partitions.length})`,
  );
}

/** A request-level failure as the outcome of one record (for transports that answer per record). */
export function outcomeOfError(err: unknown): RecordOutcome {
  const gatewayError = isGatewayError(err)
    ? err
    : new GatewayError('KGW_INTERNAL', 'internal error', { cause: err });
  return failed(gatewayError, null);
}

function failed(err: GatewayError, partition: number | null): RecordOutcome {
  return { ok: false, partition, code: err.code, message: err.message };
}
