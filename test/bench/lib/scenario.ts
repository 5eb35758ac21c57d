import type { BenchStack } from './bench-stack.js';
import type { Cleanups } from './cleanups.js';
import type { GatewayProcess } from './gateway-process.js';

/** What every scenario gets from the runner. */
export interface BenchContext {
  readonly stack: BenchStack;
  readonly gateway: GatewayProcess;
  readonly cleanups: Cleanups;
  /** Progress output (stderr). */
  log(line: string): void;
}

/** One `npm run bench -- <name>` scenario. */
export interface Scenario {
  readonly name: string;
  readonly title: string;
  /** Markdown explaining what is measured, for docs/BENCHMARKS.md. */
  readonly description: string;
  /** Wants a schema registry: a private stack is then started with `--registry`. */
  readonly needsRegistry?: boolean;
  /** Runs the scenario; resolves with its results as markdown. */
  run(context: BenchContext): Promise<string>;
}
