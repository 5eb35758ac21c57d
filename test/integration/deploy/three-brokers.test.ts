import Kafka from 'node-rdkafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../../support/eventually.js';
import { closeAllGateways, post, startGateway } from '../../support/gateway-in-process.js';
import { uniqueName } from '../../support/kafka.js';
import { RestConsumer } from '../../support/rest-consumer.js';
import { privateStack, stack, stopPrivateStack, type StackEnv } from '../../support/stack.js';

// Starts three more broker JVMs (about 10 s and 1 GiB); KGW_QUICK=1 skips it for a fast run.
const quick = process.env.KGW_QUICK === '1';

describe.skipIf(quick)(
  'deploy/local/stack up --brokers 3 --racks (skipped when KGW_QUICK=1)',
  () => {
    let runDir = '';
    let env: StackEnv;

    beforeAll(async () => {
      ({ runDir, env } = await privateStack('kgw-stack3-', '--brokers', '3', '--racks'));
    });

    afterAll(async () => {
      await closeAllGateways();
      await stopPrivateStack(runDir);
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

    it('spreads fetches over the leaders, and with KGW_CLIENT_RACK reads from the rack-local follower (KIP-392)', async () => {
      const topic = `racks-${Date.now()}`;
      const admin = Kafka.AdminClient.create({ 'metadata.broker.list': env.kafkaBrokers });
      await new Promise<void>((resolve, reject) =>
        admin.createTopic({ topic, num_partitions: 3, replication_factor: 3 }, 15_000, (err) =>
          err ? reject(err) : resolve(),
        ),
      );
      admin.disconnect();
      // Runs before the stop/start test, so leaders spread over the three brokers.
      // Metadata may lag the creation by a moment: ask until every partition has a leader.
      const leaders = await eventually(async () => {
        const found = await new Promise<number[]>((resolve, reject) => {
          const probe = new Kafka.Producer({ 'metadata.broker.list': env.kafkaBrokers });
          probe.connect({ timeout: 10_000, topic, allTopics: false }, (err, md) => {
            probe.disconnect();
            if (err) reject(err);
            else
              resolve(
                md.topics.find((t) => t.name === topic)?.partitions.map((p) => p.leader) ?? [],
              );
          });
        });
        expect(found.filter((leader) => leader >= 0)).toHaveLength(3);
        return found;
      });
      expect(new Set(leaders).size).toBeGreaterThan(1);
      const stackEnv = { KAFKA_BROKERS: env.kafkaBrokers, REDIS_URL: env.redisUrl };
      const plain = await startGateway(stackEnv);
      const local = await startGateway({ ...stackEnv, KGW_CLIENT_RACK: 'rack-2' });
      const value = 'x'.repeat(1024);
      await eventually(async () => {
        const res = await post(`${plain.url}/topics/${topic}`, {
          records: Array.from({ length: 300 }, (_, i) => ({ value, partition: i % 3 })),
        });
        expect(res.status).toBe(200);
      });

      const bytesPerBroker = async (url: string): Promise<Map<string, number>> => {
        const text = await (await fetch(`${url}/metrics`)).text();
        const out = new Map<string, number>();
        for (const m of text.matchAll(/^kgw_fetch_bytes_total\{broker="(\d+)"\} (\d+)/gm))
          out.set(m[1]!, Number(m[2]));
        return out;
      };
      for (const gw of [plain, local]) {
        const consumer = await RestConsumer.create(gw.url, uniqueName('g'));
        await consumer.subscribe(gw.url, [topic]);
        let received = 0;
        for (let i = 0; i < 40 && received < 300; i += 1)
          received += (await consumer.poll(gw.url, { timeout: 500 })).length;
        expect(received).toBe(300);
      }

      // Leaders are spread over the brokers, so plain fetchers talk to more than one.
      await eventually(async () => {
        const plainBytes = await bytesPerBroker(plain.url);
        expect(
          [...plainBytes.values()].filter((b) => b > 50_000).length,
          JSON.stringify([...plainBytes]),
        ).toBeGreaterThan(1);
      });
      // With a rack, librdkafka follows the leaders' preferred-read-replica answer to broker 2 (rack-2).
      await eventually(async () => {
        const localBytes = await bytesPerBroker(local.url);
        const total = [...localBytes.values()].reduce((a, b) => a + b, 0);
        expect(localBytes.get('2') ?? 0).toBeGreaterThan(total * 0.6);
      });
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
  },
);
