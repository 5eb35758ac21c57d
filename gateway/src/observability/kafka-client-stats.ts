import type { Metrics } from './metrics.js';

interface BrokerStats {
  readonly nodeid?: number;
  readonly state?: string;
  readonly outbuf_cnt?: number;
  readonly waitresp_cnt?: number;
  readonly txerrs?: number;
  readonly rxerrs?: number;
  readonly req_timeouts?: number;
  readonly rtt?: { readonly avg?: number };
}

/**
 * Turns a librdkafka client's statistics JSON (statistics.interval.ms) into
 * per-broker health gauges: round-trip time, queued and awaited requests,
 * connection state, error counts.
 */
export function kafkaClientStatsRecorder(metrics: Metrics, client: string): (json: string) => void {
  const lastErrors = new Map<number, number>();
  return (json) => {
    let stats: { brokers?: Record<string, BrokerStats> };
    try {
      stats = JSON.parse(json) as { brokers?: Record<string, BrokerStats> };
    } catch {
      return;
    }
    for (const b of Object.values(stats.brokers ?? {})) {
      const id = b.nodeid ?? -1;
      if (id < 0) continue; // bootstrap placeholders
      const labels = { client, broker: String(id) };
      metrics.kafkaBrokerRtt.set(labels, (b.rtt?.avg ?? 0) / 1e6);
      metrics.kafkaBrokerOutbuf.set(labels, b.outbuf_cnt ?? 0);
      metrics.kafkaBrokerWaitresp.set(labels, b.waitresp_cnt ?? 0);
      metrics.kafkaBrokerConnected.set(labels, b.state === 'UP' ? 1 : 0);
      const errors = (b.txerrs ?? 0) + (b.rxerrs ?? 0) + (b.req_timeouts ?? 0);
      const before = lastErrors.get(id) ?? 0;
      if (errors > before) metrics.kafkaBrokerErrors.inc(labels, errors - before);
      else metrics.kafkaBrokerErrors.inc(labels, 0); // the series exists from the first report on
      lastErrors.set(id, errors);
    }
  };
}
