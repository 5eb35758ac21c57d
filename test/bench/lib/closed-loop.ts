import type { CpuMeter, CpuReport } from './cpu-meter.js';
import { FailureTally, type LoadTarget, type SendDone } from './load-target.js';
import { settlesWithin, sleep } from './timing.js';

/** How a max-throughput phase loads its target. */
export interface ThroughputOptions {
  /** Sends kept outstanding at all times. */
  readonly concurrency: number;
  readonly warmupMs: number;
  readonly windowMs: number;
  /** How long to wait for outstanding sends after the window before giving up on them. */
  readonly drainTimeoutMs: number;
  /** Measures CPU over the window when given. */
  readonly cpu?: CpuMeter;
  /** Called as the window opens and closes (for measurements of the caller's own). */
  readonly onWindowStart?: () => void;
  readonly onWindowEnd?: () => void;
}

/** Maximum throughput of one target, counted over the measurement window only. */
export interface ThroughputResult {
  /** Records written (acknowledged) per second during the window. */
  readonly recordsPerSec: number;
  /** Failures over the whole phase, warm-up included. */
  readonly failures: FailureTally;
  /** Sends still unanswered when the drain timeout ran out. */
  readonly unanswered: number;
  readonly cpu: CpuReport | undefined;
}

/**
 * Closed loop: keeps `concurrency` sends outstanding (a new one as soon as one
 * is answered) through a warm-up and a window, and counts records written in the window.
 */
export async function measureThroughput(
  target: LoadTarget,
  options: ThroughputOptions,
): Promise<ThroughputResult> {
  await target.begin();
  const failures = new FailureTally();
  let outstanding = 0;
  let stopping = false;
  let inWindow = false;
  let okInWindow = 0;
  let drained: () => void = () => undefined;
  const allAnswered = new Promise<void>((resolve) => {
    drained = resolve;
  });

  const done: SendDone = (ok, failed, rejected, reason) => {
    outstanding -= 1;
    if (inWindow) okInWindow += ok;
    if (failed + rejected > 0) failures.add(failed, rejected, reason);
    if (!stopping) issue();
    else if (outstanding === 0) drained();
  };
  const issue = (): void => {
    outstanding += 1;
    target.send(done);
  };

  for (let i = 0; i < options.concurrency; i += 1) issue();
  await sleep(options.warmupMs);
  options.cpu?.start();
  options.onWindowStart?.();
  const windowStart = performance.now();
  inWindow = true;
  await sleep(options.windowMs);
  inWindow = false;
  const windowSeconds = (performance.now() - windowStart) / 1000;
  const cpu = options.cpu?.stop();
  options.onWindowEnd?.();
  stopping = true;

  if (outstanding > 0) await settlesWithin(allAnswered, options.drainTimeoutMs);
  const unanswered = outstanding;
  await target.end();
  return { recordsPerSec: okInWindow / windowSeconds, failures, unanswered, cpu };
}

/** Gateway CPU microseconds per record written in the window (undefined without a CPU reading). */
export function microsPerRecord(r: ThroughputResult): number | undefined {
  return r.cpu?.gateway === undefined || r.recordsPerSec === 0
    ? undefined
    : ((r.cpu.gateway / 100) * 1e6) / r.recordsPerSec;
}
