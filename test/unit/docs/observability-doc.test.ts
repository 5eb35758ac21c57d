import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { metricCatalogue } from '../../support/metric-catalogue.js';
import { REPO_ROOT } from '../../support/stack.js';

function documented(): Map<string, { type: string; labels: string[] }> {
  const text = readFileSync(join(REPO_ROOT, 'docs', 'OBSERVABILITY.md'), 'utf8');
  const rows = new Map<string, { type: string; labels: string[] }>();
  for (const line of text.split('\n')) {
    const match = /^\|\s*`(kgw_[a-z_]+)`\s*\|\s*([a-z]+)\s*\|\s*([^|]*)\|/.exec(line);
    if (!match) continue;
    const labels = match[3]!.trim() === '—' ? [] : match[3]!.split(',').map((l) => l.trim());
    rows.set(match[1]!, { type: match[2]!, labels });
  }
  return rows;
}

describe('docs/OBSERVABILITY.md', () => {
  it('lists exactly the kgw_ metrics the registry exposes, with their types and labels', async () => {
    const actual = await metricCatalogue();
    const rows = documented();
    expect([...rows.keys()].sort()).toEqual(actual.map((m) => m.name));
    for (const m of actual) {
      expect({ name: m.name, ...rows.get(m.name) }).toEqual({
        name: m.name,
        type: m.type,
        labels: m.labels,
      });
    }
  });

  it('follows Prometheus naming: base units and _total only on counters', async () => {
    for (const m of await metricCatalogue()) {
      expect(m.name.endsWith('_total'), m.name).toBe(m.type === 'counter');
      expect(m.name, m.name).not.toMatch(/_(ms|milliseconds|kb|mb)(_|$)/);
      expect(
        m.labels.filter((l) => /key|instance_id|offset|session|id$/.test(l)),
        m.name,
      ).toEqual([]);
    }
  });
});
