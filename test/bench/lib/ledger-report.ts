import type { ConcurrentAckersResult } from './concurrent-ackers.js';
import type { ProxyDelayStats } from '../../support/delay-proxy.js';
import { formatCount, formatMs, formatPercent, markdownTable } from './markdown-table.js';
import { median } from './proc-stats.js';
import type { SequentialCallsResult } from './sequential-calls.js';
import type { WakeCost, WakeCostsResult, WindowCount } from './wake-costs.js';

const POLL_ROUND_TRIPS_TARGET = 3;
const ACK_ROUND_TRIPS_TARGET = 2;

/** The wake measurement, or why it could not be made. */
export type WakeOutcome = WakeCostsResult | { readonly failed: string };

export interface LedgerReportInput {
  readonly roundTrips: {
    readonly delayMs: number;
    readonly records: number;
    readonly maxRecords: number;
    readonly direct: SequentialCallsResult;
    readonly proxied: SequentialCallsResult;
    readonly proxy: ProxyDelayStats;
  };
  readonly ackers: ConcurrentAckersResult & {
    readonly partitions: number;
    readonly records: number;
    readonly maxRecords: number;
  };
  readonly wakes: WakeOutcome;
  /** The runner's gateway's last log lines (warn and above) during the scenario. */
  readonly gatewayLines: readonly string[];
  /** The proxied gateway's, likewise. */
  readonly proxiedGatewayLines: readonly string[];
}

/** Sequential Redis round trips a call makes: the added latency over one proxied round trip. */
function roundTrips(
  direct: readonly number[],
  proxied: readonly number[],
  delayMs: number,
): number {
  return (median(proxied) - median(direct)) / (2 * delayMs);
}

const met = (ok: boolean): string => `**${ok ? 'met' : 'not met'}**`;
const oneDecimal = (n: number): string => (Number.isFinite(n) ? n.toFixed(1) : 'n/a');
const ratio = (a: number, b: number): string => (b > 0 ? (a / b).toFixed(1) : 'n/a');
const cpu = (percent: number | undefined): string =>
  percent === undefined || !Number.isFinite(percent) ? 'n/a' : `${Math.round(percent)}%`;

/** The ledger results as markdown: round trips, commits under load, wake costs, targets, notes. */
export function renderLedgerReport(input: LedgerReportInput): string {
  const rt = input.roundTrips;
  const pollTrips = roundTrips(rt.direct.pollMs, rt.proxied.pollMs, rt.delayMs);
  const ackTrips = roundTrips(rt.direct.ackMs, rt.proxied.ackMs, rt.delayMs);
  // The same with the hold the proxy actually applied (its timers overshoot a little).
  const pollHeld = roundTrips(rt.direct.pollMs, rt.proxied.pollMs, rt.proxy.meanMs);
  const ackHeld = roundTrips(rt.direct.ackMs, rt.proxied.ackMs, rt.proxy.meanMs);
  const a = input.ackers;
  const commitsPerSec = a.counters.commits / a.windowSeconds;
  const acksPerSec = a.acks / a.windowSeconds;
  const w = input.wakes;

  return [
    `Kafka, Redis, the gateway(s) and the load generator share the machine's 2 cores; latencies and rates are noisy, the round-trip and command counts much less so.`,
    `**Sequential Redis round trips** (one ordered session, ${formatCount(rt.records)} records on 1 partition, ${rt.direct.pollMs.length} poll + ack pairs per gateway, ${rt.delayMs} ms added each way by the proxy):`,
    markdownTable(
      [
        { header: 'request' },
        { header: 'direct median ms', align: 'right' },
        { header: `via +${rt.delayMs} ms proxy median ms`, align: 'right' },
        { header: 'Redis round trips', align: 'right' },
        { header: 'by the measured hold', align: 'right' },
        { header: 'target', align: 'right' },
        { header: 'Redis commands sent (median)', align: 'right' },
      ],
      [
        [
          `\`GET …/records\` (max_records ${rt.maxRecords})`,
          formatMs(median(rt.direct.pollMs)),
          formatMs(median(rt.proxied.pollMs)),
          oneDecimal(pollTrips),
          oneDecimal(pollHeld),
          `≤ ${POLL_ROUND_TRIPS_TARGET}`,
          String(median(rt.direct.pollRedisSent)),
        ],
        [
          `\`POST …/acks\` (the poll's records)`,
          formatMs(median(rt.direct.ackMs)),
          formatMs(median(rt.proxied.ackMs)),
          oneDecimal(ackTrips),
          oneDecimal(ackHeld),
          `≤ ${ACK_ROUND_TRIPS_TARGET}`,
          String(median(rt.direct.ackRedisSent)),
        ],
      ],
    ),
    `**Kafka OffsetCommits under ${formatCount(a.sessions)} concurrent ackers** (shared mode, one group, ${a.partitions} partitions pre-filled with ${formatCount(a.records)} records, poll max_records ${a.maxRecords} then ack, ${a.windowSeconds.toFixed(1)} s window):`,
    markdownTable(
      [
        { header: 'sessions' },
        { header: 'acks/s', align: 'right' },
        { header: 'acked records/s', align: 'right' },
        { header: 'OffsetCommits/s', align: 'right' },
        { header: 'acked records per OffsetCommit', align: 'right' },
        { header: 'partitions per OffsetCommit', align: 'right' },
        { header: 'ack p50 ms', align: 'right' },
        { header: 'ack p99 ms', align: 'right' },
        { header: 'polls/s (empty)', align: 'right' },
        { header: 'Redis commands sent per ack, polls included', align: 'right' },
        { header: 'CPU: gateway / generator / Kafka / Redis / machine', align: 'right' },
      ],
      [
        [
          formatCount(a.sessions),
          formatCount(acksPerSec),
          formatCount(a.ackedRecords / a.windowSeconds),
          oneDecimal(commitsPerSec),
          ratio(a.counters.recordsAcked, a.counters.commits),
          ratio(a.counters.commitPartitions, a.counters.commits),
          formatMs(a.ackLatency.p50),
          formatMs(a.ackLatency.p99),
          `${formatCount(a.polls / a.windowSeconds)} (${formatCount(a.emptyPolls / a.windowSeconds)})`,
          ratio(a.counters.redisSent, a.acks),
          [a.cpu?.gateway, a.cpu?.generator, a.cpu?.kafka, a.redisCpu, a.cpu?.machine]
            .map(cpu)
            .join(' / '),
        ],
      ],
    ),
    wakesSection(w),
    `Targets:\n\n${targets(pollTrips, ackTrips, acksPerSec, commitsPerSec, w).join('\n')}`,
    `Notes:\n\n${notes(input).join('\n')}`,
  ].join('\n\n');
}

function wakesSection(w: WakeOutcome): string {
  if ('failed' in w) {
    return `**Redis commands per wake**: not measured, the run failed: \`${w.failed.slice(0, 300)}\``;
  }
  return [
    `**Redis commands per wake** with ${formatCount(w.polls)} long-polls waiting (shared mode, one group, 1 record on 1 partition; ${w.windowMs / 1000} s windows; "net" is less the mean of the two idle windows):`,
    markdownTable(
      [
        { header: 'window' },
        { header: 'Redis commands run', align: 'right' },
        { header: 'net', align: 'right' },
        { header: 'sent by the gateway', align: 'right' },
        { header: 'net', align: 'right' },
        { header: 'polls answered with the record', align: 'right' },
        { header: 'polls answered', align: 'right' },
        { header: 'first record after ms', align: 'right' },
        { header: 'polls waiting after', align: 'right' },
      ],
      [
        windowRow('idle, before', w.idle[0]),
        windowRow('partition wake: the holder nacks the record, `delay_ms: 0`', w.nack),
        windowRow('group wake: another session of the group subscribes', w.subscribe),
        windowRow('idle, after', w.idle[1]),
      ],
    ),
  ].join('\n\n');
}

function windowRow(label: string, w: WindowCount | WakeCost): string[] {
  const net = 'netCommands' in w;
  return [
    label,
    formatCount(w.commands),
    net ? formatCount(w.netCommands) : '',
    formatCount(w.sent),
    net ? formatCount(w.netSent) : '',
    formatCount(w.answeredWithRecords),
    formatCount(w.answered),
    w.firstRecordMs === undefined ? 'none' : formatMs(w.firstRecordMs),
    formatCount(w.waitingAfter),
  ];
}

/** "evalsha 12, publish 1, …": the commands of a window, most frequent first. */
function commandMix(byCommand: ReadonlyMap<string, number>, top = 6): string {
  const sorted = [...byCommand].sort((x, y) => y[1] - x[1]);
  const shown = sorted.slice(0, top).map(([name, n]) => `${name} ${formatCount(n)}`);
  if (sorted.length > top) shown.push('…');
  return shown.length > 0 ? shown.join(', ') : 'none';
}

function targets(
  pollTrips: number,
  ackTrips: number,
  acksPerSec: number,
  commitsPerSec: number,
  w: WakeOutcome,
): string[] {
  return [
    `- ≤ ${POLL_ROUND_TRIPS_TARGET} sequential Redis round trips per poll: ${met(Math.round(pollTrips) <= POLL_ROUND_TRIPS_TARGET)} (${oneDecimal(pollTrips)}, about ${Math.round(pollTrips)} whole round trips; as measured, so it includes the route's read of the session)`,
    `- ≤ ${ACK_ROUND_TRIPS_TARGET} sequential Redis round trips per ack request: ${met(Math.round(ackTrips) <= ACK_ROUND_TRIPS_TARGET)} (${oneDecimal(ackTrips)}, about ${Math.round(ackTrips)} whole round trips)`,
    `- OffsetCommits coalesced under concurrent ackers (fewer OffsetCommit requests than ack requests): ${met(commitsPerSec < acksPerSec)} (${oneDecimal(commitsPerSec)} OffsetCommits/s for ${formatCount(acksPerSec)} acks/s)`,
    'failed' in w
      ? '- Redis commands per wake: **not measured** (see above)'
      : `- Redis commands per wake with ${formatCount(w.polls)} waiting polls: measured, ${formatCount(w.nack.netCommands)} for a nack (${formatCount(w.nack.answeredWithRecords)} poll answered with the record, 1 expected) and ${formatCount(w.subscribe.netCommands)} for a group-wide wake (net of idle, commands run)`,
  ];
}

function notes(input: LedgerReportInput): string[] {
  const rt = input.roundTrips;
  const a = input.ackers;
  const w = input.wakes;
  const lines = [
    `- Round trips = (median via proxy − median direct) / (2 × ${rt.delayMs} ms). The proxy held each chunk ${formatMs(rt.proxy.meanMs)} ms on average (max ${formatMs(rt.proxy.maxMs)}, ${formatCount(rt.proxy.chunks)} chunks), so timer overshoot inflates the counts by about ${formatPercent(rt.proxy.meanMs / rt.delayMs - 1)}: "by the measured hold" divides by twice that mean instead. The rest of a fraction above a whole number is the extra work each proxied round trip causes (the proxy and the gateway share the cores), so the targets are judged on the nearest whole number. Commands sent in parallel (pipelined) share a round trip; commands a Lua script runs cost none. "Redis commands sent" is the direct gateway's \`kgw_redis_command_seconds_count\` across the call (a script call counts once; background work of the gateway in that moment counts too).`,
    `- The poll's number is the whole route as measured, including its read of the session before the ledger's own work.`,
  ];
  const empty = rt.direct.emptyPolls + rt.proxied.emptyPolls;
  if (empty > 0) {
    lines.push(
      `- ${empty} measured polls returned no record (direct ${rt.direct.emptyPolls}, proxied ${rt.proxied.emptyPolls}); their acks were skipped.`,
    );
  }
  lines.push(
    `- Concurrent ackers: ${formatCount(a.acks)} ack requests answered in the window, ${formatCount(a.ackedRecords)} records acked and ${formatCount(a.fencedRecords)} fenced by their answers; \`kgw_consume_records_acked_total\` rose by ${formatCount(a.counters.recordsAcked)}, \`kgw_consume_offset_commits_total\` by ${formatCount(a.counters.commits)} and \`kgw_consume_offset_commit_partitions_total\` by ${formatCount(a.counters.commitPartitions)}; ack latency max ${formatMs(a.ackLatency.max)} ms.`,
  );
  if (!('failed' in w)) {
    lines.push(
      `- Wakes: the holder got the record ${formatCount(w.holderMs)} ms after its first poll began (${w.holderPolls === 1 ? 'its first poll' : `**poll ${w.holderPolls}**: the earlier polls of ${formatCount(w.holderPollTimeoutMs)} ms answered empty`}); the waiting gauge reached ${formatCount(w.waitingMax)}. "Redis commands run" is \`INFO commandstats\` (commands inside scripts count, and so does any other client of that Redis); "sent by the gateway" is its \`kgw_redis_command_seconds_count\`. Commands run per window: idle before: ${commandMix(w.idle[0].byCommand)}; nack: ${commandMix(w.nack.byCommand)}; group wake: ${commandMix(w.subscribe.byCommand)}; idle after: ${commandMix(w.idle[1].byCommand)}. ` +
        (w.abortSettleMs === undefined
          ? 'After the remaining polls were aborted, the waiting gauge did not return to 0 within their timeout.'
          : `The remaining polls were then aborted; the waiting gauge was back to 0 after ${formatCount(w.abortSettleMs)} ms.`),
    );
  }
  for (const [reason, count] of a.failures) {
    lines.push(`- Concurrent ackers: ${formatCount(count)} failed: \`${reason}\``);
  }
  for (const [reason, count] of 'failed' in w ? [] : w.failures) {
    lines.push(`- Waiting polls: ${formatCount(count)} answered otherwise: \`${reason}\``);
  }
  for (const [who, logged] of [
    ['gateway', input.gatewayLines],
    ['proxied gateway', input.proxiedGatewayLines],
  ] as const) {
    for (const line of logged) lines.push(`- ${who} logged \`${line.slice(0, 200)}\``);
  }
  return lines;
}
