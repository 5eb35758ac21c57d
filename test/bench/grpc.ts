import { randomBytes } from 'node:crypto';
import { measureThroughput } from './lib/closed-loop.js';
import { DirectProducerTarget } from './lib/direct-producer-target.js';
import { freePort, startGateway } from './lib/gateway-process.js';
import { cpuMeter, type GrpcBenchRun } from './lib/grpc-bench-run.js';
import type { GrpcDrainPlan } from './lib/grpc-consume-drain.js';
import { measureDrains } from './lib/grpc-drain-cases.js';
import { GatewayGrpcConnection, GRPC_SERVICE } from './lib/grpc-gateway-client.js';
import { GrpcProduceStreamTarget } from './lib/grpc-produce-stream-target.js';
import { GRPC_STREAM_TARGET, renderGrpcReport, type StreamCaseResult } from './lib/grpc-report.js';
import { measureUnaryProduce, type UnarySettings } from './lib/grpc-unary-cases.js';
import { benchTopicName, createTopic, deleteTopics } from './lib/kafka-topics.js';
import type { LoadTarget } from './lib/load-target.js';
import { formatCount, formatMs } from './lib/markdown-table.js';
import { measureOpenLoop, type OpenLoopResult } from './lib/open-loop.js';
import type { Scenario } from './lib/scenario.js';
import { sleep } from './lib/timing.js';
import { V3StreamTarget } from './lib/v3-stream-target.js';

const VALUE_BYTES = 1024;
const PARTITIONS = 6;
/** The gateway's KGW_CLUSTER_ID default. */
const CLUSTER_ID = 'kafka-gateway';
const BROKER_WARMUP_MS = 4000;
const STREAM_WARMUP_MS = 2000;
const STREAM_WINDOW_MS = 6000;
const DRAIN_TIMEOUT_MS = 20_000;
const STREAMS = 4;
/** Records kept outstanding per stream (the gateway's v3 route reads up to 1000 ahead). */
const WINDOW_PER_STREAM = 1000;
const DIRECT_IN_FLIGHT = 10_000;

const UNARY: UnarySettings = {
  concurrency: 64,
  seconds: 10,
  warmupSeconds: 2,
  batchRecords: 100,
  drainTimeoutMs: DRAIN_TIMEOUT_MS,
};

const consumePlan = (mode: GrpcDrainPlan['mode']): GrpcDrainPlan => ({
  streams: 3,
  credit: 1000,
  creditStep: 250,
  ackBatch: 250,
  acksInFlight: 1,
  mode,
});
const DRAIN = {
  records: 100_000,
  capMs: 25_000,
  warmupMs: 3000,
  plans: [consumePlan('shared'), consumePlan('ordered')],
  restMaxRecords: 500,
  restPollTimeoutMs: 1000,
} as const;
const PLAN = DRAIN.plans[0];

const DESCRIPTION = `
The gRPC transport (\`${GRPC_SERVICE}\`, plaintext HTTP/2) against direct node-rdkafka
and the REST equivalents, all in one run on one broker: ${VALUE_BYTES}-byte random values, fresh
topics of ${PARTITIONS} partitions. The scenario starts its own gateway process with a known
\`KGW_GRPC_PORT\` and measures every gateway case against it. Kafka, Redis, the gateway and
the load generator share the machine's 2 cores, so the generator's own CPU competes with the
gateway's; the CPU table shows who used them.

1. **Streaming produce.** Closed-loop max records/s, then open-loop latency at half of that
   rate (from each record's intended send time to its result). **direct**: node-rdkafka with
   the gateway's producer settings (as in the Produce scenario), up to ${formatCount(DIRECT_IN_FLIGHT)} records in
   flight. **REST v3 stream**: ${STREAMS} long-lived chunked
   \`POST /v3/clusters/${CLUSTER_ID}/topics/{topic}/records\` requests. **gRPC ProduceStream**:
   ${STREAMS} calls, each on its own HTTP/2 connection, one \`ProduceStreamRequest\` (topic and
   one record) per message; results stream back in order, so the i-th result answers the i-th
   record. Request messages are encoded once and re-sent, and a result is checked for its
   \`error\` field without a full decode, so the generator stays cheap. Both stream cases keep up
   to ${formatCount(WINDOW_PER_STREAM)} records outstanding per stream.
2. **Unary produce.** ghz (\`--insecure -c ${UNARY.concurrency} -z ${UNARY.seconds}s --duration-stop=wait -O json\`, one
   HTTP/2 connection) calls \`Produce\` with 1 and with ${UNARY.batchRecords} records per request, each after
   an unmeasured ${UNARY.warmupSeconds} s ghz run; requests/s counts OK answers, latency percentiles are
   ghz's (OK calls only). ghz does not look inside \`ProduceResponse\`, so the records that
   reached the case's fresh topic are counted afterwards and must match. Compared with REST
   v2 \`POST /topics/{topic}\` bodies of 1 and ${UNARY.batchRecords} records with ${UNARY.concurrency} requests in flight
   (undici Pool of ${UNARY.concurrency} connections), ${UNARY.warmupSeconds} s warm-up + ${UNARY.seconds} s window, each request timed.
3. **Consume drain.** A topic is pre-filled with ${formatCount(DRAIN.records)} records (plain node-rdkafka
   producer, not measured) and drained once per case, each in a fresh group. **direct**: a
   node-rdkafka \`KafkaConsumer\` assigned every partition (\`consume(1000)\`, commits every
   second and at the end). **gRPC Consume**, once in ${DRAIN.plans.map((p) => p.mode).join(' and once in ')} mode: ${PLAN.streams} streams open a
   session each with \`options: {mode, autoOffsetReset: 'earliest'}\` and \`initialCredit: 0\` (untimed), are then
   granted ${formatCount(PLAN.credit)} records of credit, and get ${PLAN.creditStep} more for every ${PLAN.creditStep} records that arrive;
   each stream acks what arrived with \`{ack: {records}}\` on the stream, keeping at most
   ${PLAN.acksInFlight} ack unanswered (what arrives meanwhile goes in the next one; a partial batch
   waits at most 10 ms). **REST**: as many sessions in the same mode long-polling
   \`GET …/records?max_records=${DRAIN.restMaxRecords}\` and acking each batch with \`POST …/acks\` before
   polling again. Timed from the first credit (or read) to the answer to the ack covering the
   last record; a gateway case stops after ${DRAIN.capMs / 1000} s ("capped"). ${DRAIN.warmupMs / 1000} s of unmeasured gRPC
   draining warm the gateway first. Records are checked off by offset (duplicates show), and
   Kafka's committed offsets are read back and compared with what was acked.

Target: gRPC streaming produce reaches at least ${Math.round(GRPC_STREAM_TARGET * 100)}% of direct node-rdkafka's records/s.
`;

/** The gRPC transport: ProduceStream, unary Produce (ghz) and Consume streams vs direct and REST. */
export const grpcScenario: Scenario = {
  name: 'grpc',
  title: 'gRPC',
  description: DESCRIPTION,
  async run(context) {
    const { stack, cleanups, log } = context;
    const topics: string[] = [];
    cleanups.add('delete gRPC bench topics', () => deleteTopics(stack.kafkaBrokers, topics));
    const newTopic = async (prefix: string): Promise<string> => {
      const topic = benchTopicName(`grpc-${prefix}`);
      topics.push(topic);
      await createTopic(stack.kafkaBrokers, topic, PARTITIONS);
      return topic;
    };
    // The runner's gateway binds gRPC to a port it does not report: this one gets a known port.
    const grpcPort = await freePort();
    const gateway = await startGateway(stack, cleanups, { KGW_GRPC_PORT: String(grpcPort) });
    const address = `127.0.0.1:${grpcPort}`;
    log(`gRPC gateway ready at ${address}, HTTP ${gateway.url} (pid ${gateway.pid ?? '?'})`);
    const run: GrpcBenchRun = {
      context,
      gateway,
      address,
      value: randomBytes(VALUE_BYTES),
      partitions: PARTITIONS,
      newTopic,
    };
    try {
      await checkGrpc(address);
      const notes: string[] = [];
      const stream = await streamCases(run);
      const unary = await measureUnaryProduce(run, UNARY, notes);
      const drains = await measureDrains(run, DRAIN);
      return renderGrpcReport({
        valueBytes: VALUE_BYTES,
        partitions: PARTITIONS,
        kafka:
          stack.origin === 'private'
            ? 'a private 1-broker stack'
            : `from KAFKA_BROKERS=${stack.kafkaBrokers}`,
        stream,
        streamWindow: { warmupMs: STREAM_WARMUP_MS, windowMs: STREAM_WINDOW_MS },
        unary,
        unaryWindow: { concurrency: UNARY.concurrency, seconds: UNARY.seconds },
        drains,
        notes: [
          `Before the first case, ${BROKER_WARMUP_MS / 1000} s of direct producing warm the broker's JIT; not counted.`,
          'The direct cases run inside the load generator process, so their CPU shows under "load generator"; the runner\'s own gateway process stays idle.',
          ...notes,
        ],
        gatewayLines: gateway.logs.slice(-Math.min(gateway.linesWritten(), 5)),
      });
    } finally {
      await gateway.stop();
    }
  },
};

/** Fails early, with the reason, if the gateway's gRPC port does not answer. */
async function checkGrpc(address: string): Promise<void> {
  const connection = new GatewayGrpcConnection(address);
  try {
    await connection.unary('ListBrokers', {});
  } finally {
    connection.close();
  }
}

/** Direct, REST v3 stream and gRPC ProduceStream: max throughput, then latency at half of it. */
async function streamCases(run: GrpcBenchRun): Promise<StreamCaseResult[]> {
  const { context, value } = run;
  const brokers = context.stack.kafkaBrokers;
  const warmup = await DirectProducerTarget.connect(
    brokers,
    await run.newTopic('warmup'),
    PARTITIONS,
    value,
  );
  context.log(`warming up the broker (${BROKER_WARMUP_MS / 1000} s of direct producing)`);
  try {
    await measureThroughput(warmup, {
      concurrency: DIRECT_IN_FLIGHT,
      warmupMs: 0,
      windowMs: BROKER_WARMUP_MS,
      drainTimeoutMs: DRAIN_TIMEOUT_MS,
    });
  } finally {
    await warmup.close();
  }
  const cases: {
    id: StreamCaseResult['id'];
    label: string;
    load: string;
    concurrency: number;
    open: (topic: string) => Promise<LoadTarget>;
  }[] = [
    {
      id: 'direct',
      label: 'direct node-rdkafka',
      load: `up to ${formatCount(DIRECT_IN_FLIGHT)} records in flight`,
      concurrency: DIRECT_IN_FLIGHT,
      open: (topic) => DirectProducerTarget.connect(brokers, topic, PARTITIONS, value),
    },
    {
      id: 'v3',
      label: `REST v3 stream x${STREAMS}`,
      load: `${STREAMS} streams, up to ${formatCount(WINDOW_PER_STREAM)} records in flight on each`,
      concurrency: STREAMS * WINDOW_PER_STREAM,
      open: async (topic) =>
        new V3StreamTarget({
          baseUrl: run.gateway.url,
          clusterId: CLUSTER_ID,
          topic,
          value,
          streams: STREAMS,
        }),
    },
    {
      id: 'grpc',
      label: `gRPC ProduceStream x${STREAMS}`,
      load: `${STREAMS} calls on ${STREAMS} connections, up to ${formatCount(WINDOW_PER_STREAM)} records in flight on each`,
      concurrency: STREAMS * WINDOW_PER_STREAM,
      open: async (topic) =>
        new GrpcProduceStreamTarget({ address: run.address, topic, value, streams: STREAMS }),
    },
  ];
  const results: StreamCaseResult[] = [];
  for (const c of cases) {
    const target = await c.open(await run.newTopic(`stream-${c.id}`));
    try {
      context.log(`${c.label}: max throughput (${c.load})`);
      const throughput = await measureThroughput(target, {
        concurrency: c.concurrency,
        warmupMs: STREAM_WARMUP_MS,
        windowMs: STREAM_WINDOW_MS,
        drainTimeoutMs: DRAIN_TIMEOUT_MS,
        cpu: cpuMeter(run),
      });
      context.log(`${c.label}: ${formatCount(throughput.recordsPerSec)} records/s`);
      let latency: OpenLoopResult | undefined;
      if (throughput.recordsPerSec >= 2) {
        await sleep(1000);
        const rate = throughput.recordsPerSec / 2;
        context.log(`${c.label}: open-loop latency at ${formatCount(rate)} records/s`);
        latency = await measureOpenLoop(target, {
          recordsPerSec: rate,
          warmupMs: STREAM_WARMUP_MS,
          windowMs: STREAM_WINDOW_MS,
          drainTimeoutMs: DRAIN_TIMEOUT_MS,
          cpu: cpuMeter(run),
        });
        context.log(
          `${c.label}: p50 ${formatMs(latency.latency.p50)} ms, p99 ${formatMs(latency.latency.p99)} ms`,
        );
      }
      results.push({ id: c.id, label: c.label, load: c.load, throughput, latency });
    } finally {
      await target.close();
    }
  }
  return results;
}
