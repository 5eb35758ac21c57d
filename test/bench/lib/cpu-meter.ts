import { readFileSync } from 'node:fs';

/** Linux clock ticks per second for /proc times (USER_HZ, 100 on every mainstream kernel). */
const TICKS_PER_SECOND = 100;

/** CPU used during a window, in percent of one core (200 = both cores of a 2-core machine). */
export interface CpuReport {
  readonly gateway: number | undefined;
  readonly generator: number;
  readonly kafka: number | undefined;
  /** Every process on the machine, from /proc/stat. */
  readonly machine: number | undefined;
}

interface Snapshot {
  readonly at: number;
  readonly gateway: number | undefined;
  readonly generator: number;
  readonly kafka: number | undefined;
  readonly machine: number | undefined;
}

/** Seconds of CPU (user + system) a process used so far, or undefined if unreadable. */
export function processSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** Pids of a process's children (Linux), or none if unreadable. */
export function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter((s) => s !== '')
      .map(Number);
  } catch {
    return [];
  }
}

/**
 * Seconds of CPU a process and its living descendants used so far: a gateway
 * under a supervisor (KGW_PROCESSES > 1) is the supervisor plus its processes.
 */
export function treeSeconds(pid: number | undefined): number | undefined {
  const own = processSeconds(pid);
  if (pid === undefined || own === undefined) return own;
  return childrenOf(pid).reduce((sum, child) => sum + (treeSeconds(child) ?? 0), own);
}

/** Busy seconds of all CPUs together since boot, or undefined off Linux. */
function machineSeconds(): number | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
    const ticks = line.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal: busy = all but idle and iowait.
    const busy = ticks.slice(0, 8).reduce((sum, t, i) => (i === 3 || i === 4 ? sum : sum + t), 0);
    return busy / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** Measures the CPU the gateway, this process, Kafka and the whole machine use over a window. */
export class CpuMeter {
  readonly #pids: { readonly gateway?: number | undefined; readonly kafka?: number | undefined };
  #start: Snapshot | undefined;

  constructor(pids: {
    readonly gateway?: number | undefined;
    readonly kafka?: number | undefined;
  }) {
    this.#pids = pids;
  }

  /** Marks the start of the window. */
  start(): void {
    this.#start = this.#snapshot();
  }

  /** Ends the window and reports usage over it. */
  stop(): CpuReport {
    const end = this.#snapshot();
    const start = this.#start ?? end;
    const seconds = Math.max(1e-9, (end.at - start.at) / 1000);
    const pct = (a: number | undefined, b: number | undefined): number | undefined =>
      a === undefined || b === undefined ? undefined : ((b - a) / seconds) * 100;
    return {
      gateway: pct(start.gateway, end.gateway),
      generator: pct(start.generator, end.generator)!,
      kafka: pct(start.kafka, end.kafka),
      machine: pct(start.machine, end.machine),
    };
  }

  #snapshot(): Snapshot {
    const self = process.cpuUsage();
    return {
      at: performance.now(),
      gateway: treeSeconds(this.#pids.gateway),
      generator: (self.user + self.system) / 1e6,
      kafka: processSeconds(this.#pids.kafka),
      machine: machineSeconds(),
    };
  }
}
