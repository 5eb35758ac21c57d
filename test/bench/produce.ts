import { randomBytes } from 'node:crypto';
import { measureAuthCost } from './lib/auth-cost.js';
import { renderAuthCostReport } from './lib/auth-cost-report.js';
import { avroV2Body, BENCH_AVRO_SCHEMA, registerSchema } from './lib/avro-body.js';
import { measureThroughput } from './lib/closed-loop.js';
import { CpuMeter } from './lib/cpu-meter.js';
import { DirectProducerTarget } from './lib/direct-producer-target.js';
import { benchTopicName, createTopic, deleteTopics } from './lib/kafka-topics.js';
import type { LoadTarget } from './lib/load-target.js';
import { formatCount, formatMs } from './lib/markdown-table.js';
import { measureOpenLoop, type OpenLoopResult } from './lib/open-loop.js';
import { renderProduceReport, type ProduceCaseResult } from './lib/produce-report.js';
import type { BenchContext, Scenario } from './lib/scenario.js';
import { sleep } from './lib/timing.js';
import { V2ProduceTarget } from './lib/v2-produce-target.js';
import { V3StreamTarget } from './lib/v3-stream-target.js';

const VALUE_BYTES = 1024;
const PARTITIONS = 6;
const WARMUP_MS = 2000;
const WINDOW_MS = 8000;
const DRAIN_TIMEOUT_MS = 20_000;
/** The gateway's KGW_CLUSTER_ID default. */
const CLUSTER_ID = 'kafka-gateway';
const V3_STREAMS = 4;
/** Records kept outstanding per v3 stream at max throughput (the gateway reads up to 1000 ahead). */
const V3_WINDOW_PER_STREAM = 1000;
/** Direct producing before the first measurement, so the broker's JIT is warm for (a). */
const BROKER_WARMUP_MS = 5000;
/** Requests in flight for (b): each waits about linger.ms (5 ms) for its batch, so 64 cannot saturate. */
const V2_SINGLE_CONCURRENCY = 256;
const V2_BATCH_CONCURRENCY = 16;
const DIRECT_IN_FLIGHT = 10_000;
/** The authentication part: two max-throughput rounds per gateway, then one latency phase each. */
const AUTH_ROUND_WINDOW_MS = 4000;
const AUTH_LATENCY_WINDOW_MS = 6000;

interface Case {
  readonly id: ProduceCaseResult['id'];
  readonly label: string;
  /** Sends kept outstanding at max throughput. */
  readonly concurrency: number;
  readonly load: string;
  /** Why this run cannot measure the case (it is then left out), or undefined when it can. */
  unavailable?(context: BenchContext): string | undefined;
  open(context: BenchContext, topic: string, value: Buffer): Promise<LoadTarget>;
}

const CASES: readonly Case[] = [
  {
    id: 'a',
    label: '(a) direct node-rdkafka',
    concurrency: DIRECT_IN_FLIGHT,
    load: `up to ${formatCount(DIRECT_IN_FLIGHT)} records in flight`,
    open: ({ stack }, topic, value) =>
      DirectProducerTarget.connect(stack.kafkaBrokers, topic, PARTITIONS, value),
  },
  {
    id: 'b',
    label: '(b) gateway v2, 1 record/request',
    concurrency: V2_SINGLE_CONCURRENCY,
    load: `${V2_SINGLE_CONCURRENCY} concurrent requests (undici Pool, ${V2_SINGLE_CONCURRENCY} connections)`,
    open: async ({ gateway }, topic, value) =>
      new V2ProduceTarget({
        name: 'v2 x1',
        baseUrl: gateway.url,
        topic,
        value,
        recordsPerSend: 1,
        connections: V2_SINGLE_CONCURRENCY,
      }),
  },
  {
    id: 'c',
    label: '(c) gateway v2, 100 records/request',
    concurrency: V2_BATCH_CONCURRENCY,
    load: `${V2_BATCH_CONCURRENCY} concurrent requests of 100 records (undici Pool, ${V2_BATCH_CONCURRENCY} connections)`,
    open: async ({ gateway }, topic, value) =>
      new V2ProduceTarget({
        name: 'v2 x100',
        baseUrl: gateway.url,
        topic,
        value,
        recordsPerSend: 100,
        connections: V2_BATCH_CONCURRENCY,
      }),
  },
  {
    id: 'e',
    label: '(e) gateway v2 avro, 100 records/request',
    concurrency: V2_BATCH_CONCURRENCY,
    load: `${V2_BATCH_CONCURRENCY} concurrent requests of 100 Avro records by \`value_schema_id\` (undici Pool, ${V2_BATCH_CONCURRENCY} connections)`,
    unavailable: ({ stack }) =>
      stack.schemaRegistryUrl
        ? undefined
        : 'no schema registry (SCHEMA_REGISTRY_URL unset next to KAFKA_BROKERS and REDIS_URL)',
    async open({ gateway, stack }, topic, value) {
      // Registered once, before the run, so the measured requests only look the id up.
      const schemaId = await registerSchema(
        stack.schemaRegistryUrl!,
        `${topic}-value`,
        BENCH_AVRO_SCHEMA,
      );
      return new V2ProduceTarget({
        name: 'v2 avro x100',
        baseUrl: gateway.url,
        topic,
        value,
        recordsPerSend: 100,
        connections: V2_BATCH_CONCURRENCY,
        embedded: {
          contentType: 'application/vnd.kafka.avro.v2+json',
          body: avroV2Body(schemaId, value, VALUE_BYTES, 100),
        },
      });
    },
  },
  {
    id: 'd',
    label: `(d) gateway v3 stream x${V3_STREAMS}`,
    concurrency: V3_STREAMS * V3_WINDOW_PER_STREAM,
    load: `${V3_STREAMS} streams, up to ${formatCount(V3_WINDOW_PER_STREAM)} records in flight on each`,
    open: async ({ gateway }, topic, value) =>
      new V3StreamTarget({
        baseUrl: gateway.url,
        clusterId: CLUSTER_ID,
        topic,
        value,
        streams: V3_STREAMS,
      }),
  },
];

const DESCRIPTION = `
Records of ${VALUE_BYTES} bytes (random, so incompressible; no keys) to a fresh
topic with ${PARTITIONS} partitions per scenario, on one broker:

- **(a) direct**: a plain node-rdkafka \`Producer\` in the load generator's own
  process, with the gateway's producer settings copied (not imported) from
  \`gateway/src/kafka/producer.ts\`: \`enable.idempotence=true\`, \`acks=-1\`,
  \`linger.ms=5\`, \`dr_cb\`, delivery reports collected by \`poll()\` every 1 ms
  while records are in flight, partitions rotated per record like the
  round-robin balancer. This is the ceiling for the gateway.
- **(b) gateway v2, 1 record per request**: \`POST /topics/{topic}\` with
  \`Content-Type: application/vnd.kafka.binary.v2+json\` and
  \`{"records":[{"value":"<base64>"}]}\`.
- **(c) gateway v2, 100 records per request**: the same route, 100 records per body.
- **(e) gateway v2 avro, 100 records per request**: as (c), with
  \`Content-Type: application/vnd.kafka.avro.v2+json\` and
  \`{"value_schema_id":<id>,"records":[{"value":{"id":<long>,"payload":"<string>"}},…]}\`:
  a record of a long and a string whose Avro encoding is ${VALUE_BYTES} bytes (the
  string is ASCII from the random value's base64), sent after a 5-byte wire-format
  header. The schema is registered once before the case, under
  \`<topic>-value\` in the stack's Apicurio Registry (the bench starts its stack with
  \`--registry\`; with \`KAFKA_BROKERS\`/\`REDIS_URL\` from the environment, set
  \`SCHEMA_REGISTRY_URL\` too, or the case is left out), so the measured requests only
  look the id up (cached) and encode. It runs right after (c), on the same
  gateway, and is compared with (c) in the table "Cost of Avro encoding".
- **(d) gateway v3 streaming**: ${V3_STREAMS} long-lived
  \`POST /v3/clusters/${CLUSTER_ID}/topics/{topic}/records\` requests, each with
  a chunked body of concatenated \`{"value":{"type":"BINARY","data":"<base64>"}}\`
  records while the response streams back one result line per record, in order.

A record counts as written only when it got an offset (v2 \`error_code: null\`,
v3 \`error_code: 200\`, or a delivery report without error); 429s (the
gateway's queue is full) are counted apart and never retried. Request bodies
are built once and reused, so the generator stays cheap.

Targets: (c) and (d) reach at least 50% of (a)'s records/s; (b) has a p99
under 20 ms at half of its own max rate.

**Cost of authentication.** After (a)–(d), the load of (b) (1 record per
request, ${V2_SINGLE_CONCURRENCY} outstanding) goes through three more gateways started for
it, each to its own fresh topic, with quotas off (\`KGW_QUOTA_*=0\`):
\`KGW_AUTH=none\`; \`KGW_AUTH=api-key\` with a random 32-byte key stored as its
SHA-256 in a keys file (sent as \`X-API-Key\`); \`KGW_AUTH=jwt\` with a JWKS file
holding the public half of an RS256 key pair generated for the run, issuer and
audience checked, and one token signed with \`jose\` (2 h expiry) sent as
\`Authorization: Bearer\` on every request, as a client reuses its token. Before
measuring, one produce with the credentials must be written and one without
them refused with 401. Max throughput runs in two rounds of ${AUTH_ROUND_WINDOW_MS / 1000} s
(after ${WARMUP_MS / 1000} s of warm-up each) in the order none, api-key, jwt, jwt, api-key,
none, so drift in the machine's load weighs on all three alike; latency is then
measured open-loop at one rate for all three (half the lowest mean max
throughput) over ${AUTH_LATENCY_WINDOW_MS / 1000} s. Each result is given as a ratio to \`none\`, and
the gateway's CPU time per request less that of \`none\` is the CPU cost of
authenticating a request (with authentication on, the produce also runs the
authorization check, with no policy file: allow all but internal topics).
This part adds about 80 s to the scenario (about 3.5 minutes in all). On the
shared 2-core VM one run's ratios move by tens of percent with other people's
load (see "everything else" and the noisy-window note): read the CPU
us/request difference first, and repeat the run before drawing a conclusion
from a small difference.
`;

/**
 * The produce path: direct baseline vs gateway v2 (1 and 100 records/request,
 * binary and avro) and v3 streaming, then the cost of authentication (API key, JWT) per request.
 */
export const produceScenario: Scenario = {
  name: 'produce',
  title: 'Produce',
  description: DESCRIPTION,
  needsRegistry: true,
  async run(context) {
    const { stack, cleanups } = context;
    const value = randomBytes(VALUE_BYTES);
    const topics: string[] = [];
    cleanups.add('delete bench topics', () => deleteTopics(stack.kafkaBrokers, topics));

    const warmupTopic = benchTopicName('produce-warmup');
    topics.push(warmupTopic);
    await createTopic(stack.kafkaBrokers, warmupTopic, PARTITIONS);
    await warmBroker(context, warmupTopic, value);

    const results: ProduceCaseResult[] = [];
    const skipped: string[] = [];
    for (const benchCase of CASES) {
      const reason = benchCase.unavailable?.(context);
      if (reason) {
        context.log(`${benchCase.label}: left out, ${reason}`);
        skipped.push(`${benchCase.label} was left out: ${reason}.`);
        continue;
      }
      const topic = benchTopicName(`produce-${benchCase.id}`);
      topics.push(topic);
      await createTopic(stack.kafkaBrokers, topic, PARTITIONS);
      results.push(await runCase(context, benchCase, topic, value));
    }
    const auth = await measureAuthCost(context, {
      value,
      concurrency: V2_SINGLE_CONCURRENCY,
      warmupMs: WARMUP_MS,
      roundWindowMs: AUTH_ROUND_WINDOW_MS,
      latencyWindowMs: AUTH_LATENCY_WINDOW_MS,
      drainTimeoutMs: DRAIN_TIMEOUT_MS,
      async createTopic(prefix) {
        const topic = benchTopicName(prefix);
        topics.push(topic);
        await createTopic(stack.kafkaBrokers, topic, PARTITIONS);
        return topic;
      },
    });
    const produce = renderProduceReport(results, {
      warmupMs: WARMUP_MS,
      windowMs: WINDOW_MS,
      valueBytes: VALUE_BYTES,
      partitions: PARTITIONS,
      drainTimeoutMs: DRAIN_TIMEOUT_MS,
      kafka:
        stack.origin === 'private'
          ? 'a private 1-broker stack'
          : `from KAFKA_BROKERS=${stack.kafkaBrokers}`,
      notes: [
        `Before (a), ${BROKER_WARMUP_MS / 1000} s of direct producing to a separate topic warm the broker's JIT; not counted.`,
        '(a) runs in the load generator process, so its CPU shows under "load generator"; the idle gateway is still running then.',
        '(b) keeps many requests in flight because each one waits about `linger.ms` (5 ms) for its batch to be sent: with 64, throughput stays near 64 / 8 ms while the gateway is far from busy.',
        ...(stack.schemaRegistryUrl
          ? [
              'The runner\'s gateway has `KGW_SCHEMA_REGISTRY_URL` set for (e), and the stack\'s Apicurio Registry (a JVM) runs through every case: its CPU is under "everything else".',
            ]
          : []),
        ...skipped,
      ],
    });
    const authReport = renderAuthCostReport(auth, {
      concurrency: V2_SINGLE_CONCURRENCY,
      warmupMs: WARMUP_MS,
      roundWindowMs: AUTH_ROUND_WINDOW_MS,
      latencyWindowMs: AUTH_LATENCY_WINDOW_MS,
    });
    return `${produce}\n\n${authReport}`;
  },
};

/** A few seconds of direct producing, discarded: a fresh broker JVM is slow until its JIT warms up. */
async function warmBroker(context: BenchContext, topic: string, value: Buffer): Promise<void> {
  context.log(`warming up the broker (${BROKER_WARMUP_MS / 1000} s of direct producing)`);
  const target = await DirectProducerTarget.connect(
    context.stack.kafkaBrokers,
    topic,
    PARTITIONS,
    value,
  );
  try {
    await measureThroughput(target, {
      concurrency: DIRECT_IN_FLIGHT,
      warmupMs: 0,
      windowMs: BROKER_WARMUP_MS,
      drainTimeoutMs: DRAIN_TIMEOUT_MS,
    });
  } finally {
    await target.close();
  }
}

async function runCase(
  context: BenchContext,
  benchCase: Case,
  topic: string,
  value: Buffer,
): Promise<ProduceCaseResult> {
  const { gateway, stack, log } = context;
  const linesBefore = gateway.linesWritten();
  const target = await benchCase.open(context, topic, value);
  try {
    log(`${benchCase.label}: max throughput (${benchCase.load})`);
    const throughput = await measureThroughput(target, {
      concurrency: benchCase.concurrency,
      warmupMs: WARMUP_MS,
      windowMs: WINDOW_MS,
      drainTimeoutMs: DRAIN_TIMEOUT_MS,
      cpu: new CpuMeter({ gateway: gateway.pid, kafka: stack.kafkaPid }),
    });
    log(
      `${benchCase.label}: ${formatCount(throughput.recordsPerSec)} records/s` +
        failureSummary(throughput.failures.failed, throughput.failures.rejected),
    );
    let latency: OpenLoopResult | undefined;
    const rate = throughput.recordsPerSec / 2;
    // Half of nothing is no rate to offer: a scenario that wrote nothing gets no latency phase.
    if (rate >= target.recordsPerSend) {
      await sleep(1000);
      log(`${benchCase.label}: open-loop latency at ${formatCount(rate)} records/s`);
      latency = await measureOpenLoop(target, {
        recordsPerSec: rate,
        warmupMs: WARMUP_MS,
        windowMs: WINDOW_MS,
        drainTimeoutMs: DRAIN_TIMEOUT_MS,
        cpu: new CpuMeter({ gateway: gateway.pid, kafka: stack.kafkaPid }),
      });
      log(
        `${benchCase.label}: p50 ${formatMs(latency.latency.p50)} ms, p99 ${formatMs(latency.latency.p99)} ms` +
          failureSummary(latency.failures.failed, latency.failures.rejected),
      );
    }
    const written = Math.min(gateway.linesWritten() - linesBefore, 3);
    return {
      id: benchCase.id,
      label: benchCase.label,
      load: benchCase.load,
      throughput,
      latency,
      gatewayLines: written > 0 ? gateway.logs.slice(-written) : [],
    };
  } finally {
    await target.close();
  }
}

function failureSummary(failed: number, rejected: number): string {
  return failed + rejected === 0 ? '' : ` (${failed} failed, ${rejected} rejected with 429)`;
}
