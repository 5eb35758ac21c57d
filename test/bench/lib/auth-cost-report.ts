import { meanRate, type AuthCostResult } from './auth-cost.js';
import type { ThroughputResult } from './closed-loop.js';
import type { CpuReport } from './cpu-meter.js';
import { formatCount, formatMs, markdownTable, type Column } from './markdown-table.js';
import { formatCpu, NOISY_CPU_PERCENT, otherCpu } from './produce-report.js';

/** The run's settings, for the text around the tables. */
export interface AuthCostReportSettings {
  readonly concurrency: number;
  readonly warmupMs: number;
  readonly roundWindowMs: number;
  readonly latencyWindowMs: number;
}

/** 0.9312 → "0.93×". */
function formatRatio(value: number | undefined): string {
  return value === undefined || !Number.isFinite(value) ? 'n/a' : `${value.toFixed(2)}×`;
}

function ratio(value: number | undefined, base: number | undefined): number | undefined {
  return value === undefined || base === undefined || base === 0 ? undefined : value / base;
}

/** Gateway CPU time per request (1 record each) in µs over the max-throughput rounds together. */
function maxMicrosPerRequest(rounds: readonly ThroughputResult[]): number | undefined {
  let cpuSeconds = 0;
  let requests = 0;
  for (const r of rounds) {
    if (r.cpu?.gateway === undefined) return undefined;
    // Equal windows: the sums of per-second figures weigh every round alike.
    cpuSeconds += r.cpu.gateway / 100;
    requests += r.recordsPerSec;
  }
  return requests === 0 ? undefined : (cpuSeconds / requests) * 1e6;
}

function latencyMicrosPerRequest(result: AuthCostResult): number | undefined {
  const l = result.latency;
  if (l?.cpu?.gateway === undefined || l.achievedRecordsPerSec === 0) return undefined;
  return (l.cpu.gateway / 100 / l.achievedRecordsPerSec) * 1e6;
}

/** The mean of the rounds' CPU reports (equal windows). */
function meanCpu(rounds: readonly ThroughputResult[]): CpuReport | undefined {
  const cpus = rounds.map((r) => r.cpu);
  if (cpus.length === 0 || cpus.some((c) => c === undefined)) return undefined;
  const mean = (pick: (c: CpuReport) => number | undefined): number | undefined => {
    const values = cpus.map((c) => pick(c!));
    return values.some((v) => v === undefined)
      ? undefined
      : values.reduce<number>((sum, v) => sum + v!, 0) / values.length;
  };
  return {
    gateway: mean((c) => c.gateway),
    generator: mean((c) => c.generator)!,
    kafka: mean((c) => c.kafka),
    machine: mean((c) => c.machine),
  };
}

function microsOrNa(value: number | undefined): string {
  return value === undefined || !Number.isFinite(value) ? 'n/a' : value.toFixed(1);
}

function signedMicros(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return 'n/a';
  return `${value >= 0 ? '+' : '−'}${Math.abs(value).toFixed(1)}`;
}

/** The authentication cost as markdown: a subsection of the produce results. */
export function renderAuthCostReport(
  results: readonly AuthCostResult[],
  settings: AuthCostReportSettings,
): string {
  const none = results.find((r) => r.mode === 'none');
  const noneRate = none ? meanRate(none.rounds) : undefined;
  const noneMaxMicros = none ? maxMicrosPerRequest(none.rounds) : undefined;
  const noneLatMicros = none ? latencyMicrosPerRequest(none) : undefined;
  const offered = results.find((r) => r.latency)?.latency?.offeredRecordsPerSec;

  const mainColumns: Column[] = [
    { header: 'KGW_AUTH' },
    { header: 'max requests/s (round 1 / 2)', align: 'right' },
    { header: 'mean', align: 'right' },
    { header: 'vs none', align: 'right' },
    { header: 'p50 ms', align: 'right' },
    { header: 'vs none', align: 'right' },
    { header: 'p99 ms', align: 'right' },
    { header: 'vs none', align: 'right' },
    { header: 'max ms', align: 'right' },
    { header: 'failed / 429', align: 'right' },
  ];
  const mainRows = results.map((r) => {
    const l = r.latency;
    const failed = r.rounds.reduce((n, t) => n + t.failures.failed, 0) + (l?.failures.failed ?? 0);
    const rejected =
      r.rounds.reduce((n, t) => n + t.failures.rejected, 0) + (l?.failures.rejected ?? 0);
    return [
      r.mode,
      r.rounds.map((t) => formatCount(t.recordsPerSec)).join(' / '),
      formatCount(meanRate(r.rounds)),
      formatRatio(ratio(meanRate(r.rounds), noneRate)),
      l ? formatMs(l.latency.p50) : 'n/a',
      formatRatio(ratio(l?.latency.p50, none?.latency?.latency.p50)),
      l ? formatMs(l.latency.p99) : 'n/a',
      formatRatio(ratio(l?.latency.p99, none?.latency?.latency.p99)),
      l ? formatMs(l.latency.max) : 'n/a',
      `${formatCount(failed)} / ${formatCount(rejected)}`,
    ];
  });

  const cpuColumns: Column[] = [
    { header: 'KGW_AUTH' },
    { header: 'window' },
    { header: 'gateway', align: 'right' },
    { header: 'load generator', align: 'right' },
    { header: 'kafka', align: 'right' },
    { header: 'everything else', align: 'right' },
    { header: 'gateway CPU us/request', align: 'right' },
    { header: 'vs none', align: 'right' },
    { header: 'authentication us/request', align: 'right' },
  ];
  const cpuRows = results.flatMap((r) => {
    const maxMicros = maxMicrosPerRequest(r.rounds);
    const latMicros = latencyMicrosPerRequest(r);
    const row = (
      window: string,
      cpu: CpuReport | undefined,
      micros: number | undefined,
      base: number | undefined,
    ): string[] => [
      r.mode,
      window,
      formatCpu(cpu?.gateway),
      formatCpu(cpu?.generator),
      formatCpu(cpu?.kafka),
      formatCpu(otherCpu(cpu)),
      microsOrNa(micros),
      formatRatio(ratio(micros, base)),
      r.mode === 'none'
        ? '(baseline)'
        : signedMicros(micros === undefined || base === undefined ? undefined : micros - base),
    ];
    return [
      row('max throughput, mean of 2 rounds', meanCpu(r.rounds), maxMicros, noneMaxMicros),
      row('latency', r.latency?.cpu, latMicros, noneLatMicros),
    ];
  });

  const noisy = results.flatMap((r) => [
    ...r.rounds
      .map((t, i) => [`round ${i + 1}`, otherCpu(t.cpu)] as const)
      .filter(([, other]) => other !== undefined && other >= NOISY_CPU_PERCENT)
      .map(([window]) => `${r.mode} max throughput ${window}`),
    ...((otherCpu(r.latency?.cpu) ?? 0) >= NOISY_CPU_PERCENT ? [`${r.mode} latency`] : []),
  ]);
  const notes = [
    `Max throughput: ${settings.concurrency} concurrent requests of 1 record (undici Pool, ${settings.concurrency} connections), ${settings.warmupMs / 1000} s warm-up + ${settings.roundWindowMs / 1000} s window per round; rounds run none, api-key, jwt, then jwt, api-key, none.`,
    offered === undefined
      ? 'Latency: not measured (a gateway wrote nothing at max throughput).'
      : `Latency: every gateway offered the same ${formatCount(offered)} requests/s (half the lowest mean max throughput), ${settings.warmupMs / 1000} s warm-up + ${settings.latencyWindowMs / 1000} s window, in the order none, api-key, jwt.`,
    'The two gateways not being measured stay up, idle; their CPU is under "everything else", like the runner\'s own idle gateway.',
    noisy.length === 0
      ? `No window lost ${NOISY_CPU_PERCENT}% of a core or more to other processes ("everything else").`
      : `**Noisy windows** (everything else took ${NOISY_CPU_PERCENT}% of a core or more): ${noisy.join('; ')}.`,
    ...results.flatMap((r) => {
      const reasons = new Map<string, number>();
      for (const tally of [...r.rounds.map((t) => t.failures), r.latency?.failures]) {
        for (const [reason, count] of tally?.reasons ?? []) {
          reasons.set(reason, (reasons.get(reason) ?? 0) + count);
        }
      }
      return [...reasons].map(
        ([reason, count]) => `${r.mode}: ${formatCount(count)} records not written: \`${reason}\``,
      );
    }),
  ];

  return [
    '### Cost of authentication',
    'Single-record v2 produce (as case (b)) through three more gateways started for this part, `KGW_AUTH=none`, `api-key` and `jwt`, quotas off; ratios are to `none` in this run:',
    markdownTable(mainColumns, mainRows),
    'CPU in % of one core during each window; "gateway CPU us/request" is the measured gateway\'s CPU time per request written, and "authentication us/request" its difference from `none` in the same kind of window:',
    markdownTable(cpuColumns, cpuRows),
    `Notes:\n\n${notes.map((n) => `- ${n}`).join('\n')}`,
  ].join('\n\n');
}
