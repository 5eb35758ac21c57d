// SIGTERM while clients are busy or idle: every request is answered (2xx, or a
// retryable 503 KGW_SHUTTING_DOWN once draining started), nothing acknowledged
// is lost, and the process exits 0 well inside its shutdown deadline, also when
// a client keeps an idle keep-alive connection open.
import { Agent } from 'node:http';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { recordReport } from '../../support/fault-report.js';
import { killAllGateways, spawnGateway } from '../../support/gateway-process.js';
import { call } from '../../support/http-call.js';
import { closeAllClients, createTopic, readTopic, uniqueName } from '../../support/kafka.js';

describe('SIGTERM', () => {
  afterEach(closeAllClients);
  afterAll(killAllGateways);

  it('under produce load: answers every request, loses no acknowledged record, exits 0', async () => {
    const topic = await createTopic({ partitions: 3 });
    const gw = await spawnGateway();
    const agent = new Agent({ keepAlive: true, maxSockets: 32 });
    const acked: number[] = [];
    // Requests that got no HTTP answer: refused, or sent on a keep-alive connection the server
    // closed as idle. The server never read them, so none may be in Kafka.
    const unanswered: number[] = [];
    const outcomes = new Map<string, number>();
    let next = 0;
    const worker = async (): Promise<void> => {
      for (;;) {
        const value = (next += 1);
        const res = await call(agent, `${gw.url}/topics/${topic}`, 'POST', {
          records: [{ value }],
        });
        const outcome = 'error' in res ? res.error : String(res.status);
        outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
        if ('status' in res && res.status === 200) acked.push(value);
        if ('error' in res) unanswered.push(value);
        if ('error' in res || res.status === 503) return;
      }
    };
    const load = Promise.all(Array.from({ length: 32 }, worker));
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const signalled = Date.now();
    gw.proc.kill('SIGTERM');
    const exit = await gw.exited;
    const exitMs = Date.now() - signalled;
    await load;
    agent.destroy();

    const found = new Set(
      (await readTopic(topic, { count: acked.length, timeoutMs: 10_000 })).map((r) =>
        Number(r.value!.toString()),
      ),
    );
    const lost = acked.filter((v) => !found.has(v)).length;
    const unansweredWritten = unanswered.filter((v) => found.has(v)).length;
    recordReport('gateway SIGTERM under produce load (32 keep-alive clients)', {
      requests: [...outcomes.values()].reduce((a, b) => a + b, 0),
      outcomes: [...outcomes].map(([o, n]) => `${o}×${n}`).join(' '),
      acked: acked.length,
      lost,
      'unanswered but written': unansweredWritten,
      'exit code': String(exit.code),
      'exit after': `${exitMs} ms`,
    });
    expect(exit).toEqual({ code: 0, signal: null });
    expect(lost).toBe(0);
    // Answered, or never read by the server: refused (the listener had closed) or reset on a
    // connection closed while idle. Never cut mid-way through a request it accepted.
    for (const outcome of outcomes.keys())
      expect(['200', '503', 'ECONNREFUSED', 'ECONNRESET']).toContain(outcome);
    expect(unansweredWritten).toBe(0);
    expect(exitMs).toBeLessThan(5000);
  }, 60_000);

  it('with a keep-alive connection left idle by the long-poll it answered: exits 0 at once', async () => {
    const topic = await createTopic();
    const gw = await spawnGateway();
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const group = uniqueName('g');
    const created = await call(
      agent,
      `${gw.url}/consumers/${group}`,
      'POST',
      { format: 'binary' },
      'application/vnd.kafka.v2+json',
    );
    expect(created).toMatchObject({ status: 200 });
    const { instance_id: id } = JSON.parse((created as { text: string }).text) as {
      instance_id: string;
    };
    const base = `${gw.url}/consumers/${group}/instances/${id}`;
    expect(
      await call(
        agent,
        `${base}/subscription`,
        'POST',
        { topics: [topic] },
        'application/vnd.kafka.v2+json',
      ),
    ).toMatchObject({ status: 204 });
    // A long-poll is waiting when the signal comes; it is answered, and its connection then
    // sits idle in the agent's pool.
    const poll = call(agent, `${base}/records?timeout=20000`, 'GET');
    await new Promise((resolve) => setTimeout(resolve, 300));
    const signalled = Date.now();
    gw.proc.kill('SIGTERM');
    expect(await poll).toMatchObject({ status: 200 });
    const exit = await gw.exited;
    const exitMs = Date.now() - signalled;
    agent.destroy();
    recordReport('gateway SIGTERM with an idle keep-alive client', {
      'exit code': String(exit.code),
      'exit after': `${exitMs} ms`,
    });
    expect(exit).toEqual({ code: 0, signal: null });
    expect(exitMs).toBeLessThan(3000);
  }, 60_000);
});
