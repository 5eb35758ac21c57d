import { Registry } from 'prom-client';
import { createMetrics } from '../../gateway/src/observability/metrics.js';

export interface MetricEntry {
  readonly name: string;
  readonly type: string;
  readonly labels: readonly string[];
  readonly help: string;
}

/** Every kgw_* metric the gateway registers, from a fresh registry. */
export async function metricCatalogue(): Promise<MetricEntry[]> {
  const registry = new Registry();
  createMetrics(registry, { version: 'test', node: process.version });
  const json = await registry.getMetricsAsJSON();
  return json
    .filter((m) => m.name.startsWith('kgw_'))
    .map((m) => {
      const metric = registry.getSingleMetric(m.name) as unknown as { labelNames?: string[] };
      return {
        name: m.name,
        type: String(m.type),
        labels: [...(metric.labelNames ?? [])],
        help: m.help,
      };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}
