import { Counter, Gauge, Histogram, collectDefaultMetrics, type Registry } from 'prom-client';

/** Latency buckets in seconds: 1 ms to 10 s. */
export const LATENCY_BUCKETS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
] as const;

export interface BuildInfo {
  readonly version: string;
  readonly node: string;
}

/** Typed metric handles, all registered on the injected registry. */
export interface Metrics {
  readonly httpRequests: Counter<'route' | 'method' | 'status_class'>;
  readonly httpRequestDuration: Histogram<'route' | 'method' | 'status_class'>;
  readonly httpRequestsInFlight: Gauge;
  readonly httpBodyTimeouts: Counter;
  readonly dependencyUp: Gauge<'dependency'>;
  readonly buildInfo: Gauge<'version' | 'node'>;
  readonly processes: Gauge;
  readonly produceRecords: Counter<'topic' | 'delivery' | 'outcome'>;
  readonly produceBytes: Counter<'topic' | 'delivery'>;
  readonly produceDeliverySeconds: Histogram<'delivery'>;
  readonly produceRejected: Counter<'reason'>;
  readonly produceQueueMessages: Gauge<'delivery'>;
  readonly produceQueueBytes: Gauge<'delivery'>;
  readonly produceBrokerRecords: Counter<'broker'>;
  readonly balancerPicks: Counter<'strategy' | 'broker'>;
  readonly idempotencyRequests: Counter<'result'>;
  readonly consumeDelivered: Counter<'topic'>;
  readonly consumeRedelivered: Counter<'topic' | 'attempt'>;
  readonly consumeAcked: Counter<'topic'>;
  readonly consumeNacked: Counter<'topic'>;
  readonly consumeDeadLettered: Counter<'topic'>;
  readonly consumeDeadLetterFailures: Counter<'topic'>;
  readonly consumeSkipped: Counter<'topic' | 'reason'>;
  readonly consumeFenced: Counter<'operation'>;
  readonly consumeReturned: Counter;
  readonly consumeOffsetCommits: Counter;
  readonly consumeOffsetCommitPartitions: Counter;
  readonly consumeLongPollsWaiting: Gauge;
  readonly fetchRequests: Counter<'broker'>;
  readonly fetchBytes: Counter<'broker'>;
  readonly produceStreamsOpen: Gauge;
  readonly grpcRequests: Counter<'method' | 'code'>;
  readonly grpcRequestDuration: Histogram<'method'>;
  readonly grpcStreamsOpen: Gauge<'method'>;
  readonly produceQueueLimitMessages: Gauge<'delivery'>;
  readonly produceQueueLimitBytes: Gauge<'delivery'>;
  readonly consumeAckSeconds: Histogram;
  readonly consumeLeaseMoves: Counter;
  readonly consumeSessions: Gauge<'mode'>;
  readonly consumeInFlight: Gauge<'group'>;
  readonly consumeLag: Gauge<'group' | 'topic' | 'partition'>;
  readonly kafkaBrokerRtt: Gauge<'client' | 'broker'>;
  readonly kafkaBrokerOutbuf: Gauge<'client' | 'broker'>;
  readonly kafkaBrokerWaitresp: Gauge<'client' | 'broker'>;
  readonly kafkaBrokerConnected: Gauge<'client' | 'broker'>;
  readonly kafkaBrokerErrors: Counter<'client' | 'broker'>;
  readonly redisCommandSeconds: Histogram<'command'>;
  readonly redisCommandErrors: Counter<'command'>;
}

/** Read at scrape time, so hot paths never touch gauges. */
/** Consumer state read from Redis and Kafka on an interval (see ConsumerStats). */
export interface ConsumerSnapshot {
  readonly sessions: ReadonlyMap<string, number>;
  readonly inFlight: ReadonlyMap<string, number>;
  readonly lag: ReadonlyArray<{ group: string; topic: string; partition: number; lag: number }>;
}

export interface MetricProbes {
  readonly consumers?: () => ConsumerSnapshot | undefined;
  readonly longPollsWaiting?: () => number;
  readonly produceQueues?: () => ReadonlyArray<{
    delivery: string;
    messages: number;
    bytes: number;
  }>;
}

export function createMetrics(
  registry: Registry,
  build: BuildInfo,
  probes: MetricProbes = {},
): Metrics {
  const registers = [registry];
  const metrics: Metrics = {
    httpRequests: new Counter({
      name: 'kgw_http_requests_total',
      help: 'HTTP requests answered, by route template, method and status class.',
      labelNames: ['route', 'method', 'status_class'],
      registers,
    }),
    httpRequestDuration: new Histogram({
      name: 'kgw_http_request_duration_seconds',
      help: 'HTTP request latency from first byte in to last byte out.',
      labelNames: ['route', 'method', 'status_class'],
      buckets: [...LATENCY_BUCKETS],
      registers,
    }),
    httpRequestsInFlight: new Gauge({
      name: 'kgw_http_requests_in_flight',
      help: 'HTTP requests being served right now.',
      registers,
    }),
    httpBodyTimeouts: new Counter({
      name: 'kgw_http_body_timeouts_total',
      help: 'Connections closed because a request body did not arrive within KGW_BODY_TIMEOUT_MS (for a stream: silent that long).',
      registers,
    }),
    dependencyUp: new Gauge({
      name: 'kgw_dependency_up',
      help: '1 when the last readiness check of the dependency passed, else 0.',
      labelNames: ['dependency'],
      aggregator: 'min',
      registers,
    }),
    buildInfo: new Gauge({
      name: 'kgw_build_info',
      help: 'Always 1; labels carry the gateway version and Node.js version.',
      labelNames: ['version', 'node'],
      aggregator: 'first',
      registers,
    }),
    processes: new Gauge({
      name: 'kgw_gateway_processes',
      help: 'Gateway processes this scrape covers: 1 per process, summed across the processes of KGW_PROCESSES.',
      registers,
    }),
    produceRecords: new Counter({
      name: 'kgw_produce_records_total',
      help: 'Records produced, by topic (capped), delivery mode and outcome (ok or a KGW_* code).',
      labelNames: ['topic', 'delivery', 'outcome'],
      registers,
    }),
    produceBytes: new Counter({
      name: 'kgw_produce_bytes_total',
      help: 'Key, value and header bytes of records handed to Kafka.',
      labelNames: ['topic', 'delivery'],
      registers,
    }),
    produceDeliverySeconds: new Histogram({
      name: 'kgw_produce_delivery_seconds',
      help: 'Time from handing a record to librdkafka to its delivery report.',
      labelNames: ['delivery'],
      buckets: [...LATENCY_BUCKETS],
      registers,
    }),
    produceRejected: new Counter({
      name: 'kgw_produce_requests_rejected_total',
      help: 'Produce requests refused before anything was written, by reason (queue_full answers 429, too_large 413: more than the whole queue).',
      labelNames: ['reason'],
      registers,
    }),
    produceQueueMessages: new Gauge({
      name: 'kgw_produce_queue_messages',
      help: 'Records handed to librdkafka and awaiting their delivery report.',
      labelNames: ['delivery'],
      registers,
      collect() {
        for (const q of probes.produceQueues?.() ?? [])
          this.set({ delivery: q.delivery }, q.messages);
      },
    }),
    produceQueueBytes: new Gauge({
      name: 'kgw_produce_queue_bytes',
      help: 'Bytes of records awaiting their delivery report.',
      labelNames: ['delivery'],
      registers,
      collect() {
        for (const q of probes.produceQueues?.() ?? []) this.set({ delivery: q.delivery }, q.bytes);
      },
    }),
    produceBrokerRecords: new Counter({
      name: 'kgw_produce_broker_records_total',
      help: 'Records sent, by the id of the leader broker they were sent to.',
      labelNames: ['broker'],
      registers,
    }),
    balancerPicks: new Counter({
      name: 'kgw_balancer_picks_total',
      help: 'Partitions picked by the balancer for records with neither key nor partition, by strategy and leader broker.',
      labelNames: ['strategy', 'broker'],
      registers,
    }),
    idempotencyRequests: new Counter({
      name: 'kgw_idempotency_requests_total',
      help: 'Requests carrying an Idempotency-Key, by result: started, replayed, settled (an earlier attempt was checked in the log), in_flight (409), mismatch (422).',
      labelNames: ['result'],
      registers,
    }),
    consumeDelivered: new Counter({
      name: 'kgw_consume_records_delivered_total',
      help: 'Records handed to consumer sessions (first deliveries and redeliveries).',
      labelNames: ['topic'],
      registers,
    }),
    consumeRedelivered: new Counter({
      name: 'kgw_consume_records_redelivered_total',
      help: 'Records handed out again after a nack or a missed ack deadline, by delivery attempt (2, 3, 4, 5+).',
      labelNames: ['topic', 'attempt'],
      registers,
    }),
    consumeAcked: new Counter({
      name: 'kgw_consume_records_acked_total',
      help: 'Records acked (per-record acks and Confluent commits).',
      labelNames: ['topic'],
      registers,
    }),
    consumeNacked: new Counter({
      name: 'kgw_consume_records_nacked_total',
      help: 'Records nacked by consumers.',
      labelNames: ['topic'],
      registers,
    }),
    consumeDeadLettered: new Counter({
      name: 'kgw_consume_records_dead_lettered_total',
      help: 'Records written to a dead-letter topic after their last attempt.',
      labelNames: ['topic'],
      registers,
    }),
    consumeDeadLetterFailures: new Counter({
      name: 'kgw_consume_dead_letter_failures_total',
      help: 'Records whose dead-letter write failed (they are claimed and written again later).',
      labelNames: ['topic'],
      registers,
    }),
    consumeSkipped: new Counter({
      name: 'kgw_consume_records_skipped_total',
      help: 'Unresolved records resolved without delivery because Kafka no longer has them (reason: gone = retention or compaction).',
      labelNames: ['topic', 'reason'],
      registers,
    }),
    consumeFenced: new Counter({
      name: 'kgw_consume_fenced_total',
      help: 'Acks, nacks and extends that named a delivery no longer current (another holder or a later attempt).',
      labelNames: ['operation'],
      registers,
    }),
    consumeReturned: new Counter({
      name: 'kgw_consume_records_returned_total',
      help: 'Records claimed for a client that left before the response was written, given back without spending an attempt.',
      registers,
    }),
    consumeOffsetCommits: new Counter({
      name: 'kgw_consume_offset_commits_total',
      help: 'OffsetCommit requests sent to Kafka (concurrent acks of a group share one).',
      registers,
    }),
    consumeOffsetCommitPartitions: new Counter({
      name: 'kgw_consume_offset_commit_partitions_total',
      help: 'Partitions written by OffsetCommit requests.',
      registers,
    }),
    consumeLongPollsWaiting: new Gauge({
      name: 'kgw_consume_long_polls_waiting',
      help: 'Long-polls waiting for records right now.',
      registers,
      collect() {
        this.set(probes.longPollsWaiting?.() ?? 0);
      },
    }),
    fetchRequests: new Counter({
      name: 'kgw_fetch_requests_total',
      help: 'Fetch requests the shared fetchers sent, by broker id (from librdkafka statistics).',
      labelNames: ['broker'],
      registers,
    }),
    fetchBytes: new Counter({
      name: 'kgw_fetch_bytes_total',
      help: 'Bytes the shared fetchers received, by broker id (from librdkafka statistics).',
      labelNames: ['broker'],
      registers,
    }),
    grpcRequests: new Counter({
      name: 'kgw_grpc_requests_total',
      help: 'gRPC calls answered, by method and status code name (streams counted when they end).',
      labelNames: ['method', 'code'],
      registers,
    }),
    grpcRequestDuration: new Histogram({
      name: 'kgw_grpc_request_duration_seconds',
      help: 'Latency of unary gRPC calls, by method.',
      labelNames: ['method'],
      buckets: [...LATENCY_BUCKETS],
      registers,
    }),
    grpcStreamsOpen: new Gauge({
      name: 'kgw_grpc_streams_open',
      help: 'gRPC streams (ProduceStream, Consume) open right now.',
      labelNames: ['method'],
      registers,
    }),
    produceQueueLimitMessages: new Gauge({
      name: 'kgw_produce_queue_limit_messages',
      help: 'Records a producer may hold awaiting delivery before requests get 429 (KGW_PRODUCE_QUEUE_MAX_MESSAGES).',
      labelNames: ['delivery'],
      registers,
    }),
    produceQueueLimitBytes: new Gauge({
      name: 'kgw_produce_queue_limit_bytes',
      help: 'Bytes a producer may hold awaiting delivery before requests get 429 (KGW_PRODUCE_QUEUE_MAX_BYTES).',
      labelNames: ['delivery'],
      registers,
    }),
    produceStreamsOpen: new Gauge({
      name: 'kgw_produce_streams_open',
      help: 'v3 streaming produce requests open right now.',
      registers,
    }),
    consumeAckSeconds: new Histogram({
      name: 'kgw_consume_ack_seconds',
      help: 'Time from handing a record out to its ack.',
      buckets: [...LATENCY_BUCKETS, 30, 60, 300],
      registers,
    }),
    consumeLeaseMoves: new Counter({
      name: 'kgw_consume_lease_moves_total',
      help: 'Ordered-mode partitions taken over from another session (expired or released lease).',
      registers,
    }),
    consumeSessions: new Gauge({
      name: 'kgw_consume_sessions',
      help: 'Consumer sessions in Redis, by mode (refreshed on an interval).',
      labelNames: ['mode'],
      aggregator: 'max',
      registers,
      collect() {
        const snapshot = probes.consumers?.();
        if (!snapshot) return;
        this.reset();
        for (const mode of ['ordered', 'shared'])
          this.set({ mode }, snapshot.sessions.get(mode) ?? 0);
      },
    }),
    consumeInFlight: new Gauge({
      name: 'kgw_consume_records_in_flight',
      help: 'Records handed out and not yet acked, by group (refreshed on an interval).',
      labelNames: ['group'],
      aggregator: 'max',
      registers,
      collect() {
        const snapshot = probes.consumers?.();
        if (!snapshot) return;
        this.reset();
        for (const [group, n] of snapshot.inFlight) this.set({ group }, n);
      },
    }),
    consumeLag: new Gauge({
      name: 'kgw_consume_lag_records',
      help: 'Consumer lag: high watermark minus the committed offset, by group, topic and partition (refreshed on an interval).',
      labelNames: ['group', 'topic', 'partition'],
      aggregator: 'max',
      registers,
      collect() {
        const snapshot = probes.consumers?.();
        if (!snapshot) return;
        this.reset();
        for (const l of snapshot.lag)
          this.set({ group: l.group, topic: l.topic, partition: String(l.partition) }, l.lag);
      },
    }),
    kafkaBrokerRtt: new Gauge({
      name: 'kgw_kafka_broker_rtt_seconds',
      help: "Average broker round-trip time seen by a librdkafka client (its statistics' rtt.avg).",
      labelNames: ['client', 'broker'],
      aggregator: 'average',
      registers,
    }),
    kafkaBrokerOutbuf: new Gauge({
      name: 'kgw_kafka_broker_outbuf_requests',
      help: 'Requests waiting to be sent to a broker.',
      labelNames: ['client', 'broker'],
      registers,
    }),
    kafkaBrokerWaitresp: new Gauge({
      name: 'kgw_kafka_broker_waitresp_requests',
      help: 'Requests sent to a broker and awaiting its response.',
      labelNames: ['client', 'broker'],
      registers,
    }),
    kafkaBrokerConnected: new Gauge({
      name: 'kgw_kafka_broker_connected',
      help: '1 when the librdkafka client is connected to the broker (state UP), else 0.',
      labelNames: ['client', 'broker'],
      registers,
    }),
    kafkaBrokerErrors: new Counter({
      name: 'kgw_kafka_broker_errors_total',
      help: 'Transmit and receive errors and request timeouts toward a broker.',
      labelNames: ['client', 'broker'],
      registers,
    }),
    redisCommandSeconds: new Histogram({
      name: 'kgw_redis_command_seconds',
      help: 'Redis command latency, by command (scripts appear as evalsha).',
      labelNames: ['command'],
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1],
      registers,
    }),
    redisCommandErrors: new Counter({
      name: 'kgw_redis_command_errors_total',
      help: 'Redis commands that failed (connection lost, timeout, script error), by command.',
      labelNames: ['command'],
      registers,
    }),
  };
  metrics.buildInfo.set({ version: build.version, node: build.node }, 1);
  metrics.processes.set(1);
  collectDefaultMetrics({ register: registry });
  // prom-client names these gauges *_total, which Prometheus reserves for counters
  // (promtool check metrics flags them); the per-type nodejs_active_* gauges remain.
  for (const name of [
    'nodejs_active_handles_total',
    'nodejs_active_requests_total',
    'nodejs_active_resources_total',
  ]) {
    registry.removeSingleMetric(name);
  }
  return metrics;
}

type Recorder = Record<string, unknown>;

/**
 * Makes every handle record nothing (KGW_METRICS_ENABLED=false), so a
 * benchmark can measure what recording costs on the hot paths. /metrics still
 * answers, with values that never change.
 */
export function silence(metrics: Metrics): Metrics {
  const noop = (): void => undefined;
  for (const handle of Object.values(metrics) as Recorder[]) {
    for (const method of ['inc', 'dec', 'set', 'observe', 'reset']) {
      if (typeof handle[method] === 'function') handle[method] = noop;
    }
    if (typeof handle.labels === 'function') handle.labels = () => handle;
  }
  return metrics;
}
