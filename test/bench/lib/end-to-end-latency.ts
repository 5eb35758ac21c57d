import type { Dispatcher } from 'undici';
import type { CpuMeter } from './cpu-meter.js';
import { DirectTailConsumer } from './direct-consumer.js';
import { GatewaySession } from './gateway-session.js';
import { LatencySamples, type LatencySummary } from './latency-samples.js';
import { measureOpenLoop, type OpenLoopResult } from './open-loop.js';
import { sendTimeOf, StampingProducerTarget } from './stamping-producer-target.js';
import { settlesWithin, sleep } from './timing.js';

/** A running consumer that reports each record's send time as it receives it. */
export interface TailConsumer {
  /** Polls, confirmations and their durations, where the consumer has them. */
  stats(): { polls: number; emptyPolls: number; confirmMs: LatencySummary } | undefined;
  stop(): Promise<void>;
}

/** Starts a consumer that calls `onRecord(sentAt, receivedAt)` for every record it gets. */
export type StartTailConsumer = (
  onRecord: (sentAt: number, receivedAt: number) => void,
) => Promise<TailConsumer>;

/** End-to-end latency of one consumer at a fixed produce rate. */
export interface EndToEndResult {
  /** Produce → consume, for records sent within the window. */
  readonly latency: LatencySummary;
  /** Window records Kafka acknowledged but the consumer never got within the drain timeout. */
  readonly missing: number;
  readonly produce: OpenLoopResult;
  readonly consumer: ReturnType<TailConsumer['stats']>;
}

/**
 * Starts the consumer on a fresh, empty topic, lets it settle, then produces
 * stamped records open-loop at `recordsPerSec` through a warm-up and a window
 * and measures, per window record, the time from its send to its arrival at
 * the consumer (same process, same clock).
 */
export async function measureEndToEnd(options: {
  readonly brokers: string;
  readonly topic: string;
  readonly partitions: number;
  readonly valueBytes: number;
  readonly recordsPerSec: number;
  readonly settleMs: number;
  readonly warmupMs: number;
  readonly windowMs: number;
  readonly drainTimeoutMs: number;
  readonly startConsumer: StartTailConsumer;
  readonly cpu?: CpuMeter;
}): Promise<EndToEndResult> {
  const samples = new LatencySamples(Math.ceil((options.recordsPerSec * options.windowMs) / 900));
  let windowStart = Infinity;
  let windowEnd = Infinity;
  let expected = Infinity;
  let allArrived: () => void = () => undefined;
  const arrived = new Promise<void>((resolve) => (allArrived = resolve));
  const consumer = await options.startConsumer((sentAt, receivedAt) => {
    if (sentAt < windowStart || sentAt >= windowEnd) return;
    samples.add(receivedAt - sentAt);
    if (samples.count >= expected) allArrived();
  });
  const producer = await StampingProducerTarget.connect(
    options.brokers,
    options.topic,
    options.partitions,
    options.valueBytes,
  );
  try {
    await sleep(options.settleMs);
    const started = performance.now();
    windowStart = started + options.warmupMs;
    windowEnd = windowStart + options.windowMs;
    const produce = await measureOpenLoop(producer, {
      recordsPerSec: options.recordsPerSec,
      warmupMs: options.warmupMs,
      windowMs: options.windowMs,
      drainTimeoutMs: options.drainTimeoutMs,
      ...(options.cpu ? { cpu: options.cpu } : {}),
    });
    expected = producer.deliveredBetween(windowStart, windowEnd);
    if (samples.count < expected) await settlesWithin(arrived, options.drainTimeoutMs);
    return {
      latency: samples.summary(),
      missing: Math.max(0, expected - samples.count),
      produce,
      consumer: consumer.stats(),
    };
  } finally {
    await Promise.all([producer.close(), consumer.stop()]);
  }
}

/** The baseline: a node-rdkafka consumer in flowing mode. */
export function directTail(options: {
  readonly brokers: string;
  readonly topic: string;
  readonly group: string;
  readonly partitions: number;
}): StartTailConsumer {
  return async (onRecord) => {
    const consumer = await DirectTailConsumer.start({
      ...options,
      onRecord: (value) => onRecord(sendTimeOf(value), performance.now()),
    });
    return { stats: () => undefined, stop: () => consumer.stop() };
  };
}

/** One gateway session (ordered mode, every partition) that long-polls and acks each batch before polling again. */
export function gatewayTail(options: {
  readonly dispatcher: Dispatcher;
  readonly origin: string;
  readonly topic: string;
  readonly group: string;
  readonly pollTimeoutMs: number;
  readonly maxRecords: number;
}): StartTailConsumer {
  return async (onRecord) => {
    const session = await GatewaySession.create(
      options.dispatcher,
      options.origin,
      options.group,
      'tail',
      { mode: 'ordered', autoOffsetReset: 'earliest' },
    );
    await session.subscribe([options.topic]);
    const confirmMs = new LatencySamples();
    let polls = 0;
    let emptyPolls = 0;
    let stopping = false;
    const loop = (async () => {
      while (!stopping) {
        const records = await session.poll(options.pollTimeoutMs, options.maxRecords);
        const now = performance.now();
        polls += 1;
        if (records.length === 0) {
          emptyPolls += 1;
          continue;
        }
        for (const r of records) if (r.value !== null) onRecord(sendTimeOf(r.value), now);
        const ackAt = performance.now();
        await session.ack(records);
        confirmMs.add(performance.now() - ackAt);
      }
    })();
    // A failed poll surfaces in stop(); until then it must not count as unhandled.
    loop.catch(() => undefined);
    return {
      stats: () => ({ polls, emptyPolls, confirmMs: confirmMs.summary() }),
      async stop() {
        stopping = true;
        await loop;
        await session.delete();
      },
    };
  };
}
