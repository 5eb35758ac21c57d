import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createMetrics, silence } from '../../../gateway/src/observability/metrics.js';

describe('metrics', () => {
  it('records through label-bound children and plain handles', async () => {
    const registry = new Registry();
    const metrics = createMetrics(registry, { version: 'v', node: 'n' });
    metrics.produceRecords.labels({ topic: 't', delivery: 'fast', outcome: 'ok' }).inc(3);
    metrics.consumeLeaseMoves.inc();
    const text = await registry.metrics();
    expect(text).toContain('kgw_produce_records_total{topic="t",delivery="fast",outcome="ok"} 3');
    expect(text).toContain('kgw_consume_lease_moves_total 1');
  });

  it('records nothing once silenced (KGW_METRICS_ENABLED=false)', async () => {
    const registry = new Registry();
    const metrics = silence(createMetrics(registry, { version: 'v', node: 'n' }));
    metrics.produceRecords.labels({ topic: 't', delivery: 'fast', outcome: 'ok' }).inc(3);
    metrics.produceRecords.inc({ topic: 't', delivery: 'fast', outcome: 'ok' });
    metrics.produceDeliverySeconds.observe({ delivery: 'fast' }, 0.1);
    metrics.consumeLeaseMoves.inc();
    const text = await registry.metrics();
    expect(text).not.toContain('kgw_produce_records_total{');
    expect(text).toContain('kgw_consume_lease_moves_total 0');
    expect(text).not.toMatch(/kgw_produce_delivery_seconds_count\{delivery="fast"\} [1-9]/);
  });
});
