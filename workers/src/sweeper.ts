import { randomUUID } from 'node:crypto';
import type { ConsumeParts } from '../../gateway/src/consume-parts.js';
import { DeadLetterWriter } from '../../gateway/src/core/dead-letter.js';
import type { Logger } from '../../gateway/src/observability/logger.js';

export interface SweeperOptions {
  readonly parts: ConsumeParts;
  readonly logger: Logger;
  readonly intervalMs: number;
  readonly sessionIdleTimeoutMs: number;
  /** Used when a group has no session left to take maxAttempts from. */
  readonly defaultMaxAttempts: number;
  /** Which groups this sweeper looks after (default: all). */
  readonly groupFilter?: (group: string) => boolean;
}

export interface SweepReport {
  readonly groups: number;
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

  /** One pass over every group. */
  async runOnce(): Promise<SweepReport> {
    const { parts, logger, sessionIdleTimeoutMs, intervalMs } = this.#options;
    const { sessions, sessionService, partitions, deadLetter, committer } = parts;
    let reaped = 0;
    let deadLettered = 0;
    let committed = 0;
    const groups = (await sessions.groups()).filter(this.#options.groupFilter ?? (() => true));
    for (const group of groups) {
      if (!(await sessions.tryLock(group, this.#owner, Math.max(1000, intervalMs)))) continue;
      try {
        // Read the group's settings before reaping, in case its last session goes now.
        const members = await sessions.list(group);
        const newest = members.sort((a, b) => b.createdAt - a.createdAt)[0];
        for (const id of await sessions.idle(group, sessionIdleTimeoutMs)) {
          await sessionService.delete(group, id).catch(() => undefined);
          logger.info({ group, id }, 'idle consumer session deleted');
          reaped += 1;
        }
        const maxAttempts = newest?.maxAttempts ?? this.#options.defaultMaxAttempts;
        const tps = await partitions.partitions(group);
        if (tps.length === 0) continue;
        const states = await partitions.states(group, tps, Date.now(), 1000, maxAttempts);
        let due = 0;
        for (let i = 0; i < tps.length; i += 1) {
          const state = states[i]!;
          due += state.due.length;
          if (state.dead.length === 0) continue;
          const tp = tps[i]!;
          await deadLetter.write(
            group,
            tp,
            state.dead,
            DeadLetterWriter.topicFor(tp.topic, newest?.deadLetterTopic ?? null),
          );
          deadLettered += state.dead.length;
        }
        committed += await committer.commit(group, tps);
        // Records that timed out are deliverable again: wake long-polls waiting elsewhere.
        if (due > 0 || deadLettered > 0) await partitions.wake(group);
      } catch (err) {
        logger.warn({ err, group }, 'sweeping a group failed; next pass retries');
      }
    }
    return { groups: groups.length, reaped, deadLettered, committed };
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.#running;
  }
}
