import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { request } from 'undici';
import { REPO_ROOT } from '../../support/stack.js';
import type { Cleanups } from './cleanups.js';
import { pollUntil, settlesWithin } from './timing.js';

const run = promisify(execFile);

/** Compiles the gateway into dist/ (`tsc -p tsconfig.build.json`). */
export async function buildGateway(): Promise<void> {
  try {
    await run('npx', ['tsc', '-p', 'tsconfig.build.json'], {
      cwd: REPO_ROOT,
      maxBuffer: 10 * 1024 * 1024,
    });
  } catch (err) {
    const out = err as { stdout?: string; stderr?: string };
    throw new Error(`tsc -p tsconfig.build.json failed:\n${out.stdout ?? ''}${out.stderr ?? ''}`, {
      cause: err,
    });
  }
}

/** A loopback port that was free a moment ago. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The compiled gateway running as its own OS process. */
export interface GatewayProcess {
  readonly pid: number | undefined;
  readonly url: string;
  /** The last 200 lines it wrote (JSON logs at level warn and above, and stderr). */
  readonly logs: readonly string[];
  /** Lines written so far, including those no longer kept in `logs`. */
  linesWritten(): number;
  /** SIGTERM, then SIGKILL if it has not exited after `timeoutMs`; idempotent. */
  stop(timeoutMs?: number): Promise<void>;
}

/**
 * Starts `node dist/gateway/src/main.js` with a clean environment on a free
 * port and resolves once `GET /readyz` answers 200. Its stop is registered
 * with `cleanups` as soon as it is spawned.
 */
export async function startGateway(
  env: { readonly kafkaBrokers: string; readonly redisUrl: string },
  cleanups: Cleanups,
  extraEnv: Readonly<Record<string, string>> = {},
): Promise<GatewayProcess> {
  const port = await freePort();
  const proc = spawn(process.execPath, [join('dist', 'gateway', 'src', 'main.js')], {
    cwd: REPO_ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      KAFKA_BROKERS: env.kafkaBrokers,
      REDIS_URL: env.redisUrl,
      KGW_HTTP_HOST: '127.0.0.1',
      KGW_HTTP_PORT: String(port),
      KGW_GRPC_PORT: '0',
      KGW_LOG_LEVEL: 'warn',
      // One process unless a case asks for more: CPU and logs are read from this pid.
      KGW_PROCESSES: '1',
      ...extraEnv,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  let written = 0;
  const keep = (line: string): void => {
    written += 1;
    logs.push(line);
    if (logs.length > 200) logs.shift();
  };
  createInterface({ input: proc.stdout! }).on('line', keep);
  createInterface({ input: proc.stderr! }).on('line', keep);
  const exited = new Promise<void>((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) resolve();
    else proc.once('exit', () => resolve());
  });

  const url = `http://127.0.0.1:${port}`;
  let stopping: Promise<void> | undefined;
  const gateway: GatewayProcess = {
    pid: proc.pid,
    url,
    logs,
    linesWritten: () => written,
    stop(timeoutMs = 15_000) {
      stopping ??= stop(proc, exited, timeoutMs);
      return stopping;
    },
  };
  cleanups.add('stop the gateway', () => gateway.stop());
  try {
    await pollUntil(
      'gateway /readyz',
      async () => {
        if (proc.exitCode !== null || proc.signalCode !== null) {
          throw new Error(`gateway exited (${proc.exitCode ?? proc.signalCode})`);
        }
        const res = await request(`${url}/readyz`);
        await res.body.dump();
        return res.statusCode === 200;
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    );
  } catch (err) {
    await gateway.stop(5000);
    throw new Error(`gateway did not become ready:\n${logs.join('\n')}`, { cause: err });
  }
  return gateway;
}

async function stop(proc: ChildProcess, exited: Promise<void>, timeoutMs: number): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  proc.kill('SIGTERM');
  if (await settlesWithin(exited, timeoutMs)) return;
  proc.kill('SIGKILL');
  await exited;
}
