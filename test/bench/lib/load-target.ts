/**
 * How one send ended: records written, records that failed, records refused
 * with 429 (the gateway's queue is full), and a short reason when not all were written.
 */
export type SendDone = (ok: number, failed: number, rejected: number, reason?: string) => void;

/** Something the load drivers can send records to: a producer, or a gateway route. */
export interface LoadTarget {
  readonly name: string;
  /** Records each send carries (1, or 100 for batched v2 requests). */
  readonly recordsPerSend: number;
  /** Prepares a measurement phase (e.g. opens request streams). */
  begin(): Promise<void>;
  /**
   * Sends one unit of records; `done` is called exactly once, never
   * synchronously, when the unit's outcome is known.
   */
  send(done: SendDone): void;
  /** Ends a phase once the driver stopped sending; whatever is still unanswered fails. */
  end(): Promise<void>;
  /** Releases connections and clients; idempotent. */
  close(): Promise<void>;
}

/** Failure counts of one phase, with how often each reason occurred. */
export class FailureTally {
  failed = 0;
  rejected = 0;
  readonly reasons = new Map<string, number>();

  add(failed: number, rejected: number, reason: string | undefined): void {
    this.failed += failed;
    this.rejected += rejected;
    if (reason !== undefined && failed + rejected > 0) {
      this.reasons.set(reason, (this.reasons.get(reason) ?? 0) + failed + rejected);
    }
  }
}
