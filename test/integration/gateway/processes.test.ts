// KGW_PROCESSES=2: one supervisor forks two gateway processes that share the
// ports. Both serve, /metrics covers both, a process that dies is replaced
// while the other keeps serving, SIGTERM drains all of them (nothing
// acknowledged lost, exit 0), a SIGKILLed supervisor leaves no process behind,
// and a process that cannot listen stops the whole gateway with exit code 1.
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { Agent } from 'node:http';
import { createServer } from 'node:net';
import { once } from 'node:events';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { eventually } from '../../support/eventually.js';
import { recordReport } from '../../support/fault-report.js';
import {
  killAllGateways,
  spawnGateway,
  spawnRaw,
  waitForLog,
  type GatewayProcess,
} from '../../support/gateway-process.js';
import { closeAllGrpcClients, gatewayClient, unary } from '../../support/grpc-client.js';
import { call } from '../../support/http-call.js';
import { closeAllClients, createTopic, readTopic } from '../../support/kafka.js';

/** Pids of a process's children (Linux). */
function children(pid: number): number[] {
  return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
    .trim()
    .split(/\s+/)
    .filter((s) => s !== '')
    .map(Number);
}

/** How many established TCP connections a process holds (its socket fds found in /proc/net/tcp). */
function establishedTcp(pid: number): number {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match) inodes.add(match[1]!);
    } catch {
      // closed meanwhile
    }
  }
  return ['/proc/net/tcp', '/proc/net/tcp6']
    .flatMap((table) => readFileSync(table, 'utf8').trim().split('\n').slice(1))
    .map((row) => row.trim().split(/\s+/))
    .filter((cols) => cols[3] === '01' && inodes.has(cols[9]!)).length;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A supervisor with `processes` gateway processes, once all of them listen. */
async function spawnSupervised(
  processes = 2,
  env: Record<string, string> = {},
): Promise<GatewayProcess & { grpcAddress: string }> {
  const child = spawnRaw({ KGW_PROCESSES: String(processes), ...env });
  const listening = await Promise.race([
    waitForLog(child.logs, (l) => l.msg === 'gateway processes listening'),
    child.exited.then((exit) => {
      throw new Error(`supervisor exited (${JSON.stringify(exit)}):\n${child.stderr()}`);
    }),
  ]);
  return {
    ...child,
    url: `http://127.0.0.1:${String(listening.httpPort)}`,
    grpcAddress: `127.0.0.1:${String(listening.grpcPort)}`,
  };
}

async function scrape(url: string): Promise<string> {
  const res = await fetch(`${url}/metrics`);
  expect(res.status).toBe(200);
  return res.text();
}

/** The sum of every sample of `name` whose labels include `labels`. */
function sample(text: string, name: string, labels = ''): number {
  return text
    .split('\n')
    .filter((l) => (l.startsWith(`${name}{`) || l.startsWith(`${name} `)) && l.includes(labels))
    .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

interface Load {
  readonly acked: number[];
  readonly outcomes: Map<string, number>;
  /** Stops the clients and waits for their last requests. */
  stop(): Promise<void>;
}

/**
 * Clients producing one numbered record per request on keep-alive connections.
 * A client whose connection failed goes on with a new one unless `stopOnError`.
 */
function produceLoad(url: string, topic: string, clients: number, stopOnError: boolean): Load {
  const agent = new Agent({ keepAlive: true, maxSockets: clients });
  const acked: number[] = [];
  const outcomes = new Map<string, number>();
  let next = 0;
  let stopped = false;
  const client = async (): Promise<void> => {
    while (!stopped) {
      const value = (next += 1);
      const res = await call(agent, `${url}/topics/${topic}`, 'POST', { records: [{ value }] });
      const outcome = 'error' in res ? res.error : String(res.status);
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      if ('status' in res && res.status === 200) acked.push(value);
      if (stopOnError && ('error' in res || res.status === 503)) return;
    }
  };
  const running = Promise.all(Array.from({ length: clients }, client));
  return {
    acked,
    outcomes,
    stop: async () => {
      stopped = true;
      await running;
      agent.destroy();
    },
  };
}

/** Records the load's outcomes in the fault report. */
function report(title: string, load: Load, lost: number, extra: Record<string, string>): void {
  recordReport(title, {
    outcomes: [...load.outcomes].map(([o, n]) => `${o}×${n}`).join(' '),
    acked: load.acked.length,
    lost,
    ...extra,
  });
}

async function lostOf(topic: string, acked: readonly number[]): Promise<number> {
  const found = new Set(
    (await readTopic(topic, { count: acked.length, timeoutMs: 15_000 })).map((r) =>
      Number(r.value!.toString()),
    ),
  );
  return acked.filter((v) => !found.has(v)).length;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('KGW_PROCESSES=2', () => {
  afterEach(closeAllClients);
  afterEach(closeAllGrpcClients);
  afterAll(killAllGateways);

  it('serves one port from two processes, and /metrics covers both', async () => {
    const topic = await createTopic({ partitions: 3 });
    const gw = await spawnSupervised();
    const pids = children(gw.proc.pid!);
    expect(pids).toHaveLength(2);
    // The supervisor never loads the gateway's modules: Kafka's native client is mapped
    // into each gateway process only.
    const mapsLibrdkafka = (pid: number): boolean =>
      readFileSync(`/proc/${pid}/maps`, 'utf8').includes('node-librdkafka.node');
    expect(mapsLibrdkafka(gw.proc.pid!)).toBe(false);
    expect(pids.map(mapsLibrdkafka)).toEqual([true, true]);
    // Nor does it connect to anything (Redis, Kafka): its sockets listen or talk to its processes.
    expect(establishedTcp(gw.proc.pid!)).toBe(0);
    for (const pid of pids) expect(establishedTcp(pid)).toBeGreaterThan(0);

    // Each request on its own connection: the supervisor hands connections out in turn.
    for (let i = 0; i < 20; i += 1) {
      const agent = new Agent({ keepAlive: false });
      expect(
        await call(agent, `${gw.url}/topics/${topic}`, 'POST', { records: [{ value: i }] }),
      ).toMatchObject({ status: 200 });
      agent.destroy();
    }

    // gRPC shares its port the same way: one client, one connection, one process.
    const grpc = await unary<{ results: { error?: unknown }[] }>(
      gatewayClient(gw.grpcAddress),
      'Produce',
      { topic, records: [{ value: Buffer.from('grpc') }] },
    );
    expect(grpc.results).toHaveLength(1);
    expect(grpc.results[0]!.error).toBeFalsy();

    const servedBy = new Set(
      gw.logs.filter((l) => l.msg === 'request' && l.route === '/topics/:topic').map((l) => l.pid),
    );
    expect([...servedBy].sort()).toEqual([...pids].sort());
    // Whichever process answers the scrape, it reports both processes' counts once.
    for (let i = 0; i < 4; i += 1) {
      const text = await scrape(gw.url);
      expect(sample(text, 'kgw_gateway_processes')).toBe(2);
      expect(sample(text, 'kgw_produce_records_total', 'outcome="ok"')).toBe(21);
      expect(sample(text, 'kgw_build_info')).toBe(1);
      expect(sample(text, 'kgw_dependency_up', 'dependency="redis"')).toBe(1);
    }
  }, 60_000);

  it('replaces a process that dies while the other keeps serving; nothing acknowledged is lost', async () => {
    const topic = await createTopic({ partitions: 3 });
    const gw = await spawnSupervised();
    const [victim, survivor] = children(gw.proc.pid!) as [number, number];
    const load = produceLoad(gw.url, topic, 16, false);
    await sleep(1000);
    process.kill(victim, 'SIGKILL');
    const killedAt = Date.now();
    const replaced = await eventually(
      () => {
        const now = children(gw.proc.pid!);
        expect(now).toHaveLength(2);
        expect(now).not.toContain(victim);
        return now;
      },
      { timeoutMs: 15_000, intervalMs: 50 },
    );
    const replacedMs = Date.now() - killedAt;
    const newcomer = replaced.find((pid) => pid !== survivor)!;
    // The newcomer takes connections too, once it listens.
    await waitForLog(gw.logs, (l) => l.msg === 'gateway listening' && l.pid === newcomer);
    await sleep(1000);
    const ackedBefore = load.acked.length;
    await sleep(1000);
    await load.stop();

    const lost = await lostOf(topic, load.acked);
    report('KGW_PROCESSES=2, one gateway process SIGKILLed under produce load', load, lost, {
      'replaced after': `${replacedMs} ms`,
    });
    expect(lost).toBe(0);
    expect(load.acked.length).toBeGreaterThan(ackedBefore);
    // Answered, or cut with the connection the killed process held; never a 5xx.
    for (const outcome of load.outcomes.keys()) expect(['200', 'ECONNRESET']).toContain(outcome);
    expect(gw.logs.some((l) => l.msg === 'a gateway process died; starting another')).toBe(true);
    expect(sample(await scrape(gw.url), 'kgw_gateway_processes')).toBe(2);
    expect(alive(gw.proc.pid!)).toBe(true);
  }, 90_000);

  it('stops with exit code 1 when its processes keep dying, instead of restarting them forever', async () => {
    const gw = await spawnSupervised(2, { KGW_SHUTDOWN_TIMEOUT_MS: '2000' });
    const killed: number[] = [];
    // Five replacements a minute are allowed; the sixth death stops the gateway.
    for (let i = 0; i < 6; i += 1) {
      const current = await eventually(
        () => {
          const now = children(gw.proc.pid!);
          expect(now).toHaveLength(2);
          for (const pid of now)
            expect(gw.logs.some((l) => l.msg === 'gateway listening' && l.pid === pid)).toBe(true);
          return now;
        },
        { timeoutMs: 20_000, intervalMs: 50 },
      );
      const victim = current.find((pid) => !killed.includes(pid))!;
      killed.push(victim);
      process.kill(victim, 'SIGKILL');
      await eventually(() => expect(alive(victim)).toBe(false), { timeoutMs: 5000 });
      if (i < 5)
        await eventually(() => expect(children(gw.proc.pid!)).toHaveLength(2), {
          timeoutMs: 10_000,
          intervalMs: 50,
        });
    }
    const exit = await gw.exited;

    expect(exit.code).toBe(1);
    expect(
      gw.logs.filter((l) => l.msg === 'a gateway process died; starting another'),
    ).toHaveLength(5);
    expect(gw.logs.some((l) => l.msg === 'gateway processes keep dying; stopping')).toBe(true);
    const forked = new Set(gw.logs.map((l) => l.pid).filter((pid) => typeof pid === 'number'));
    expect([...forked].filter((pid) => alive(pid as number))).toEqual([]);
  }, 120_000);

  it('drains every process on SIGTERM: answers every request, loses nothing acknowledged, exits 0', async () => {
    const topic = await createTopic({ partitions: 3 });
    const gw = await spawnSupervised();
    const pids = children(gw.proc.pid!);
    const load = produceLoad(gw.url, topic, 32, true);
    await sleep(1500);
    const signalled = Date.now();
    gw.proc.kill('SIGTERM');
    const exit = await gw.exited;
    const exitMs = Date.now() - signalled;
    await load.stop();

    const lost = await lostOf(topic, load.acked);
    report('KGW_PROCESSES=2, supervisor SIGTERM under produce load', load, lost, {
      'exit after': `${exitMs} ms`,
    });
    expect(exit).toEqual({ code: 0, signal: null });
    expect(lost).toBe(0);
    for (const outcome of load.outcomes.keys())
      expect(['200', '503', 'ECONNREFUSED', 'ECONNRESET']).toContain(outcome);
    expect(pids.filter(alive)).toEqual([]);
    expect(gw.logs.filter((l) => l.msg === 'shutdown complete')).toHaveLength(2);
    expect(gw.logs.filter((l) => l.level === 'error' || l.level === 'fatal')).toEqual([]);
    expect(exitMs).toBeLessThan(5000);
  }, 60_000);

  it('leaves no gateway process behind when the supervisor is SIGKILLed; the port is free again', async () => {
    const gw = await spawnSupervised();
    const pids = children(gw.proc.pid!);
    const port = new URL(gw.url).port;
    gw.proc.kill('SIGKILL');
    await gw.exited;
    await eventually(() => expect(pids.filter(alive)).toEqual([]), { timeoutMs: 5000 });

    const next = await spawnGateway({ KGW_HTTP_PORT: port });
    expect((await fetch(`${next.url}/healthz`)).status).toBe(200);
  }, 60_000);

  it('stops with exit code 1 when a process cannot listen, leaving none behind', async () => {
    const blocker = createServer();
    blocker.listen(0, '127.0.0.1');
    await once(blocker, 'listening');
    const address = blocker.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    try {
      const gw = spawnRaw({ KGW_PROCESSES: '2', KGW_HTTP_PORT: String(port) });
      const exit = await gw.exited;

      expect(exit.code).toBe(1);
      expect(
        gw.logs.some((l) => l.level === 'fatal' && JSON.stringify(l).includes('EADDRINUSE')),
      ).toBe(true);
      expect(gw.logs.some((l) => l.msg.includes('exited before it listened'))).toBe(true);
      expect(gw.logs.some((l) => l.msg === 'gateway processes listening')).toBe(false);
      const forked = new Set(gw.logs.map((l) => l.pid).filter((pid) => typeof pid === 'number'));
      expect([...forked].filter((pid) => alive(pid as number))).toEqual([]);
    } finally {
      blocker.close();
    }
  }, 60_000);
});
