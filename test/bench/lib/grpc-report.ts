import type { ThroughputResult } from './closed-loop.js';
import type { CpuReport } from './cpu-meter.js';
import type { LatencySummary } from './latency-samples.js';
import {
  formatCount,
  formatMs,
  formatPercent,
  markdownTable,
  type Column,
} from './markdown-table.js';
import type { OpenLoopResult } from './open-loop.js';

/** CPU (% of one core) outside Kafka, the gateway and this process above which a window is flagged. */
const NOISY_CPU_PERCENT = 25;
/** The target of the gRPC streaming produce, as a share of direct records/s. */
export const GRPC_STREAM_TARGET = 0.6;

/** One streaming produce case: max throughput, then open-loop latency at half of it. */
export interface StreamCaseResult {
  readonly id: 'direct' | 'v3' | 'grpc';
  readonly label: string;
  readonly load: string;
  readonly throughput: ThroughputResult;
  readonly latency: OpenLoopResult | undefined;
}

/** One unary produce case: a fixed concurrency for a fixed time. */
export interface UnaryCaseResult {
  readonly label: string;
  readonly generator: string;
  readonly recordsPerRequest: number;
  readonly requestsPerSec: number;
  readonly latency: LatencySummary;
  readonly failedRecords: number;
  readonly reasons: ReadonlyMap<string, number>;
  /** Records found in the case's fresh topic afterwards vs records the OK answers promised. */
  readonly topicCheck?: { readonly expected: number; readonly found: number };
  readonly cpu: CpuReport | undefined;
}

/** One drain of the pre-filled topic. */
export interface DrainCaseResult {
  readonly label: string;
  readonly method: string;
  readonly records: number;
  readonly total: number;
  readonly seconds: number;
  readonly complete: boolean;
  readonly duplicates: number | undefined;
  readonly fenced: number | undefined;
  /** From sending an ack to its answer; undefined for the direct drain. */
  readonly ackMs: LatencySummary | undefined;
  /** Whether Kafka's committed offsets equal what the client confirmed; undefined: not checked. */
  readonly committedMatches: boolean | undefined;
  readonly cpu: CpuReport | undefined;
}

export interface GrpcReport {
  readonly valueBytes: number;
  readonly partitions: number;
  readonly kafka: string;
  readonly stream: readonly StreamCaseResult[];
  readonly streamWindow: { readonly warmupMs: number; readonly windowMs: number };
  readonly unary: readonly UnaryCaseResult[];
  readonly unaryWindow: { readonly concurrency: number; readonly seconds: number };
  readonly drains: readonly DrainCaseResult[];
  readonly notes: readonly string[];
  readonly gatewayLines: readonly string[];
}

/** The gRPC results as markdown: three result tables, CPU, targets, notes. */
export function renderGrpcReport(report: GrpcReport): string {
  const direct = report.stream.find((c) => c.id === 'direct')?.throughput.recordsPerSec;
  const vsDirect = (recordsPerSec: number): string =>
    formatPercent(direct ? recordsPerSec / direct : undefined);
  const grpc = report.stream.find((c) => c.id === 'grpc');
  const grpcRatio = grpc && direct ? grpc.throughput.recordsPerSec / direct : undefined;
  const directDrain = report.drains[0];
  const drainRate = (d: DrainCaseResult): number => (d.seconds > 0 ? d.records / d.seconds : 0);

  const sections = [
    `${report.valueBytes}-byte values, ${report.partitions} partitions, Kafka (${report.kafka}); Kafka, Redis, the gateway and the load generator share the machine's 2 cores.`,
    `**1. Streaming produce** (${report.streamWindow.warmupMs / 1000} s warm-up + ${report.streamWindow.windowMs / 1000} s window per phase; latency open-loop at half of each case's own max, from intended send time to the record's result):`,
    markdownTable(STREAM_COLUMNS, report.stream.map(streamRow(vsDirect))),
    `**2. Unary produce** (${report.unaryWindow.concurrency} requests in flight for ${report.unaryWindow.seconds} s; latency per request at that concurrency, closed-loop, as ghz reports it):`,
    markdownTable(UNARY_COLUMNS, report.unary.map(unaryRow(vsDirect))),
    '**3. Consume drain** of the pre-filled topic (each case in its own group; timed from the first read to the confirmation of the last record):',
    markdownTable(
      DRAIN_COLUMNS,
      report.drains.map((d) => [
        d.label,
        d.method,
        `${formatCount(d.records)} / ${formatCount(d.total)}${d.complete ? '' : ' (capped)'}`,
        d.seconds.toFixed(1),
        formatCount(drainRate(d)),
        formatPercent(directDrain ? drainRate(d) / drainRate(directDrain) : undefined),
        d.ackMs ? `${formatMs(d.ackMs.p50)} / ${formatMs(d.ackMs.p99)}` : 'n/a',
        d.duplicates === undefined ? 'n/a' : formatCount(d.duplicates),
        d.fenced === undefined ? 'n/a' : formatCount(d.fenced),
        d.committedMatches === undefined ? 'n/a' : d.committedMatches ? 'yes' : '**no**',
        formatCpu(otherCpu(d.cpu)),
      ]),
    ),
    `CPU during each measured window, in % of one core (200% = both cores); "gateway us/record" is gateway CPU time per record written or drained (steadier than records/s). In the ghz rows, "load generator" is the CPU of ghz itself (a child process of the bench):`,
    markdownTable(CPU_COLUMNS, cpuRows(report)),
    `Target:\n\n- gRPC streaming produce >= ${formatPercent(GRPC_STREAM_TARGET)} of direct node-rdkafka records/s: **${grpcRatio !== undefined && grpcRatio >= GRPC_STREAM_TARGET ? 'met' : 'not met'}** (${formatPercent(grpcRatio)})`,
    `Notes:\n\n${notes(report).join('\n')}`,
  ];
  return sections.join('\n\n');
}

const STREAM_COLUMNS: Column[] = [
  { header: 'case' },
  { header: 'max records/s', align: 'right' },
  { header: 'vs direct', align: 'right' },
  { header: 'offered records/s', align: 'right' },
  { header: 'achieved records/s', align: 'right' },
  { header: 'p50 ms', align: 'right' },
  { header: 'p99 ms', align: 'right' },
  { header: 'max ms', align: 'right' },
  { header: 'failed / 429', align: 'right' },
  { header: 'other CPU (max / lat)', align: 'right' },
];

const UNARY_COLUMNS: Column[] = [
  { header: 'case' },
  { header: 'load generator' },
  { header: 'requests/s', align: 'right' },
  { header: 'records/s', align: 'right' },
  { header: 'vs direct', align: 'right' },
  { header: 'p50 ms', align: 'right' },
  { header: 'p99 ms', align: 'right' },
  { header: 'failed records', align: 'right' },
  { header: 'records in topic', align: 'right' },
  { header: 'other CPU', align: 'right' },
];

const DRAIN_COLUMNS: Column[] = [
  { header: 'case' },
  { header: 'method' },
  { header: 'records', align: 'right' },
  { header: 'seconds', align: 'right' },
  { header: 'records/s', align: 'right' },
  { header: 'vs direct', align: 'right' },
  { header: 'ack p50 / p99 ms', align: 'right' },
  { header: 'duplicates', align: 'right' },
  { header: 'fenced', align: 'right' },
  { header: 'committed = acked', align: 'right' },
  { header: 'other CPU', align: 'right' },
];

const CPU_COLUMNS: Column[] = [
  { header: 'case' },
  { header: 'window' },
  { header: 'gateway', align: 'right' },
  { header: 'load generator', align: 'right' },
  { header: 'kafka', align: 'right' },
  { header: 'everything else', align: 'right' },
  { header: 'whole machine', align: 'right' },
  { header: 'gateway us/record', align: 'right' },
];

function streamRow(vsDirect: (recordsPerSec: number) => string) {
  return (c: StreamCaseResult): string[] => {
    const l = c.latency;
    const failed = c.throughput.failures.failed + (l?.failures.failed ?? 0);
    const rejected = c.throughput.failures.rejected + (l?.failures.rejected ?? 0);
    return [
      c.label,
      formatCount(c.throughput.recordsPerSec),
      vsDirect(c.throughput.recordsPerSec),
      l ? formatCount(l.offeredRecordsPerSec) : 'n/a',
      l ? formatCount(l.achievedRecordsPerSec) : 'n/a',
      l ? formatMs(l.latency.p50) : 'n/a',
      l ? formatMs(l.latency.p99) : 'n/a',
      l ? formatMs(l.latency.max) : 'n/a',
      `${formatCount(failed)} / ${formatCount(rejected)}`,
      `${formatCpu(otherCpu(c.throughput.cpu))} / ${formatCpu(otherCpu(l?.cpu))}`,
    ];
  };
}

function unaryRow(vsDirect: (recordsPerSec: number) => string) {
  return (u: UnaryCaseResult): string[] => {
    const recordsPerSec = u.requestsPerSec * u.recordsPerRequest;
    const check = u.topicCheck;
    return [
      u.label,
      u.generator,
      formatCount(u.requestsPerSec),
      formatCount(recordsPerSec),
      vsDirect(recordsPerSec),
      formatMs(u.latency.p50),
      formatMs(u.latency.p99),
      formatCount(u.failedRecords),
      check
        ? `${formatCount(check.found)}${check.found >= check.expected ? '' : ` (**expected ${formatCount(check.expected)}**)`}`
        : 'n/a',
      formatCpu(otherCpu(u.cpu)),
    ];
  };
}

function cpuRows(report: GrpcReport): string[][] {
  const rows: string[][] = [];
  for (const c of report.stream) {
    rows.push(cpuRow(c.label, 'max throughput', c.throughput.cpu, c.throughput.recordsPerSec));
    rows.push(cpuRow(c.label, 'latency', c.latency?.cpu, c.latency?.achievedRecordsPerSec));
  }
  for (const u of report.unary) {
    rows.push(cpuRow(u.label, 'unary', u.cpu, u.requestsPerSec * u.recordsPerRequest));
  }
  for (const d of report.drains) {
    rows.push(cpuRow(d.label, 'drain', d.cpu, d.seconds > 0 ? d.records / d.seconds : 0));
  }
  return rows;
}

function cpuRow(
  label: string,
  window: string,
  cpu: CpuReport | undefined,
  recordsPerSec: number | undefined,
): string[] {
  if (!cpu) return [label, window, 'n/a', 'n/a', 'n/a', 'n/a', 'n/a', 'n/a'];
  const perRecord =
    cpu.gateway === undefined || !recordsPerSec ? NaN : (cpu.gateway / 100 / recordsPerSec) * 1e6;
  return [
    label,
    window,
    formatCpu(cpu.gateway),
    formatCpu(cpu.generator),
    formatCpu(cpu.kafka),
    formatCpu(otherCpu(cpu)),
    formatCpu(cpu.machine),
    Number.isFinite(perRecord) ? perRecord.toFixed(1) : 'n/a',
  ];
}

/** CPU of processes this run does not own (and unattributed kernel time), in % of one core. */
function otherCpu(cpu: CpuReport | undefined): number | undefined {
  if (cpu?.machine === undefined) return undefined;
  return Math.max(0, cpu.machine - (cpu.gateway ?? 0) - cpu.generator - (cpu.kafka ?? 0));
}

function formatCpu(value: number | undefined): string {
  return value === undefined || !Number.isFinite(value) ? 'n/a' : `${Math.round(value)}%`;
}

function notes(report: GrpcReport): string[] {
  const lines = report.stream.map((c) => `- ${c.label}: max throughput with ${c.load}.`);
  const windows: [string, CpuReport | undefined][] = [
    ...report.stream.flatMap((c): [string, CpuReport | undefined][] => [
      [`${c.label} max throughput`, c.throughput.cpu],
      [`${c.label} latency`, c.latency?.cpu],
    ]),
    ...report.unary.map((u): [string, CpuReport | undefined] => [u.label, u.cpu]),
    ...report.drains.map((d): [string, CpuReport | undefined] => [`${d.label} drain`, d.cpu]),
  ];
  const noisy = windows
    .filter(([, cpu]) => (otherCpu(cpu) ?? 0) >= NOISY_CPU_PERCENT)
    .map(([label]) => label);
  lines.push(
    noisy.length === 0
      ? `- No window lost ${NOISY_CPU_PERCENT}% of a core or more to other processes ("other CPU").`
      : `- **Noisy windows** (other processes or the kernel took ${NOISY_CPU_PERCENT}% of a core or more, see "other CPU"; their records/s are too low): ${noisy.join('; ')}.`,
  );
  for (const c of report.stream) {
    if (c.latency) {
      lines.push(
        `- ${c.label}: generator send lag mean ${formatMs(c.latency.sendLagMeanMs)} ms, max ${formatMs(c.latency.sendLagMaxMs)} ms.`,
      );
    }
    const reasons = new Map<string, number>();
    for (const tally of [c.throughput.failures, c.latency?.failures]) {
      for (const [reason, count] of tally?.reasons ?? []) {
        reasons.set(reason, (reasons.get(reason) ?? 0) + count);
      }
    }
    for (const [reason, count] of reasons) {
      lines.push(`- ${c.label}: ${formatCount(count)} records not written: \`${reason}\``);
    }
    const unanswered = c.throughput.unanswered + (c.latency?.unanswered ?? 0);
    if (unanswered > 0) lines.push(`- ${c.label}: ${formatCount(unanswered)} sends unanswered.`);
  }
  for (const u of report.unary) {
    for (const [reason, count] of u.reasons) {
      lines.push(`- ${u.label}: ${formatCount(count)} × \`${reason.slice(0, 200)}\``);
    }
  }
  lines.push(...report.notes.map((note) => `- ${note}`));
  for (const line of report.gatewayLines) {
    lines.push(`- gateway logged \`${line.slice(0, 200)}\``);
  }
  return lines;
}
