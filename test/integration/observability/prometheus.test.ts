import { execFile } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import type { ClientDuplexStream } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../../support/eventually.js';
import {
  closeAllGateways,
  post,
  startGateway,
  type RunningGateway,
} from '../../support/gateway-in-process.js';
import { closeAllClients, createTopic, uniqueName } from '../../support/kafka.js';
import { freePort } from '../../support/ports.js';
import { closeAllGrpcClients, gatewayClient, unary } from '../../support/grpc-client.js';
import { PrometheusServer } from '../../support/prometheus.js';
import { RestConsumer, produceNumbers } from '../../support/rest-consumer.js';
import { REPO_ROOT } from '../../support/stack.js';

const run = promisify(execFile);
const DASHBOARDS = join(REPO_ROOT, 'grafana', 'dashboards');
const RULES = join(REPO_ROOT, 'deploy', 'prometheus', 'rules');

/** Every PromQL expression of every dashboard panel, with Grafana's variables filled in. */
function dashboardExpressions(): { where: string; expr: string }[] {
  const out: { where: string; expr: string }[] = [];
  for (const file of readdirSync(DASHBOARDS).filter((f) => f.endsWith('.json'))) {
    const dashboard = JSON.parse(readFileSync(join(DASHBOARDS, file), 'utf8')) as {
      panels: { title: string; targets: { expr: string }[] }[];
    };
    for (const panel of dashboard.panels) {
      for (const target of panel.targets) {
        const expr = target.expr
          .replaceAll('$__rate_interval', '30s')
          .replaceAll('$instance', '.*')
          .replaceAll('$topic', '.*');
        out.push({ where: `${file}: ${panel.title}`, expr });
      }
    }
  }
  return out;
}

/**
 * Every alert rule's queries: the expression without its threshold, and each
 * side of an `and`, so "returns series" means the data is there, whether or
 * not the alert would fire right now.
 */
function ruleExpressions(): { where: string; expr: string }[] {
  const out: { where: string; expr: string }[] = [];
  for (const file of readdirSync(RULES)) {
    const doc = parse(readFileSync(join(RULES, file), 'utf8')) as {
      groups: { rules: { alert: string; expr: string }[] }[];
    };
    for (const rule of doc.groups.flatMap((g) => g.rules)) {
      for (const part of rule.expr.split(/\s+and\s+/)) {
        out.push({
          where: `${file}: ${rule.alert}`,
          expr: part.replace(/\s*(>|<|==|>=|<=|!=)\s*[\d.]+\s*$/, ''),
        });
      }
    }
  }
  return out;
}

describe('dashboards and alerts against a real Prometheus scraping gateways under traffic', () => {
  let prometheus: PrometheusServer;
  let a: RunningGateway;
  let b: RunningGateway;
  const fast = { KGW_KAFKA_STATS_INTERVAL_MS: '1000', KGW_CONSUMER_STATS_INTERVAL_MS: '1000' };

  beforeAll(async () => {
    a = await startGateway(fast);
    // A long linger keeps a batch queued while a second one finds the queue full (429).
    b = await startGateway({
      ...fast,
      KGW_PRODUCE_QUEUE_MAX_MESSAGES: '100',
      KGW_PRODUCER_LINGER_MS: '1000',
    });
    // A third instance that reaches neither Kafka nor Redis: 5xx answers, dependency_up 0, Redis errors.
    const dead = await startGateway({
      KAFKA_BROKERS: `127.0.0.1:${await freePort()}`,
      REDIS_URL: `redis://127.0.0.1:${await freePort()}`,
      KGW_READY_TIMEOUT_MS: '500',
    });
    const targets = [a, b, dead].map((g) => new URL(g.url).host);
    prometheus = await PrometheusServer.start(targets, [join(RULES, 'kafka-gateway.yml')]);

    const topic = await createTopic({ partitions: 3 });
    await produceNumbers(a.url, topic, 300);
    await produceNumbers(b.url, topic, 50);
    await post(
      `${a.url}/topics/${topic}`,
      { records: [{ value: 1 }] },
      { headers: { 'idempotency-key': uniqueName('k') } },
    );
    const key = uniqueName('k');
    for (let i = 0; i < 2; i += 1)
      await post(
        `${b.url}/topics/${topic}`,
        { records: [{ value: 2 }] },
        { headers: { 'idempotency-key': key } },
      );
    await post(`${a.url}/topics/missing-topic-${Date.now()}`, { records: [{ value: 1 }] });
    const batch = { records: Array.from({ length: 60 }, (_, i) => ({ value: i })) };
    const queued = post(`${b.url}/topics/${topic}`, batch);
    await new Promise((resolve) => setTimeout(resolve, 200));
    await post(`${b.url}/topics/${topic}`, batch); // 429
    await queued;
    await post(`${dead.url}/topics/${topic}`, { records: [{ value: 1 }] }); // 503
    await fetch(`${dead.url}/consumers/g/instances/c/records`); // Redis error, 503
    const stream = await fetch(`${a.url}/v3/clusters/kafka-gateway/topics/${topic}/records`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"value":{"data":1}}\n{"value":{"data":2}}',
    });
    expect(stream.status).toBe(200);
    await stream.text();

    // gRPC: a unary call and a stream, so the gRPC panels have data. Their values are JSON:
    // the json consumer below reads the whole topic.
    const grpc = gatewayClient(a.grpcAddress);
    await unary(grpc, 'Produce', { topic, records: [{ value: Buffer.from('"g"') }] });
    const grpcStream = (grpc.ProduceStream as () => ClientDuplexStream<unknown, unknown>).call(
      grpc,
    );
    const grpcStreamDone = new Promise<void>((resolve) =>
      grpcStream.on('end', resolve).on('error', () => resolve()),
    );
    grpcStream.on('data', () => undefined);
    grpcStream.write({ topic, record: { value: Buffer.from('"s"') } });
    grpcStream.end();
    await grpcStreamDone;
    // An open stream for kgw_grpc_streams_open, closed with the gateways.
    const open = (grpc.ProduceStream as () => ClientDuplexStream<unknown, unknown>).call(grpc);
    open.on('error', () => undefined);

    // Consume: deliveries and acks that commit offsets (lag), on both instances.
    const s = await RestConsumer.create(a.url, uniqueName('g'));
    await s.subscribe(a.url, [topic]);
    await s.ack(a.url, await s.poll(a.url, { timeout: 3000, max_records: 100 }));
    await s.ack(b.url, await s.poll(b.url, { timeout: 3000, max_records: 100 }));
    // A poison record: nacked, redelivered, nacked again, dead-lettered.
    const poisonTopic = await createTopic();
    await createTopic({ name: `${poisonTopic}.dlq` }); // the gateway never creates it
    await produceNumbers(a.url, poisonTopic, 1);
    const p = await RestConsumer.create(b.url, uniqueName('g'), { 'max.attempts': 2 });
    await p.subscribe(b.url, [poisonTopic]);
    for (let attempt = 1; attempt <= 2; attempt += 1) {
      const [poison] = await p.poll(b.url, { timeout: 3000 });
      expect(poison!.attempt).toBe(attempt);
      await p.nack(b.url, [poison!], { error: `boom ${attempt}` });
    }
    expect(await p.poll(b.url, { timeout: 500 })).toEqual([]);
    // A topic without its <topic>.dlq: the gateway does not create it, the write fails and is counted.
    const orphan = await createTopic();
    await produceNumbers(a.url, orphan, 1);
    const f = await RestConsumer.create(a.url, uniqueName('g'), { 'max.attempts': 1 });
    await f.subscribe(a.url, [orphan]);
    const [doomed] = await f.poll(a.url, { timeout: 3000 });
    await f.nack(a.url, [doomed!]);
    await eventually(async () => {
      await f.poll(a.url, { timeout: 0 }); // a poll sends what is dead to the dead-letter topic
      const metrics = await (await fetch(`${a.url}/metrics`)).text();
      expect(metrics).toMatch(/kgw_consume_dead_letter_failures_total\{topic="[^"]+"\} [1-9]/);
    });
  });

  afterAll(async () => {
    closeAllGrpcClients();
    await prometheus?.stop();
    await closeAllGateways();
    await closeAllClients();
  });

  it('scrapes every gateway and loads every alert rule', async () => {
    await eventually(async () => {
      const targets = await prometheus.api<{ data: { activeTargets: { health: string }[] } }>(
        '/api/v1/targets',
      );
      expect(targets.data.activeTargets.map((t) => t.health)).toEqual(['up', 'up', 'up']);
    });
    const rules = await prometheus.api<{
      data: { groups: { rules: { name: string; health: string }[] }[] };
    }>('/api/v1/rules');
    const loaded = rules.data.groups.flatMap((g) => g.rules);
    expect(loaded).toHaveLength(
      ruleExpressions()
        .map((r) => r.where)
        .filter((w, i, all) => all.indexOf(w) === i).length,
    );
    expect(loaded.every((r) => r.health !== 'err')).toBe(true);
  });

  it.each([...dashboardExpressions(), ...ruleExpressions()])(
    '$where: $expr returns series',
    async ({ expr }) => {
      await eventually(
        async () => {
          const result = await prometheus.query(expr);
          expect(result.error, expr).toBeUndefined();
          expect(result.status).toBe('success');
          expect(result.data!.result.length, `no series for ${expr}`).toBeGreaterThan(0);
        },
        { timeoutMs: 30_000, intervalMs: 1000 },
      );
    },
  );

  it('serves /metrics that promtool check metrics accepts', async () => {
    const text = await (await fetch(`${a.url}/metrics`)).text();
    const child = run('promtool', ['check', 'metrics']);
    child.child.stdin!.end(text);
    const { stdout, stderr } = await child;
    expect(`${stdout}${stderr}`.trim()).toBe('');
  });
});
