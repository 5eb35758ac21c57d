import { CpuMeter, type CpuReport } from './cpu-meter.js';
import { cpuSeconds } from './proc-stats.js';
import { type CommandCounts, commandDelta, type RedisStats } from './redis-stats.js';

/** What the machine did during one measurement window. */
export interface ResourceUsage {
  readonly seconds: number;
  readonly cpu: CpuReport;
  /** redis-server's CPU, % of one core. */
  readonly redisCpu: number | undefined;
  /** Redis commands by name (including those run inside Lua scripts). */
  readonly commands: ReadonlyMap<string, number>;
}

/**
 * A CpuMeter (gateway, load generator, Kafka, machine) plus redis-server's
 * CPU and its command counters, over one window.
 */
export class ResourceWindow {
  readonly #cpu: CpuMeter;
  readonly #redisPid: number | undefined;
  readonly #redis: RedisStats;
  #start: { at: number; redisCpu: number | undefined; commands: CommandCounts } | undefined;
  #usage: ResourceUsage | undefined;

  constructor(pids: {
    readonly gateway: number | undefined;
    readonly kafka: number | undefined;
    readonly redis: number | undefined;
    readonly stats: RedisStats;
  }) {
    this.#cpu = new CpuMeter({ gateway: pids.gateway, kafka: pids.kafka });
    this.#redisPid = pids.redis;
    this.#redis = pids.stats;
  }

  async start(): Promise<void> {
    const commands = await this.#redis.commandCounts();
    this.#start = { at: performance.now(), redisCpu: cpuSeconds(this.#redisPid), commands };
    this.#cpu.start();
  }

  async stop(): Promise<ResourceUsage> {
    const cpu = this.#cpu.stop();
    const at = performance.now();
    const redisCpu = cpuSeconds(this.#redisPid);
    const commands = await this.#redis.commandCounts();
    const start = this.#start ?? { at, redisCpu, commands };
    const seconds = Math.max(1e-9, (at - start.at) / 1000);
    this.#usage = {
      seconds,
      cpu,
      redisCpu:
        redisCpu === undefined || start.redisCpu === undefined
          ? undefined
          : ((redisCpu - start.redisCpu) / seconds) * 100,
      commands: commandDelta(start.commands, commands),
    };
    return this.#usage;
  }

  /** The usage of the last stop(). */
  get usage(): ResourceUsage | undefined {
    return this.#usage;
  }
}
