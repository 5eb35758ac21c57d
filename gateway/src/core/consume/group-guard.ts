import type { Logger } from '../../observability/logger.js';
import type { SessionStore } from '../../store/session-store.js';

/** What the guard needs of Kafka: who is a member of the group. */
export interface GroupDescriber {
  describe(
    group: string,
  ): Promise<{ readonly state: string; readonly members: readonly unknown[] }>;
}

/**
 * Native Kafka consumers in a group the gateway serves would read the same
 * records: before serving a group, and again every `recheckMs`, the guard
 * describes it; members there mark the group in use (KGW_GROUP_IN_USE, 409)
 * until they are gone. A failed describe does not block polls (commits would
 * still be rejected by Kafka and mark the group).
 */
export class GroupGuard {
  readonly #kafka: GroupDescriber;
  readonly #sessions: SessionStore;
  readonly #logger: Logger;
  readonly #recheckMs: number;
  readonly #checked = new Map<string, { at: number; run: Promise<boolean> }>();

  constructor(kafka: GroupDescriber, sessions: SessionStore, logger: Logger, recheckMs: number) {
    this.#kafka = kafka;
    this.#sessions = sessions;
    this.#logger = logger;
    this.#recheckMs = recheckMs;
  }

  /** Whether native members were seen in the group's latest description (at most recheckMs old). */
  check(group: string): Promise<boolean> {
    const seen = this.#checked.get(group);
    if (seen && Date.now() - seen.at < this.#recheckMs) return seen.run;
    const run = this.#describe(group);
    this.#checked.set(group, { at: Date.now(), run });
    if (this.#checked.size > 10_000) this.#checked.delete(this.#checked.keys().next().value!);
    return run;
  }

  async #describe(group: string): Promise<boolean> {
    try {
      const { members } = await this.#kafka.describe(group);
      if (members.length === 0) return false;
      await this.#sessions.markGroupInUse(group, this.#recheckMs * 2);
      return true;
    } catch (err) {
      this.#checked.delete(group);
      this.#logger.debug({ err, group }, 'describing the group failed; checked again next poll');
      return false;
    }
  }
}
