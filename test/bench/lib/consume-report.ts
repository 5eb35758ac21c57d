import type { CpuReport } from './cpu-meter.js';
import type { EndToEndResult } from './end-to-end-latency.js';
import type { GatewayDrainResult } from './gateway-drain.js';
import type { GatewayCounters } from './gateway-metrics.js';
import type { IdlePollsResult } from './idle-long-polls.js';
import {
  formatCount,
  formatMs,
  formatPercent,
  markdownTable,
  type Column,
} from './markdown-table.js';
import { scriptCalls, totalCalls } from './redis-stats.js';
import type { ResourceUsage } from './resource-window.js';

/** CPU (% of one core) outside the processes this run knows about above which a window is flagged. */
const NOISY_CPU_PERCENT = 25;
const DRAIN_TARGET = 0.4;
const IDLE_POLL_TARGET_KIB = 20;

/** One drain case: 'a' is the direct baseline. */
export interface DrainCaseResult {
  readonly id: 'a' | 'b' | 'c' | 'd' | 'e';
  readonly label: string;
  readonly records: number;
  readonly seconds: number;
  readonly complete: boolean;
  readonly usage: ResourceUsage | undefined;
  /** Gateway cases only. */
  readonly gateway?: GatewayDrainResult;
  /** Gateway cases only: its own counters over the drain. */
  readonly counters?: GatewayCounters | undefined;
}

export interface LatencyCaseResult {
  readonly label: string;
  readonly result: EndToEndResult;
}

export interface ConsumeReportInput {
  readonly valueBytes: number;
  readonly partitions: number;
  /** Where Kafka came from, in words. */
  readonly kafka: string;
  readonly drains: readonly DrainCaseResult[];
  readonly latency: readonly LatencyCaseResult[];
  readonly idle: IdlePollsResult;
  /** The gateway's last log lines (warn and above). */
  readonly gatewayLines: readonly string[];
}

const rate = (d: DrainCaseResult): number => (d.seconds > 0 ? d.records / d.seconds : NaN);
const cpu = (value: number | undefined): string =>
  value === undefined || !Number.isFinite(value) ? 'n/a' : `${Math.round(value)}%`;
const mib = (bytes: number): string => (bytes / 1024 / 1024).toFixed(1);
const perRecord = (n: number, records: number): string =>
  records > 0 ? (n / records).toFixed(3) : 'n/a';

/** CPU of processes this run does not own (and unattributed kernel time), in % of one core. */
function otherCpu(report: CpuReport | undefined, redis: number | undefined): number | undefined {
  if (report?.machine === undefined) return undefined;
  const known = (report.gateway ?? 0) + report.generator + (report.kafka ?? 0) + (redis ?? 0);
  return Math.max(0, report.machine - known);
}

/** The consume results as markdown: drain, CPU, latency and idle tables, targets, notes. */
export function renderConsumeReport(input: ConsumeReportInput): string {
  const direct = input.drains.find((d) => d.id === 'a');
  const gatewayDrains = input.drains.filter((d) => d.id !== 'a');
  const best = gatewayDrains.reduce<DrainCaseResult | undefined>(
    (top, d) => (top === undefined || rate(d) > rate(top) ? d : top),
    undefined,
  );
  const ratio = (d: DrainCaseResult | undefined): number | undefined =>
    d && direct && rate(direct) > 0 ? rate(d) / rate(direct) : undefined;
  const idlePerPollKib =
    (input.idle.held.rssBytes - input.idle.before.rssBytes) / 1024 / input.idle.polls;

  return [
    `${input.valueBytes}-byte values; ${input.partitions} partitions; Kafka (${input.kafka}), Redis, the gateway and the load generator share the machine's 2 cores, so every number is CPU-bound and noisy; compare the ratios and the per-record costs.`,
    `**Drain** (records/s to read a pre-filled topic to its end and confirm every record):`,
    drainTable(input.drains, ratio, input.valueBytes),
    `CPU during each drain, in % of one core (200% = both cores). "Everything else" is other processes plus kernel time not charged to a process${direct?.usage?.cpu.kafka === undefined ? ' (and Kafka, whose process this run did not start)' : ''}:`,
    cpuTable(input.drains),
    `**End-to-end latency** (produce → consume) at a fixed produce rate:`,
    latencyTable(input.latency),
    `**Idle long-polls** held open at once:`,
    idleTable(input.idle, idlePerPollKib),
    `Targets:\n\n${targets(best, ratio, input.idle, idlePerPollKib).join('\n')}`,
    `Notes:\n\n${notes(input, gatewayDrains).join('\n')}`,
  ].join('\n\n');
}

function drainTable(
  drains: readonly DrainCaseResult[],
  ratio: (d: DrainCaseResult) => number | undefined,
  valueBytes: number,
): string {
  const columns: Column[] = [
    { header: 'case' },
    { header: 'records', align: 'right' },
    { header: 'seconds', align: 'right' },
    { header: 'records/s', align: 'right' },
    { header: 'vs (a)', align: 'right' },
    { header: 'polls (empty)', align: 'right' },
    { header: 'confirm p50 / p99 ms', align: 'right' },
    { header: 'Redis commands / record (sent)', align: 'right' },
    { header: 'Kafka bytes fetched / delivered', align: 'right' },
    { header: 'consumer CPU us/record', align: 'right' },
    { header: 'duplicates / fenced', align: 'right' },
  ];
  const rows = drains.map((d) => {
    const g = d.gateway;
    const commands = d.usage && g ? totalCalls(d.usage.commands) : NaN;
    const sent = d.counters?.redisCommands ?? NaN;
    const fetched = d.counters?.fetchBytes;
    const amplification =
      fetched === undefined || d.records === 0
        ? 'n/a'
        : (fetched / (d.records * valueBytes)).toFixed(1);
    // The process that runs the Kafka consumer: the generator for (a), the gateway otherwise.
    const consumerCpu = d.id === 'a' ? d.usage?.cpu.generator : d.usage?.cpu.gateway;
    const usPerRecord =
      consumerCpu === undefined || d.records === 0 || !d.usage
        ? NaN
        : ((consumerCpu / 100) * d.usage.seconds * 1e6) / d.records;
    return [
      d.label,
      `${formatCount(d.records)}${d.complete ? '' : ' (capped)'}`,
      d.seconds.toFixed(2),
      formatCount(rate(d)),
      formatPercent(ratio(d)),
      g ? `${formatCount(g.polls)} (${formatCount(g.emptyPolls)})` : 'n/a',
      g ? `${formatMs(g.confirmMs.p50)} / ${formatMs(g.confirmMs.p99)}` : 'n/a',
      g ? `${perRecord(commands, d.records)} (${perRecord(sent, d.records)})` : 'n/a',
      amplification,
      Number.isFinite(usPerRecord) ? usPerRecord.toFixed(1) : 'n/a',
      g ? `${formatCount(g.duplicates)} / ${formatCount(g.fenced)}` : 'n/a',
    ];
  });
  return markdownTable(columns, rows);
}

function cpuTable(drains: readonly DrainCaseResult[]): string {
  const columns: Column[] = [
    { header: 'case' },
    { header: 'gateway', align: 'right' },
    { header: 'load generator', align: 'right' },
    { header: 'kafka', align: 'right' },
    { header: 'redis', align: 'right' },
    { header: 'everything else', align: 'right' },
    { header: 'whole machine', align: 'right' },
  ];
  const rows = drains.map((d) => {
    const u = d.usage;
    return [
      d.label,
      cpu(u?.cpu.gateway),
      cpu(u?.cpu.generator),
      cpu(u?.cpu.kafka),
      cpu(u?.redisCpu),
      cpu(otherCpu(u?.cpu, u?.redisCpu)),
      cpu(u?.cpu.machine),
    ];
  });
  return markdownTable(columns, rows);
}

function latencyTable(cases: readonly LatencyCaseResult[]): string {
  const columns: Column[] = [
    { header: 'consumer' },
    { header: 'produced records/s', align: 'right' },
    { header: 'records in window', align: 'right' },
    { header: 'p50 ms', align: 'right' },
    { header: 'p99 ms', align: 'right' },
    { header: 'max ms', align: 'right' },
    { header: 'missing', align: 'right' },
    { header: 'polls (empty)', align: 'right' },
    { header: 'ack p50 / p99 ms', align: 'right' },
    { header: 'gateway CPU', align: 'right' },
  ];
  const rows = cases.map(({ label, result: r }) => [
    label,
    formatCount(r.produce.achievedRecordsPerSec),
    formatCount(r.latency.count),
    formatMs(r.latency.p50),
    formatMs(r.latency.p99),
    formatMs(r.latency.max),
    formatCount(r.missing),
    r.consumer ? `${formatCount(r.consumer.polls)} (${formatCount(r.consumer.emptyPolls)})` : 'n/a',
    r.consumer
      ? `${formatMs(r.consumer.confirmMs.p50)} / ${formatMs(r.consumer.confirmMs.p99)}`
      : 'n/a',
    cpu(r.produce.cpu?.gateway),
  ]);
  return markdownTable(columns, rows);
}

function idleTable(idle: IdlePollsResult, perPollKib: number): string {
  const columns: Column[] = [
    { header: 'long-polls' },
    { header: 'waiting gauge max', align: 'right' },
    { header: 'VmRSS before / held / after MiB', align: 'right' },
    { header: 'VmRSS per poll KiB', align: 'right' },
    { header: 'heap used before / held / after MiB', align: 'right' },
    { header: 'heap per poll KiB', align: 'right' },
    { header: 'gateway CPU while idle', align: 'right' },
    { header: 'Redis commands/s while idle', align: 'right' },
  ];
  const heapPerPoll = (idle.held.heapUsedBytes - idle.before.heapUsedBytes) / 1024 / idle.polls;
  return markdownTable(columns, [
    [
      formatCount(idle.polls),
      formatCount(idle.waitingMax),
      `${mib(idle.before.rssBytes)} / ${mib(idle.held.rssBytes)} / ${mib(idle.after.rssBytes)}`,
      perPollKib.toFixed(1),
      `${mib(idle.before.heapUsedBytes)} / ${mib(idle.held.heapUsedBytes)} / ${mib(idle.after.heapUsedBytes)}`,
      heapPerPoll.toFixed(1),
      cpu(idle.idleGatewayCpuPercent),
      formatCount(idle.idleRedisPerSec),
    ],
  ]);
}

function targets(
  best: DrainCaseResult | undefined,
  ratio: (d: DrainCaseResult) => number | undefined,
  idle: IdlePollsResult,
  perPollKib: number,
): string[] {
  const r = best ? ratio(best) : undefined;
  return [
    best && r !== undefined
      ? `- best gateway drain >= ${DRAIN_TARGET * 100}% of (a): **${r >= DRAIN_TARGET ? 'met' : 'not met'}** (${formatPercent(r)}, ${best.label})`
      : `- best gateway drain >= ${DRAIN_TARGET * 100}% of (a): **not measured**`,
    `- idle long-poll <= ${IDLE_POLL_TARGET_KIB} KiB of gateway VmRSS: **${perPollKib <= IDLE_POLL_TARGET_KIB ? 'met' : 'not met'}** (${perPollKib.toFixed(1)} KiB)`,
    `- \`kgw_consume_long_polls_waiting\` reaches about ${formatCount(idle.polls)}: **${idle.waitingMax >= idle.polls * 0.98 ? 'met' : 'not met'}** (${formatCount(idle.waitingMax)})`,
  ];
}

function notes(input: ConsumeReportInput, gatewayDrains: readonly DrainCaseResult[]): string[] {
  const lines: string[] = [];
  const noisy = input.drains
    .filter((d) => (otherCpu(d.usage?.cpu, d.usage?.redisCpu) ?? 0) >= NOISY_CPU_PERCENT)
    .map((d) => d.label);
  lines.push(
    noisy.length === 0
      ? `- No drain lost ${NOISY_CPU_PERCENT}% of a core or more to other processes.`
      : `- **Noisy drains** (other processes or the kernel took ${NOISY_CPU_PERCENT}% of a core or more): ${noisy.join('; ')}.`,
  );
  const acks = gatewayDrains.find((d) => d.id === 'b');
  const offsets = gatewayDrains.find((d) => d.id === 'c');
  if (acks && offsets) {
    const faster = rate(acks) >= rate(offsets) ? acks : offsets;
    lines.push(
      `- Confirming with ${faster === acks ? '`POST …/acks`' : 'Confluent `POST …/offsets`'} was faster in this run (${formatCount(rate(acks))} vs ${formatCount(rate(offsets))} records/s with acks vs offsets).`,
    );
  }
  for (const d of gatewayDrains) {
    const top = [...(d.usage?.commands ?? new Map<string, number>())]
      .sort((x, y) => y[1] - x[1])
      .slice(0, 8)
      .map(([name, n]) => `${name} ${perRecord(n, d.records)}`);
    if (top.length > 0) {
      const scripts = perRecord(scriptCalls(d.usage?.commands ?? new Map()), d.records);
      lines.push(
        `- ${d.label}: Redis executed per record: ${top.join(', ')} (${scripts} script calls per record).`,
      );
    }
    const fetches = d.counters?.fetchRequests;
    if (fetches !== undefined) {
      lines.push(
        `- ${d.label}: the gateway's fetchers sent ${formatCount(fetches)} fetch requests and received ${mib(d.counters?.fetchBytes ?? NaN)} MiB from Kafka for ${formatCount(d.records)} records (${mib(d.records * input.valueBytes)} MiB of values).`,
      );
    }
    const committed = d.gateway?.committed ?? [];
    const upTo = d.gateway?.confirmedUpTo ?? [];
    const match = upTo.length > 0 && upTo.every((n, p) => committed[p] === n);
    lines.push(
      `- ${d.label}: Kafka's committed offsets afterwards ${match ? 'equal' : `(${committed.join(', ')}) differ from`} the first unconfirmed offset of every partition${match ? '' : ` (${upTo.join(', ')})`}; poll p50 / p99 ${formatMs(d.gateway?.pollMs.p50 ?? NaN)} / ${formatMs(d.gateway?.pollMs.p99 ?? NaN)} ms.`,
    );
  }
  for (const { label, result } of input.latency) {
    lines.push(
      `- ${label} latency: the producer's own delivery reports took p50 ${formatMs(result.produce.latency.p50)} / p99 ${formatMs(result.produce.latency.p99)} ms; generator send lag mean ${formatMs(result.produce.sendLagMeanMs)} ms.`,
    );
  }
  const { idle } = input;
  lines.push(
    `- Idle long-polls: the waiting gauge reached ${formatCount(idle.waitingMax)} ${idle.secondsToWaiting.toFixed(1)} s after the polls were sent; \`process_resident_memory_bytes\` went from ${mib(idle.before.metricsRssBytes)} to ${mib(idle.held.metricsRssBytes)} MiB; ${formatCount(idle.answeredEmpty)} polls were answered empty at their timeout.`,
    idle.forcedGc
      ? `- Idle long-polls: a full collection ran before every memory sample; heap used ${mib(idle.after.heapUsedBytes)} MiB once the polls were answered (${mib(idle.before.heapUsedBytes)} before) tells whether anything stayed behind.`
      : `- Idle long-polls: **no collection could be forced** (no inspector URL), so "held" includes garbage left by the polls' first attempts and varies from run to run.`,
    `- Another session of the group subscribing while ${formatCount(idle.polls)} shared-mode polls waited cost ${formatCount(idle.wake.redisCommands)} Redis commands and ${formatCount(idle.wake.gatewayCpuMs)} ms of gateway CPU over the next 2 s (it wakes none of them; before membership messages every waiting poll read Redis again: 43,003 commands and 640 ms in the run of 11:49Z); ${formatCount(idle.wake.waitingAfter)} were waiting 2 s later.`,
  );
  for (const [reason, count] of idle.failures) {
    lines.push(`- Idle long-polls: ${formatCount(count)} answered otherwise: \`${reason}\``);
  }
  for (const line of input.gatewayLines) {
    lines.push(`- gateway logged \`${line.slice(0, 200)}\``);
  }
  return lines;
}
