import { randomUUID } from 'node:crypto';
import type { ConsumePath } from '../../gateway/src/core/consume/consume-path.js';
import type { Logger } from '../../gateway/src/observability/logger.js';

export interface SweeperOptions {
  readonly parts: ConsumePath;
  readonly logger: Logger;
  readonly intervalMs: number;
  readonly sessionIdleTimeoutMs: number;
  /** Used when a group has no session left to take maxAttempts from. */
  readonly defaultMaxAttempts: number;
  /**
   * How often a pass visits every group (to delete idle sessions); the passes
   * between visit only groups that handed out records since they were last
   * found quiet. Default: half the session idle timeout, at most a minute.
   */
  readonly fullPassEveryMs?: number;
  /** Which groups this sweeper looks after (default: all). */
  readonly groupFilter?: (group: string) => boolean;
}

export interface SweepReport {
  readonly groups: number;
  /** Whether this pass visited every group, or only the active ones. */
  readonly full: boolean;
  readonly reaped: number;
  readonly deadLettered: number;
  readonly committed: number;
}

/**
 * The consume path's background duties, for when nobody polls: delete idle
 * sessions (their records and leases go back to the group), move timed-out
 * records past their delivery limit to the dead-letter topic, and commit
 * acked offsets to Kafka. A per-group lock in Redis lets several workers run
 * side by side without repeating each other.
 */
export class Sweeper {
  readonly #options: SweeperOptions;
  readonly #owner = randomUUID();
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<unknown> = Promise.resolve();
  #nextFullPass = 0;

  constructor(options: SweeperOptions) {
    this.#options = options;
  }

  start(): void {
    this.#timer = setInterval(() => {
      this.#running = this.runOnce().catch((err: unknown) =>
        this.#options.logger.warn({ err }, 'sweep failed'),
      );
    }, this.#options.intervalMs);
  }

  /**
   * One pass: every group when a full pass is due (or `full`), else only the
   * groups marked active. The cost of a pass grows with active groups; idle
   * ones cost one visit per full-pass period.
   */
  async runOnce({ full: forced = false }: { full?: boolean } = {}): Promise<SweepReport> {
    const { parts, logger, sessionIdleTimeoutMs, intervalMs, defaultMaxAttempts } = this.#options;
    let reaped = 0;
    let deadLettered = 0;
    let committed = 0;
    const started = Date.now();
    const full = forced || started >= this.#nextFullPass;
    if (full) {
      const every = this.#options.fullPassEveryMs ?? Math.min(sessionIdleTimeoutMs / 2, 60_000);
      this.#nextFullPass = started + Math.max(intervalMs, every);
    }
    const groups = (
      full ? await parts.sessions.groups() : await parts.sessions.activeGroups()
    ).filter(this.#options.groupFilter ?? (() => true));
    for (const group of groups) {
      if (!(await parts.sessions.tryLock(group, this.#owner, Math.max(1000, intervalMs)))) continue;
      try {
        const report = await parts.maintenance.run(group, {
          sessionIdleTimeoutMs,
          defaultMaxAttempts,
        });
        reaped += report.reaped;
        deadLettered += report.deadLettered;
        committed += report.committed;
        if (report.quiet) await parts.sessions.markQuiet(group, started);
      } catch (err) {
        logger.warn({ err, group }, 'sweeping a group failed; next pass retries');
      }
    }
    return { groups: groups.length, full, reaped, deadLettered, committed };
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.#running;
  }
}
