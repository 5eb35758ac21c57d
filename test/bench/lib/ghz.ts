import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { access, constants, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { LatencySummary } from './latency-samples.js';

const run = promisify(execFile);

const GHZ_MODULE = 'github.com/bojand/ghz/cmd/ghz@latest';
const INSTALL_TIMEOUT_MS = 240_000;

/** What one ghz run reported (`-O json`), reduced to what the bench compares. */
export interface GhzResult {
  /** Calls answered OK per second over the run (ghz's own `rps` counts errors too). */
  readonly okPerSec: number;
  readonly ok: number;
  readonly errors: number;
  /** Of OK calls only (ghz leaves errors out without `--count-errors`); ghz reports p10…p99, no max. */
  readonly latency: LatencySummary;
  readonly seconds: number;
  /** CPU ghz itself used while it ran, in % of one core; undefined off Linux. */
  readonly ghzCpuPercent: number | undefined;
  /** Error messages and how often each occurred. */
  readonly errorReasons: ReadonlyMap<string, number>;
}

/** How to run one ghz load. */
export interface GhzLoad {
  readonly address: string;
  /** A .proto file ghz can parse (see `ghzCompatibleProto`). */
  readonly protoFile: string;
  /** `package.Service/Method`. */
  readonly call: string;
  /** The request as proto3 JSON (bytes as base64), written to a file for `-D`. */
  readonly data: object;
  readonly concurrency: number;
  readonly durationSeconds: number;
}

async function executable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * `$(go env GOPATH)/bin/ghz`, installed with `go install` when missing.
 * Resolves undefined (with the reason logged) when Go or the install fails.
 */
export async function findOrInstallGhz(log: (line: string) => void): Promise<string | undefined> {
  let gopath: string;
  try {
    gopath = (await run('go', ['env', 'GOPATH'])).stdout.trim();
  } catch (err) {
    log(`ghz: no Go toolchain (${String(err)})`);
    return undefined;
  }
  const ghz = join(gopath.split(':')[0] ?? gopath, 'bin', 'ghz');
  if (await executable(ghz)) return ghz;
  log(`ghz: not found at ${ghz}; go install ${GHZ_MODULE}`);
  try {
    await run('go', ['install', GHZ_MODULE], { timeout: INSTALL_TIMEOUT_MS });
  } catch (err) {
    log(`ghz: go install failed: ${String(err).slice(0, 300)}`);
    return undefined;
  }
  return (await executable(ghz)) ? ghz : undefined;
}

/** The ghz version line, e.g. from `go version -m` (ghz built by go install says "dev"). */
export async function ghzVersion(ghz: string): Promise<string> {
  try {
    const { stdout } = await run('go', ['version', '-m', ghz]);
    return /\bmod\s+github\.com\/bojand\/ghz\s+(\S+)/.exec(stdout)?.[1] ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/**
 * The proto with every proto3 `optional` label removed, written to `dir`:
 * ghz's bundled parser (ghz 0.93, protoreflect 1.5) rejects proto3 optional
 * fields. The wire format is the same; only field presence tracking differs,
 * and the bench sets every field it sends.
 */
export async function ghzCompatibleProto(protoFile: string, dir: string): Promise<string> {
  const text = await readFile(protoFile, 'utf8');
  const path = join(dir, 'gateway-for-ghz.proto');
  await writeFile(path, text.replace(/^(\s*)optional\s+/gm, '$1'));
  return path;
}

/** A scratch directory for ghz inputs and outputs; remove it with `rm`. */
export function ghzScratchDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'kgw-bench-ghz-'));
}

export async function removeScratchDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

interface GhzJson {
  readonly count: number;
  /** Nanoseconds. */
  readonly total: number;
  readonly slowest?: number;
  readonly errorDistribution: Record<string, number> | null;
  readonly statusCodeDistribution: Record<string, number> | null;
  readonly latencyDistribution: readonly { percentage: number; latency: number }[] | null;
}

/**
 * Runs `ghz --insecure -c <concurrency> -z <duration>s --duration-stop=wait -O json`
 * against the address and parses its report. `--duration-stop=wait` lets calls
 * in flight at the end finish instead of counting them as cancelled.
 */
export async function runGhz(ghz: string, load: GhzLoad, scratchDir: string): Promise<GhzResult> {
  const dataFile = join(scratchDir, 'data.json');
  const outFile = join(scratchDir, 'report.json');
  await writeFile(dataFile, JSON.stringify(load.data));
  const childCpuBefore = childrenCpuSeconds();
  const startedAt = performance.now();
  try {
    await run(
      ghz,
      [
        '--insecure',
        '--proto',
        load.protoFile,
        '--call',
        load.call,
        '-D',
        dataFile,
        '-c',
        String(load.concurrency),
        '-z',
        `${load.durationSeconds}s`,
        '--duration-stop=wait',
        '-O',
        'json',
        '-o',
        outFile,
        load.address,
      ],
      { timeout: (load.durationSeconds + 60) * 1000, maxBuffer: 10 * 1024 * 1024 },
    );
  } catch (err) {
    const out = err as { stderr?: string };
    throw new Error(`ghz failed: ${out.stderr ?? String(err)}`, { cause: err });
  }
  const wallSeconds = (performance.now() - startedAt) / 1000;
  const childCpuAfter = childrenCpuSeconds();
  const ghzCpuPercent =
    childCpuBefore === undefined || childCpuAfter === undefined
      ? undefined
      : ((childCpuAfter - childCpuBefore) / wallSeconds) * 100;
  const report = JSON.parse(await readFile(outFile, 'utf8')) as GhzJson;
  await rm(outFile, { force: true });
  return { ...summarize(report), ghzCpuPercent };
}

/** CPU seconds of this process's finished, waited-for children (cutime + cstime), from /proc. */
function childrenCpuSeconds(): number | undefined {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    // Fields after the parenthesised command name start at field 3; cutime and cstime are 16 and 17.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[13]) + Number(fields[14])) / 100; // USER_HZ
  } catch {
    return undefined;
  }
}

function summarize(report: GhzJson): Omit<GhzResult, 'ghzCpuPercent'> {
  const seconds = report.total / 1e9;
  const ok = report.statusCodeDistribution?.OK ?? 0;
  const percentile = (p: number): number =>
    (report.latencyDistribution?.find((d) => d.percentage === p)?.latency ?? NaN) / 1e6;
  return {
    okPerSec: seconds > 0 ? ok / seconds : 0,
    ok,
    errors: report.count - ok,
    latency: {
      count: ok,
      p50: percentile(50),
      p99: percentile(99),
      max: (report.slowest ?? NaN) / 1e6,
    },
    seconds,
    errorReasons: new Map(Object.entries(report.errorDistribution ?? {})),
  };
}
