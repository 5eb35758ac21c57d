import type { Logger } from '../../observability/logger.js';
import type { PartitionLedger } from '../../store/partition-ledger.js';
import type { SessionStore } from '../../store/session-store.js';
import { DeadLetterWriter } from '../dead-letter.js';
import type { GroupCommitter } from '../group-committer.js';
import type { SessionService } from '../session-service.js';

export interface GroupMaintenanceDeps {
  readonly sessions: SessionStore;
  readonly sessionService: SessionService;
  readonly ledger: PartitionLedger;
  readonly deadLetter: DeadLetterWriter;
  readonly committer: GroupCommitter;
  readonly logger: Logger;
}

export interface MaintenanceReport {
  readonly reaped: number;
  readonly deadLettered: number;
  readonly committed: number;
  /** Nothing out, nothing left to commit: the worker may stop visiting until the group is active. */
  readonly quiet: boolean;
}

/**
 * A group's duties for when nobody polls it (the worker runs them): delete
 * idle sessions (their records and leases go back), bring back expired
 * deliveries and wake the polls waiting for them, dead-letter what used all
 * its attempts, and commit what was resolved.
 */
export class GroupMaintenance {
  readonly #deps: GroupMaintenanceDeps;

  constructor(deps: GroupMaintenanceDeps) {
    this.#deps = deps;
  }

  async run(
    group: string,
    options: { readonly sessionIdleTimeoutMs: number; readonly defaultMaxAttempts: number },
  ): Promise<MaintenanceReport> {
    const { sessions, sessionService, ledger, deadLetter, committer, logger } = this.#deps;
    // Read the group's settings before reaping, in case its last session goes now.
    const members = await sessions.list(group);
    const newest = members.sort((a, b) => b.createdAt - a.createdAt)[0];
    let reaped = 0;
    for (const id of await sessions.idle(group, options.sessionIdleTimeoutMs)) {
      await sessionService.delete(group, id).catch(() => undefined);
      logger.info({ group, id }, 'idle consumer session deleted');
      reaped += 1;
    }
    const maxAttempts = newest?.maxAttempts ?? options.defaultMaxAttempts;
    const tps = await ledger.partitions(group);
    if (tps.length === 0) return { reaped, deadLettered: 0, committed: 0, quiet: true };
    const states = await ledger.states(group, tps, Date.now(), 1000, maxAttempts);
    let deadLettered = 0;
    const due = tps
      .map((tp, i) => ({ tp, count: states[i]!.due.length }))
      .filter((w) => w.count > 0);
    for (let i = 0; i < tps.length; i += 1) {
      if (states[i]!.dead === 0) continue;
      const tp = tps[i]!;
      deadLettered += await deadLetter.buryDue(
        group,
        tp,
        DeadLetterWriter.topicFor(tp.topic, newest?.deadLetterTopic ?? null),
      );
    }
    const committed = await committer.commit(group, tps);
    // Records that timed out are deliverable again: wake long-polls waiting elsewhere.
    await ledger.wakePartitions(group, due, 0);
    const quiet = committed === 0 && states.every((s) => s.unresolved === 0);
    return { reaped, deadLettered, committed, quiet };
  }
}
