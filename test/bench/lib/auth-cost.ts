import { startAuthGateways, checkAuthGateway, type AuthGateway } from './auth-gateways.js';
import { measureThroughput, type ThroughputResult } from './closed-loop.js';
import { CpuMeter } from './cpu-meter.js';
import { formatCount, formatMs } from './markdown-table.js';
import { measureOpenLoop, type OpenLoopResult } from './open-loop.js';
import type { BenchContext } from './scenario.js';
import { sleep } from './timing.js';
import { V2ProduceTarget } from './v2-produce-target.js';

/** How the authentication cost is measured; the phases mirror produce case (b). */
export interface AuthCostSettings {
  readonly value: Buffer;
  /** Requests of 1 record kept outstanding at max throughput (and connections in the pool). */
  readonly concurrency: number;
  readonly warmupMs: number;
  /** Window of each of the two max-throughput rounds per gateway. */
  readonly roundWindowMs: number;
  readonly latencyWindowMs: number;
  readonly drainTimeoutMs: number;
  /** Creates a fresh topic for one gateway (deleted with the scenario's topics). */
  createTopic(prefix: string): Promise<string>;
}

/** What one KGW_AUTH setting measured. */
export interface AuthCostResult {
  readonly mode: AuthGateway['mode'];
  /** Max throughput rounds, in the order run (round 1 first). */
  readonly rounds: readonly ThroughputResult[];
  /** At the same offered rate for every gateway; undefined when nothing was written. */
  readonly latency: OpenLoopResult | undefined;
}

/**
 * Single-record v2 produce through gateways with KGW_AUTH=none, api-key and
 * jwt (quotas off), in one run. Max throughput runs in two rounds, in the
 * order none, api-key, jwt, then jwt, api-key, none, so a load that drifts
 * through the run (other processes on the machine) weighs on every gateway
 * about equally. Latency is then measured open-loop at one rate for all three,
 * half of the lowest mean max throughput, so their latencies compare at equal load.
 */
export async function measureAuthCost(
  context: BenchContext,
  settings: AuthCostSettings,
): Promise<readonly AuthCostResult[]> {
  const { stack, cleanups, log } = context;
  const gateways = await startAuthGateways(stack, cleanups);
  const targets = new Map<AuthGateway, V2ProduceTarget>();
  try {
    for (const auth of gateways) {
      const topic = await settings.createTopic(`produce-auth-${auth.mode}`);
      await checkAuthGateway(auth, topic);
      targets.set(
        auth,
        new V2ProduceTarget({
          name: `auth ${auth.mode}`,
          baseUrl: auth.gateway.url,
          topic,
          value: settings.value,
          recordsPerSend: 1,
          connections: settings.concurrency,
          headers: auth.headers,
        }),
      );
    }
    const rounds = new Map<AuthGateway, ThroughputResult[]>(gateways.map((g) => [g, []]));
    for (const auth of [...gateways, ...[...gateways].reverse()]) {
      const round = rounds.get(auth)!.length + 1;
      log(
        `KGW_AUTH=${auth.mode}: max throughput, round ${round} (${settings.concurrency} concurrent requests)`,
      );
      const result = await measureThroughput(targets.get(auth)!, {
        concurrency: settings.concurrency,
        warmupMs: settings.warmupMs,
        windowMs: settings.roundWindowMs,
        drainTimeoutMs: settings.drainTimeoutMs,
        cpu: new CpuMeter({ gateway: auth.gateway.pid, kafka: stack.kafkaPid }),
      });
      log(`KGW_AUTH=${auth.mode}: ${formatCount(result.recordsPerSec)} records/s`);
      rounds.get(auth)!.push(result);
    }

    const rate = Math.min(...gateways.map((g) => meanRate(rounds.get(g)!))) / 2;
    const latencies = new Map<AuthGateway, OpenLoopResult>();
    // Half of nothing is no rate to offer: with a gateway that wrote nothing there is no latency phase.
    if (rate >= 1) {
      for (const auth of gateways) {
        await sleep(1000);
        log(`KGW_AUTH=${auth.mode}: open-loop latency at ${formatCount(rate)} records/s`);
        const latency = await measureOpenLoop(targets.get(auth)!, {
          recordsPerSec: rate,
          warmupMs: settings.warmupMs,
          windowMs: settings.latencyWindowMs,
          drainTimeoutMs: settings.drainTimeoutMs,
          cpu: new CpuMeter({ gateway: auth.gateway.pid, kafka: stack.kafkaPid }),
        });
        log(
          `KGW_AUTH=${auth.mode}: p50 ${formatMs(latency.latency.p50)} ms, p99 ${formatMs(latency.latency.p99)} ms`,
        );
        latencies.set(auth, latency);
      }
    }
    return gateways.map((auth) => ({
      mode: auth.mode,
      rounds: rounds.get(auth)!,
      latency: latencies.get(auth),
    }));
  } finally {
    await Promise.all([...targets.values()].map((target) => target.close()));
    // Stopped here, not only at the end of the run, so they cost nothing in later scenarios.
    await Promise.all(gateways.map((auth) => auth.gateway.stop()));
  }
}

/** Records/s over the rounds, which have equal windows. */
export function meanRate(rounds: readonly ThroughputResult[]): number {
  return rounds.reduce((sum, r) => sum + r.recordsPerSec, 0) / Math.max(1, rounds.length);
}
