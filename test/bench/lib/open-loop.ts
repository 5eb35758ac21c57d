import type { CpuMeter, CpuReport } from './cpu-meter.js';
import { LatencySamples, type LatencySummary } from './latency-samples.js';
import { FailureTally, type LoadTarget } from './load-target.js';
import { settlesWithin, sleep } from './timing.js';

/** How an open-loop latency phase loads its target. */
export interface OpenLoopOptions {
  /** Offered load; sends are spaced recordsPerSend / recordsPerSec apart. */
  readonly recordsPerSec: number;
  readonly warmupMs: number;
  readonly windowMs: number;
  /** How long to wait for outstanding sends after the last one before giving up on them. */
  readonly drainTimeoutMs: number;
  /** Measures CPU over the window when given. */
  readonly cpu?: CpuMeter;
}

/** Latency at a fixed offered rate, measured from each send's intended time. */
export interface OpenLoopResult {
  readonly offeredRecordsPerSec: number;
  /** Records acknowledged per second during the window. */
  readonly achievedRecordsPerSec: number;
  /** Of sends intended within the window and at least partly written. */
  readonly latency: LatencySummary;
  /** Failures over the whole phase, warm-up included. */
  readonly failures: FailureTally;
  readonly unanswered: number;
  /** How late the generator issued sends (timer granularity, event-loop stalls), in the window. */
  readonly sendLagMeanMs: number;
  readonly sendLagMaxMs: number;
  readonly cpu: CpuReport | undefined;
}

/**
 * Open loop: sends at fixed intended times whether or not earlier sends were
 * answered, and measures each latency from the intended time, so a stalled
 * system cannot slow the generator down and hide its queueing (no coordinated omission).
 */
export async function measureOpenLoop(
  target: LoadTarget,
  options: OpenLoopOptions,
): Promise<OpenLoopResult> {
  await target.begin();
  const intervalMs = (1000 * target.recordsPerSend) / options.recordsPerSec;
  const total = Math.floor((options.warmupMs + options.windowMs) / intervalMs);
  const samples = new LatencySamples(Math.ceil((options.windowMs / intervalMs) * 1.1));
  const failures = new FailureTally();
  let outstanding = 0;
  let stopping = false;
  let okInWindow = 0;
  let lagSum = 0;
  let lagCount = 0;
  let lagMax = 0;
  let drained: () => void = () => undefined;
  const allAnswered = new Promise<void>((resolve) => {
    drained = resolve;
  });

  const start = performance.now();
  const windowStart = start + options.warmupMs;
  const windowEnd = windowStart + options.windowMs;

  const sendAt = (intended: number): void => {
    outstanding += 1;
    target.send((ok, failed, rejected, reason) => {
      const now = performance.now();
      outstanding -= 1;
      if (ok > 0 && intended >= windowStart) samples.add(now - intended);
      if (now >= windowStart && now < windowEnd) okInWindow += ok;
      if (failed + rejected > 0) failures.add(failed, rejected, reason);
      if (stopping && outstanding === 0) drained();
    });
  };

  let next = 0;
  let cpuStarted = false;
  let cpu: CpuReport | undefined;
  while (next < total) {
    const now = performance.now();
    if (!cpuStarted && now >= windowStart) {
      cpuStarted = true;
      options.cpu?.start();
    }
    for (; next < total; next += 1) {
      const intended = start + next * intervalMs;
      if (intended > now) break;
      if (intended >= windowStart) {
        const lag = now - intended;
        lagSum += lag;
        lagCount += 1;
        if (lag > lagMax) lagMax = lag;
      }
      sendAt(intended);
    }
    if (next < total) await sleep(Math.max(0, start + next * intervalMs - performance.now()));
  }
  if (cpuStarted) cpu = options.cpu?.stop();
  stopping = true;
  if (outstanding > 0) await settlesWithin(allAnswered, options.drainTimeoutMs);
  const unanswered = outstanding;
  await target.end();

  return {
    offeredRecordsPerSec: options.recordsPerSec,
    achievedRecordsPerSec: okInWindow / (options.windowMs / 1000),
    latency: samples.summary(),
    failures,
    unanswered,
    sendLagMeanMs: lagCount === 0 ? 0 : lagSum / lagCount,
    sendLagMaxMs: lagMax,
    cpu,
  };
}
