import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from './eventually.js';
import { freePort } from './ports.js';

export interface QueryResult {
  readonly status: string;
  readonly error?: string;
  readonly data?: { resultType: string; result: unknown[] };
}

/** A real Prometheus (Debian's package) scraping the given targets every second. */
export class PrometheusServer {
  readonly url: string;
  readonly #proc: ChildProcess;
  readonly #dir: string;

  private constructor(url: string, proc: ChildProcess, dir: string) {
    this.url = url;
    this.#proc = proc;
    this.#dir = dir;
  }

  static async start(
    targets: readonly string[],
    ruleFiles: readonly string[],
  ): Promise<PrometheusServer> {
    const dir = await mkdtemp(join(tmpdir(), 'kgw-prometheus-'));
    const port = await freePort();
    const config = [
      'global:',
      '  scrape_interval: 1s',
      '  evaluation_interval: 1s',
      'rule_files:',
      ...ruleFiles.map((f) => `  - ${JSON.stringify(f)}`),
      'scrape_configs:',
      '  - job_name: kafka-gateway',
      '    static_configs:',
      `      - targets: ${JSON.stringify(targets)}`,
    ].join('\n');
    await writeFile(join(dir, 'prometheus.yml'), `${config}\n`);
    const proc = spawn(
      'prometheus',
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
      ],
      { stdio: 'ignore' },
    );
    const server = new PrometheusServer(`http://127.0.0.1:${port}`, proc, dir);
    await eventually(async () => {
      const res = await fetch(`${server.url}/-/ready`);
      if (!res.ok) throw new Error(`prometheus not ready: ${res.status}`);
    });
    return server;
  }

  async query(expr: string): Promise<QueryResult> {
    const res = await fetch(`${this.url}/api/v1/query?${new URLSearchParams({ query: expr })}`, {
      signal: AbortSignal.timeout(10_000),
    });
    return (await res.json()) as QueryResult;
  }

  async api<T>(path: string): Promise<T> {
    return (await (
      await fetch(`${this.url}${path}`, { signal: AbortSignal.timeout(10_000) })
    ).json()) as T;
  }

  async stop(): Promise<void> {
    if (this.#proc.exitCode === null) {
      await new Promise<void>((resolve) => {
        this.#proc.once('exit', () => resolve());
        this.#proc.kill('SIGTERM');
      });
    }
    await rm(this.#dir, { recursive: true, force: true });
  }
}
