/**
 * A FIFO of pending results that a writer drains in order while a reader keeps
 * adding to it; both wait on `changed()` instead of polling.
 */
export class OrderedResults<T> {
  #queue: Promise<T>[] = [];
  readonly #settled = new WeakSet<Promise<T>>();
  #added = 0;
  #closed = false;
  #waiters: (() => void)[] = [];

  /** Results added so far. */
  get added(): number {
    return this.#added;
  }

  /** Results added and not yet taken by the writer. */
  get outstanding(): number {
    return this.#queue.length;
  }

  get closed(): boolean {
    return this.#closed;
  }

  push(result: Promise<T>): void {
    // Attach a handler now so a rejection is never reported as unhandled before the writer reaches it.
    result.then(
      () => this.#settled.add(result),
      () => this.#settled.add(result),
    );
    this.#queue.push(result);
    this.#added += 1;
    this.#notify();
  }

  /** No more results will be added. */
  close(): void {
    this.#closed = true;
    this.#notify();
  }

  /** Whether the next result to take has already settled (so taking it will not wait). */
  headSettled(): boolean {
    const head = this.#queue[0];
    return head !== undefined && this.#settled.has(head);
  }

  /** Resolves on the next push, take or close. */
  changed(): Promise<void> {
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Yields results in the order they were added, each once it settles. */
  async *[Symbol.asyncIterator](): AsyncGenerator<T> {
    for (;;) {
      const head = this.#queue[0];
      if (head) {
        const value = await head;
        this.#queue.shift();
        this.#notify();
        yield value;
        continue;
      }
      if (this.#closed) return;
      await this.changed();
    }
  }

  #notify(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }
}
