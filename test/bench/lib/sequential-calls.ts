import type { Dispatcher } from 'undici';
import { scrapeMetrics } from './gateway-metrics.js';
import { GatewaySession } from './gateway-session.js';

const REDIS_SENT = 'kgw_redis_command_seconds_count';

/** Every timed call of one session, in order. */
export interface SequentialCallsResult {
  /** Duration of each measured poll / ack request, ms. */
  readonly pollMs: readonly number[];
  readonly ackMs: readonly number[];
  /** Redis commands the gateway sent during each call (a script call counts once). */
  readonly pollRedisSent: readonly number[];
  readonly ackRedisSent: readonly number[];
  /** Measured polls that returned no record (their ack was skipped). */
  readonly emptyPolls: number;
}

async function redisSent(dispatcher: Dispatcher, origin: string): Promise<number> {
  return (await scrapeMetrics(dispatcher, origin)).get(REDIS_SENT) ?? NaN;
}

/**
 * One ordered session in a group of its own polls and acks one call at a
 * time: a warm-up poll + ack, then `iterations` timed pairs. /metrics is read
 * between calls (outside the timings) to charge each call with its Redis commands.
 */
export async function measureSequentialCalls(options: {
  readonly dispatcher: Dispatcher;
  readonly origin: string;
  readonly topic: string;
  readonly group: string;
  readonly iterations: number;
  readonly pollTimeoutMs: number;
  readonly maxRecords: number;
}): Promise<SequentialCallsResult> {
  const { dispatcher, origin } = options;
  const session = await GatewaySession.create(dispatcher, origin, options.group, 'sequential', {
    mode: 'ordered',
    autoOffsetReset: 'earliest',
  });
  try {
    await session.subscribe([options.topic]);
    // The session's first poll takes the lease and reads the committed offset: not measured.
    const warmup = await session.poll(5000, options.maxRecords);
    if (warmup.length === 0) throw new Error(`warm-up poll of ${options.topic} got no record`);
    await session.ack(warmup);

    const pollMs: number[] = [];
    const ackMs: number[] = [];
    const pollRedisSent: number[] = [];
    const ackRedisSent: number[] = [];
    let emptyPolls = 0;
    for (let i = 0; i < options.iterations; i += 1) {
      const beforePoll = await redisSent(dispatcher, origin);
      let started = performance.now();
      const records = await session.poll(options.pollTimeoutMs, options.maxRecords);
      pollMs.push(performance.now() - started);
      const afterPoll = await redisSent(dispatcher, origin);
      pollRedisSent.push(afterPoll - beforePoll);
      if (records.length === 0) {
        emptyPolls += 1;
        continue;
      }
      started = performance.now();
      const { fenced } = await session.ack(records);
      ackMs.push(performance.now() - started);
      if (fenced > 0) throw new Error(`${fenced} of ${records.length} acks were fenced`);
      ackRedisSent.push((await redisSent(dispatcher, origin)) - afterPoll);
    }
    return { pollMs, ackMs, pollRedisSent, ackRedisSent, emptyPolls };
  } finally {
    await session.delete();
  }
}
