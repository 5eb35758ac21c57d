import { CpuMeter, type CpuReport } from './cpu-meter.js';
import type { GatewayProcess } from './gateway-process.js';
import type { BenchContext } from './scenario.js';

/** What every part of the gRPC scenario shares: its own gateway, the gRPC address, the value. */
export interface GrpcBenchRun {
  readonly context: BenchContext;
  /** The gateway the scenario started, with a known gRPC port. */
  readonly gateway: GatewayProcess;
  /** `127.0.0.1:<port>` of its gRPC listener. */
  readonly address: string;
  readonly value: Buffer;
  readonly partitions: number;
  /** Creates a fresh topic (deleted at the end of the run). */
  newTopic(prefix: string): Promise<string>;
}

/** A CPU meter over the scenario's gateway, Kafka and this process. */
export function cpuMeter(run: GrpcBenchRun): CpuMeter {
  return new CpuMeter({ gateway: run.gateway.pid, kafka: run.context.stack.kafkaPid });
}

/** A CPU meter started and stopped by a drain's onStart/onStop hooks. */
export class CpuWindow {
  readonly hooks: { readonly onStart: () => void; readonly onStop: () => void };
  usage: CpuReport | undefined;

  constructor(meter: CpuMeter) {
    this.hooks = {
      onStart: () => meter.start(),
      onStop: () => {
        this.usage = meter.stop();
      },
    };
  }
}
