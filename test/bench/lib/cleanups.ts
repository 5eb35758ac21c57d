interface Step {
  readonly name: string;
  readonly undo: () => Promise<void>;
}

/**
 * What a run has to undo (stop the gateway, delete topics, stop the stack),
 * registered as soon as it is started and undone newest first, exactly once,
 * whether the run ends normally, fails or is interrupted.
 */
export class Cleanups {
  readonly #steps: Step[] = [];
  #running: Promise<void> | undefined;

  add(name: string, undo: () => Promise<void>): void {
    this.#steps.push({ name, undo });
  }

  /** Runs every step once, newest first; a failing step is reported and the rest still run. */
  run(log: (line: string) => void): Promise<void> {
    this.#running ??= (async () => {
      for (let step = this.#steps.pop(); step; step = this.#steps.pop()) {
        try {
          await step.undo();
        } catch (err) {
          log(`cleanup '${step.name}' failed: ${String(err)}`);
        }
      }
    })();
    return this.#running;
  }
}
