import { LatencySamples, type LatencySummary } from './latency-samples.js';
import type { LoadTarget, SendDone } from './load-target.js';

/**
 * Wraps a target to time each send (from the call to its answer) during a
 * closed-loop phase, the way ghz reports latency at a fixed concurrency:
 * only sends started between `warmupMs` and `warmupMs + windowMs` after
 * `begin()` that wrote at least one record are sampled.
 */
export class TimedTarget implements LoadTarget {
  readonly name: string;
  readonly recordsPerSend: number;
  readonly #inner: LoadTarget;
  readonly #warmupMs: number;
  readonly #windowMs: number;
  #samples = new LatencySamples();
  #from = Infinity;
  #to = Infinity;

  constructor(inner: LoadTarget, window: { readonly warmupMs: number; readonly windowMs: number }) {
    this.#inner = inner;
    this.name = inner.name;
    this.recordsPerSend = inner.recordsPerSend;
    this.#warmupMs = window.warmupMs;
    this.#windowMs = window.windowMs;
  }

  /** Latency of the sends sampled in the last phase. */
  latency(): LatencySummary {
    return this.#samples.summary();
  }

  async begin(): Promise<void> {
    await this.#inner.begin();
    this.#samples = new LatencySamples(64 * 1024);
    this.#from = performance.now() + this.#warmupMs;
    this.#to = this.#from + this.#windowMs;
  }

  send(done: SendDone): void {
    const started = performance.now();
    const sampled = started >= this.#from && started < this.#to;
    this.#inner.send((ok, failed, rejected, reason) => {
      if (sampled && ok > 0) this.#samples.add(performance.now() - started);
      done(ok, failed, rejected, reason);
    });
  }

  end(): Promise<void> {
    return this.#inner.end();
  }

  close(): Promise<void> {
    return this.#inner.close();
  }
}
