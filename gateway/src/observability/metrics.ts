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
  readonly dependencyUp: Gauge<'dependency'>;
  readonly buildInfo: Gauge<'version' | 'node'>;
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
  readonly consumeRedelivered: Counter<'topic'>;
  readonly consumeAcked: Counter<'topic'>;
  readonly consumeNacked: Counter<'topic'>;
  readonly consumeDeadLettered: Counter<'topic'>;
  readonly consumeLongPollsWaiting: Gauge;
  readonly fetchRequests: Counter<'broker'>;
  readonly fetchBytes: Counter<'broker'>;
}

/** Read at scrape time, so hot paths never touch gauges. */
export interface MetricProbes {
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
    dependencyUp: new Gauge({
      name: 'kgw_dependency_up',
      help: '1 when the last readiness check of the dependency passed, else 0.',
      labelNames: ['dependency'],
      registers,
    }),
    buildInfo: new Gauge({
      name: 'kgw_build_info',
      help: 'Always 1; labels carry the gateway version and Node.js version.',
      labelNames: ['version', 'node'],
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
      help: 'Produce requests refused before anything was written, by reason (queue_full answers 429).',
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
      help: 'Requests carrying an Idempotency-Key, by result: started, replayed, in_flight (409), mismatch (422).',
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
      help: 'Records handed out again after a nack or a missed ack deadline.',
      labelNames: ['topic'],
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
  };
  metrics.buildInfo.set({ version: build.version, node: build.node }, 1);
  collectDefaultMetrics({ register: registry });
  return metrics;
}
