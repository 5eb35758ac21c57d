import type { Dispatcher } from 'undici';

/**
 * Scrapes the gateway's `/metrics` and returns each metric name with the sum
 * of its samples over all label sets (enough for gauges and counters read here).
 */
export async function scrapeMetrics(
  dispatcher: Dispatcher,
  origin: string,
): Promise<Map<string, number>> {
  const { statusCode, body } = await dispatcher.request({
    origin,
    path: '/metrics',
    method: 'GET',
  });
  const text = await body.text();
  if (statusCode !== 200) throw new Error(`GET /metrics answered ${statusCode}`);
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!match) continue;
    const value = Number(match[2]);
    if (Number.isFinite(value)) values.set(match[1]!, (values.get(match[1]!) ?? 0) + value);
  }
  return values;
}

/** Counters of the gateway's own work, from its /metrics; undefined where a metric is missing. */
export interface GatewayCounters {
  /** Redis commands the gateway sent (a script call counts once): `kgw_redis_command_seconds_count`. */
  readonly redisCommands: number | undefined;
  /** Bytes its fetchers received from Kafka: `kgw_fetch_bytes_total` (librdkafka statistics, once a second). */
  readonly fetchBytes: number | undefined;
  readonly fetchRequests: number | undefined;
}

export async function gatewayCounters(
  dispatcher: Dispatcher,
  origin: string,
): Promise<GatewayCounters> {
  const metrics = await scrapeMetrics(dispatcher, origin);
  return {
    redisCommands: metrics.get('kgw_redis_command_seconds_count'),
    fetchBytes: metrics.get('kgw_fetch_bytes_total'),
    fetchRequests: metrics.get('kgw_fetch_requests_total'),
  };
}

/** after − before per counter (undefined where either is missing). */
export function counterDelta(before: GatewayCounters, after: GatewayCounters): GatewayCounters {
  const d = (a: number | undefined, b: number | undefined): number | undefined =>
    a === undefined || b === undefined ? undefined : b - a;
  return {
    redisCommands: d(before.redisCommands, after.redisCommands),
    fetchBytes: d(before.fetchBytes, after.fetchBytes),
    fetchRequests: d(before.fetchRequests, after.fetchRequests),
  };
}
