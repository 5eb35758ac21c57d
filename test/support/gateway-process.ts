import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { inject } from 'vitest';
import { REPO_ROOT } from './stack.js';

export interface LogLine {
  readonly level: string;
  readonly msg: string;
  readonly [field: string]: unknown;
}

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** A gateway started as its own OS process from the TypeScript sources. */
export interface GatewayProcess {
  readonly proc: ChildProcess;
  /** JSON log lines from stdout, as they arrive. */
  readonly logs: LogLine[];
  /** Everything written to stderr. */
  stderr(): string;
  readonly exited: Promise<Exit>;
  /** The base URL once it listens. */
  readonly url: string;
  /** Sends a signal and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<Exit>;
}

const running = new Set<ChildProcess>();

/** Kills whatever a test left running; call it in afterEach/afterAll. */
export async function killAllGateways(): Promise<void> {
  await Promise.all(
    [...running].map(
      (proc) =>
        new Promise<void>((resolve) => {
          proc.once('exit', () => resolve());
          proc.kill('SIGKILL');
        }),
    ),
  );
}

/**
 * Spawns `node --import tsx gateway/src/main.ts` with a clean environment: the
 * test stack's KAFKA_BROKERS/REDIS_URL, port 0, plus `env`. Resolves once the
 * gateway logs that it listens (or rejects with its output if it exits first).
 */
export async function spawnGateway(env: Record<string, string> = {}): Promise<GatewayProcess> {
  const child = spawnRaw(env);
  const listening = await Promise.race([
    waitForLog(child.logs, (line) => line.msg === 'gateway listening'),
    child.exited.then((exit) => {
      throw new Error(
        `gateway exited (${JSON.stringify(exit)}) before listening:\n${child.stderr()}`,
      );
    }),
  ]);
  return { ...child, url: `http://127.0.0.1:${String(listening.httpPort)}` };
}

/** Spawns the gateway without waiting for it to listen (for boot failures). */
export function spawnRaw(env: Record<string, string> = {}): Omit<GatewayProcess, 'url'> {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'gateway/src/main.ts'], {
    cwd: REPO_ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      KAFKA_BROKERS: inject('kafkaBrokers'),
      REDIS_URL: inject('redisUrl'),
      KGW_HTTP_HOST: '127.0.0.1',
      KGW_HTTP_PORT: '0',
      KGW_GRPC_PORT: '0',
      // One process unless a case asks for more: CPU and logs are read from this pid.
      KGW_PROCESSES: '1',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(proc);
  const logs: LogLine[] = [];
  let stderr = '';
  createInterface({ input: proc.stdout! }).on('line', (line) => {
    try {
      logs.push(JSON.parse(line) as LogLine);
    } catch {
      logs.push({ level: 'raw', msg: line });
    }
  });
  proc.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<Exit>((resolve) => {
    proc.once('exit', (code, signal) => {
      running.delete(proc);
      resolve({ code, signal });
    });
  });
  return {
    proc,
    logs,
    stderr: () => stderr,
    exited,
    stop: async (signal = 'SIGTERM') => {
      proc.kill(signal);
      return exited;
    },
  };
}

/** Resolves with the first log line (already seen or yet to come) matching `match`. */
export async function waitForLog(
  logs: LogLine[],
  match: (line: LogLine) => boolean,
  timeoutMs = 30_000,
): Promise<LogLine> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = logs.find(match);
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`no matching log line within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
