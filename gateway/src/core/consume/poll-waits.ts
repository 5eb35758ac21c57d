import type { TopicPartition } from '../../store/partition-ledger.js';
import { WakeChannel } from '../../store/wake-channel.js';
import type { TailWatcher } from '../tail-watcher.js';

/**
 * How a long-poll waits between attempts. It listens before the attempt reads
 * state, so a wake published in between is not lost (the next wait returns at
 * once); it wakes on the group's channel (in shared mode, of the group's
 * membership messages only those naming its own session), on its partitions' channels (a nack
 * or a freed window, possibly for a later time), on new records in Kafka
 * (TailWatcher), at the earliest deadline it saw, at its own timeout, or when
 * the client goes away.
 */
export class PollWait {
  readonly #stop: () => void;
  readonly #tail: TailWatcher;
  readonly #takes: 'all' | 'some';
  readonly ready: Promise<void>;
  /** Some channel was newly subscribed: wakes published before `ready` were not heard. */
  readonly fresh: boolean;
  #woken = false;
  #timer: NodeJS.Timeout | undefined;
  #laterAt = Infinity;
  #later: NodeJS.Timeout | undefined;
  #resolve: (() => void) | undefined;

  constructor(
    wake: WakeChannel,
    tail: TailWatcher,
    group: string,
    tps: readonly TopicPartition[],
    /** 'some': one of interchangeable waiters (shared mode), woken only as many as there are records. */
    takes: 'all' | 'some',
    /** The session polling: membership messages naming it wake it in shared mode too. */
    member: string,
  ) {
    this.#tail = tail;
    this.#takes = takes;
    const listening = wake.listen(
      WakeChannel.channels(group, tps),
      (at) => this.#onWake(at),
      takes,
      member,
    );
    this.#stop = listening.stop;
    this.ready = listening.ready;
    this.fresh = listening.fresh;
  }

  /** Forget wakes seen so far: the attempt about to run reads state after this point. */
  reset(): void {
    this.#woken = false;
  }

  /** Waits until `until`, a wake (or one since reset()), new records past `positions`, or abort. */
  async until(
    until: number,
    positions: ReadonlyArray<TopicPartition & { after: number }>,
    signal?: AbortSignal,
  ): Promise<void> {
    if (this.#woken || signal?.aborted) return;
    await new Promise<void>((resolve) => {
      const stopTail = this.#tail.watch(positions, () => this.#fire(), this.#takes);
      const onAbort = (): void => this.#fire();
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#resolve = () => {
        clearTimeout(this.#timer);
        stopTail();
        signal?.removeEventListener('abort', onAbort);
        this.#resolve = undefined;
        resolve();
      };
      this.#timer = setTimeout(() => this.#fire(), Math.max(0, until - Date.now()));
    });
  }

  /** Ends the wait now (shutdown). */
  fire(): void {
    this.#fire();
  }

  close(): void {
    clearTimeout(this.#timer);
    clearTimeout(this.#later);
    this.#stop();
  }

  #fire(): void {
    this.#woken = true;
    this.#resolve?.();
  }

  #onWake(at: number): void {
    const delay = at - Date.now();
    if (delay <= 0) return this.#fire();
    // Deliverable later (a delayed nack): one timer for the earliest such time.
    if (at >= this.#laterAt) return;
    this.#laterAt = at;
    clearTimeout(this.#later);
    this.#later = setTimeout(() => {
      this.#laterAt = Infinity;
      this.#fire();
    }, delay);
  }
}
