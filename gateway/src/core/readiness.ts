import { GatewayError, isGatewayError, type ErrorCode } from '../errors.js';
import { withDeadline } from '../util/deadline.js';

/** A dependency check: resolves when the dependency answers, rejects otherwise. */
export type Probe = () => Promise<void>;

export type CheckResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly code: ErrorCode; readonly message: string };

export interface ReadinessReport {
  readonly ready: boolean;
  readonly closing: boolean;
  readonly checks: Readonly<Record<string, CheckResult>>;
}

export interface ReadinessOptions {
  readonly probes: Readonly<Record<string, Probe>>;
  readonly timeoutMs: number;
  /** Called with each check's outcome, e.g. to set a gauge. */
  readonly onResult?: (dependency: string, ok: boolean) => void;
}

/** Answers "can this instance serve traffic?": every dependency up and not shutting down. */
export class Readiness {
  readonly #options: ReadinessOptions;
  #closing = false;

  constructor(options: ReadinessOptions) {
    this.#options = options;
  }

  /** From now on the instance reports not ready, so balancers drain it. */
  markClosing(): void {
    this.#closing = true;
  }

  get closing(): boolean {
    return this.#closing;
  }

  async check(): Promise<ReadinessReport> {
    const { probes, timeoutMs, onResult } = this.#options;
    const names = Object.keys(probes);
    const results = await Promise.all(
      names.map(async (name): Promise<CheckResult> => {
        try {
          await withDeadline(
            probes[name]!(),
            timeoutMs,
            () => new GatewayError('KGW_TIMEOUT', `${name} did not answer within ${timeoutMs} ms`),
          );
          onResult?.(name, true);
          return { ok: true };
        } catch (err) {
          onResult?.(name, false);
          const code = isGatewayError(err) ? err.code : 'KGW_INTERNAL';
          return { ok: false, code, message: err instanceof Error ? err.message : String(err) };
        }
      }),
    );
    const checks = Object.fromEntries(names.map((name, i) => [name, results[i]!]));
    return { ready: !this.#closing && results.every((r) => r.ok), closing: this.#closing, checks };
  }
}
