import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Kafka from 'node-rdkafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseStackEnv, stack, type StackEnv } from '../../support/stack.js';

// Starts three more broker JVMs (about 10 s and 1 GiB); KGW_QUICK=1 skips it for a fast run.
const quick = process.env.KGW_QUICK === '1';

describe.skipIf(quick)('deploy/local/stack up --brokers 3 (skipped when KGW_QUICK=1)', () => {
  let runDir = '';
  let env: StackEnv;

  beforeAll(async () => {
    runDir = await mkdtemp(join(tmpdir(), 'kgw-stack3-'));
    env = parseStackEnv(await stack(runDir, 'up', '--brokers', '3'));
  });

  afterAll(async () => {
    if (runDir) {
      await stack(runDir, 'down');
      await rm(runDir, { recursive: true, force: true });
    }
  });

  it('brings up a cluster whose metadata lists three brokers', async () => {
    const producer = new Kafka.Producer({ 'metadata.broker.list': env.kafkaBrokers });
    try {
      const metadata = await new Promise<Kafka.Metadata>((resolve, reject) =>
        producer.connect({ timeout: 10_000 }, (err, data) => (err ? reject(err) : resolve(data))),
      );
      expect(metadata.brokers.map((b) => b.id).sort()).toEqual([1, 2, 3]);
      expect(env.kafkaBrokers.split(',')).toHaveLength(3);
    } finally {
      await new Promise<void>((resolve) => producer.disconnect(() => resolve()));
    }
  });

  it('reports each service in `stack status` and stops exactly what it started', async () => {
    const status = await stack(runDir, 'status');
    expect(status).toMatch(/^kafka-1 running/m);
    expect(status).toMatch(/^kafka-2 running/m);
    expect(status).toMatch(/^kafka-3 running/m);
    expect(status).toMatch(/^redis running/m);

    await stack(runDir, 'stop', 'kafka-3');
    expect(await stack(runDir, 'status')).toMatch(/^kafka-3 stopped/m);
    await stack(runDir, 'start', 'kafka-3');
    expect(await stack(runDir, 'status')).toMatch(/^kafka-3 running/m);
  });
});
