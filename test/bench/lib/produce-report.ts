import type { ThroughputResult } from './closed-loop.js';
import type { CpuReport } from './cpu-meter.js';
import {
  formatCount,
  formatMs,
  formatPercent,
  markdownTable,
  type Column,
} from './markdown-table.js';
import type { OpenLoopResult } from './open-loop.js';

/** CPU (% of one core) outside Kafka, the gateway and the generator above which a window is flagged. */
export const NOISY_CPU_PERCENT = 25;

/** What one produce case measured. */
export interface ProduceCaseResult {
  /** 'a' is the direct baseline every other case is compared with; 'e' (avro) is also compared with 'c' (binary). */
  readonly id: 'a' | 'b' | 'c' | 'd' | 'e';
  readonly label: string;
  /** How the max-throughput phase loaded it, in words. */
  readonly load: string;
  readonly throughput: ThroughputResult;
  /** Undefined when max throughput was zero, so there was no rate to offer. */
  readonly latency: OpenLoopResult | undefined;
  /** Lines the gateway logged (warn and above) while this case ran. */
  readonly gatewayLines: readonly string[];
}

/** The run's settings, for the text around the tables. */
export interface ProduceReportSettings {
  readonly warmupMs: number;
  readonly windowMs: number;
  readonly valueBytes: number;
  readonly partitions: number;
  readonly drainTimeoutMs: number;
  /** Where Kafka came from, in words. */
  readonly kafka: string;
  /** Method notes specific to this run's set-up. */
  readonly notes: readonly string[];
}

/** The produce results as markdown: results table, CPU table, targets, notes. */
export function renderProduceReport(
  results: readonly ProduceCaseResult[],
  settings: ProduceReportSettings,
): string {
  const direct = results.find((r) => r.id === 'a');
  const ratio = (r: ProduceCaseResult | undefined): number | undefined =>
    r && direct && direct.throughput.recordsPerSec > 0
      ? r.throughput.recordsPerSec / direct.throughput.recordsPerSec
      : undefined;

  const mainColumns: Column[] = [
    { header: 'scenario' },
    { header: 'max records/s', align: 'right' },
    { header: 'vs (a)', align: 'right' },
    { header: 'offered records/s (1/2 max)', align: 'right' },
    { header: 'achieved records/s', align: 'right' },
    { header: 'p50 ms', align: 'right' },
    { header: 'p99 ms', align: 'right' },
    { header: 'max ms', align: 'right' },
    { header: 'failed / 429', align: 'right' },
    { header: 'other CPU (max / lat)', align: 'right' },
  ];
  const mainRows = results.map((r) => {
    const l = r.latency;
    const failed = r.throughput.failures.failed + (l?.failures.failed ?? 0);
    const rejected = r.throughput.failures.rejected + (l?.failures.rejected ?? 0);
    return [
      r.label,
      formatCount(r.throughput.recordsPerSec),
      formatPercent(ratio(r)),
      l ? formatCount(l.offeredRecordsPerSec) : 'n/a',
      l ? formatCount(l.achievedRecordsPerSec) : 'n/a',
      l ? formatMs(l.latency.p50) : 'n/a',
      l ? formatMs(l.latency.p99) : 'n/a',
      l ? formatMs(l.latency.max) : 'n/a',
      `${formatCount(failed)} / ${formatCount(rejected)}`,
      `${formatCpu(otherCpu(r.throughput.cpu))} / ${formatCpu(otherCpu(l?.cpu))}`,
    ];
  });

  const cpuColumns: Column[] = [
    { header: 'scenario' },
    { header: 'window' },
    { header: 'gateway', align: 'right' },
    { header: 'load generator', align: 'right' },
    { header: 'kafka', align: 'right' },
    { header: 'everything else', align: 'right' },
    { header: 'whole machine', align: 'right' },
    { header: 'producer CPU us/record', align: 'right' },
  ];
  const cpuRows = results.flatMap((r) => [
    cpuRow(r, 'max throughput', r.throughput.cpu, r.throughput.recordsPerSec),
    cpuRow(r, 'latency', r.latency?.cpu, r.latency?.achievedRecordsPerSec),
  ]);

  const b = results.find((r) => r.id === 'b');
  const targets = [
    throughputTarget(
      results.find((r) => r.id === 'c'),
      ratio,
    ),
    throughputTarget(
      results.find((r) => r.id === 'd'),
      ratio,
    ),
    b?.latency
      ? `- (b) p99 < 20 ms at half its max rate: **${b.latency.latency.p99 < 20 ? 'met' : 'not met'}** (p99 ${formatMs(b.latency.latency.p99)} ms at ${formatCount(b.latency.offeredRecordsPerSec)} records/s)`
      : '- (b) p99 < 20 ms at half its max rate: **not measured**',
  ];

  return [
    `${settings.warmupMs / 1000} s warm-up + ${settings.windowMs / 1000} s window per phase; ${settings.valueBytes}-byte values; ${settings.partitions} partitions; Kafka (${settings.kafka}), the gateway and the load generator share the machine's 2 cores. Latency is measured from each send's intended time at half the scenario's max rate.`,
    markdownTable(mainColumns, mainRows),
    'CPU used during each measurement window, in % of one core (200% = both cores). "Everything else" is other processes on the machine plus kernel time not charged to a process. "Producer CPU us/record" is the CPU time of the process that runs the Kafka producer (the gateway; for (a) the load generator, which includes its own load loop) per record written: it is less noisy than records/s and shows what the gateway costs per record:',
    markdownTable(cpuColumns, cpuRows),
    ...avroCost(results),
    `Targets:\n\n${targets.join('\n')}`,
    `Notes:\n\n${notes(results, settings).join('\n')}`,
  ].join('\n\n');
}

/** Gateway CPU time per record written, in µs, over a window (NaN when unknown). */
function gatewayUsPerRecord(cpu: CpuReport | undefined, recordsPerSec: number | undefined): number {
  return cpu?.gateway === undefined || !recordsPerSec
    ? NaN
    : (cpu.gateway / 100 / recordsPerSec) * 1e6;
}

/** (e) next to (c): the same load, Avro by schema id instead of binary. */
function avroCost(results: readonly ProduceCaseResult[]): string[] {
  const binary = results.find((r) => r.id === 'c');
  const avro = results.find((r) => r.id === 'e');
  if (!binary || !avro) return [];
  const us = (value: number): string => (Number.isFinite(value) ? value.toFixed(1) : 'n/a');
  const row = (r: ProduceCaseResult): string[] => {
    const max = gatewayUsPerRecord(r.throughput.cpu, r.throughput.recordsPerSec);
    const lat = gatewayUsPerRecord(r.latency?.cpu, r.latency?.achievedRecordsPerSec);
    const binMax = gatewayUsPerRecord(binary.throughput.cpu, binary.throughput.recordsPerSec);
    const binLat = gatewayUsPerRecord(binary.latency?.cpu, binary.latency?.achievedRecordsPerSec);
    const vs =
      binary.throughput.recordsPerSec > 0
        ? r.throughput.recordsPerSec / binary.throughput.recordsPerSec
        : undefined;
    return [
      r.label,
      formatCount(r.throughput.recordsPerSec),
      vs === undefined ? 'n/a' : `${vs.toFixed(2)}×`,
      us(max),
      us(lat),
      r === binary ? '(baseline)' : `${us(max - binMax)} / ${us(lat - binLat)}`,
    ];
  };
  return [
    '**Cost of Avro encoding**: (e) against (c) in this run, same record count per request and concurrency; "gateway CPU us/record" is the gateway\'s CPU time per record written in the max-throughput and latency windows, and the last column its difference from (c):',
    markdownTable(
      [
        { header: 'case' },
        { header: 'max records/s', align: 'right' },
        { header: 'vs binary (c)', align: 'right' },
        { header: 'gateway CPU us/record (max)', align: 'right' },
        { header: 'gateway CPU us/record (latency)', align: 'right' },
        { header: 'avro us/record (max / latency)', align: 'right' },
      ],
      [row(binary), row(avro)],
    ),
  ];
}

function throughputTarget(
  r: ProduceCaseResult | undefined,
  ratio: (r: ProduceCaseResult | undefined) => number | undefined,
): string {
  if (!r) return '- missing scenario';
  const value = ratio(r);
  const met = value !== undefined && value >= 0.5;
  return `- ${r.label} records/s >= 50% of (a): **${met ? 'met' : 'not met'}** (${formatPercent(value)})`;
}

/** CPU of processes this run does not own (and unattributed kernel time), in % of one core. */
export function otherCpu(cpu: CpuReport | undefined): number | undefined {
  if (cpu?.machine === undefined) return undefined;
  return Math.max(0, cpu.machine - (cpu.gateway ?? 0) - cpu.generator - (cpu.kafka ?? 0));
}

export function formatCpu(value: number | undefined): string {
  return value === undefined || !Number.isFinite(value) ? 'n/a' : `${Math.round(value)}%`;
}

function cpuRow(
  r: ProduceCaseResult,
  window: string,
  cpu: CpuReport | undefined,
  recordsPerSec: number | undefined,
): string[] {
  const pct = formatCpu;
  if (!cpu) return [r.label, window, 'n/a', 'n/a', 'n/a', 'n/a', 'n/a', 'n/a'];
  // The process that runs the producer: the generator itself for (a), the gateway otherwise.
  const producerCpu = r.id === 'a' ? cpu.generator : cpu.gateway;
  const perRecord =
    producerCpu === undefined || !recordsPerSec ? NaN : (producerCpu / 100 / recordsPerSec) * 1e6;
  return [
    r.label,
    window,
    pct(cpu.gateway),
    pct(cpu.generator),
    pct(cpu.kafka),
    pct(otherCpu(cpu)),
    pct(cpu.machine),
    Number.isFinite(perRecord) ? perRecord.toFixed(1) : 'n/a',
  ];
}

function notes(results: readonly ProduceCaseResult[], settings: ProduceReportSettings): string[] {
  const lines = results.map((r) => `- ${r.label}: max throughput with ${r.load}.`);
  const noisy = results.flatMap((r) =>
    (
      [
        ['max throughput', otherCpu(r.throughput.cpu)],
        ['latency', otherCpu(r.latency?.cpu)],
      ] as const
    )
      .filter(([, other]) => other !== undefined && other >= NOISY_CPU_PERCENT)
      .map(([window]) => `${r.label} ${window}`),
  );
  lines.push(
    noisy.length === 0
      ? `- No window lost ${NOISY_CPU_PERCENT}% of a core or more to other processes ("other CPU" column).`
      : `- **Noisy windows** (other processes or the kernel took ${NOISY_CPU_PERCENT}% of a core or more, see "other CPU"; their records/s are too low and their latencies too high): ${noisy.join('; ')}.`,
  );
  lines.push(...settings.notes.map((note) => `- ${note}`));
  for (const r of results) {
    const l = r.latency;
    if (l) {
      lines.push(
        `- ${r.label}: generator send lag (actual - intended send time) mean ${formatMs(l.sendLagMeanMs)} ms, max ${formatMs(l.sendLagMaxMs)} ms.`,
      );
    }
    const reasons = new Map<string, number>();
    for (const tally of [r.throughput.failures, l?.failures]) {
      for (const [reason, count] of tally?.reasons ?? []) {
        reasons.set(reason, (reasons.get(reason) ?? 0) + count);
      }
    }
    for (const [reason, count] of reasons) {
      lines.push(`- ${r.label}: ${formatCount(count)} records not written: \`${reason}\``);
    }
    const unanswered = r.throughput.unanswered + (l?.unanswered ?? 0);
    if (unanswered > 0) {
      lines.push(
        `- ${r.label}: ${formatCount(unanswered)} sends unanswered after ${settings.drainTimeoutMs / 1000} s.`,
      );
    }
    for (const line of r.gatewayLines) {
      lines.push(`- ${r.label}: gateway logged \`${line.slice(0, 200)}\``);
    }
  }
  return lines;
}
