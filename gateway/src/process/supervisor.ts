/**
 * The supervisor of KGW_PROCESSES > 1: forks that many gateway processes
 * (Node's cluster module; they share the HTTP and gRPC ports, the supervisor
 * hands each accepted connection to one of them in turn), answers their
 * /metrics requests with every process's metrics aggregated, restarts a
 * process that dies after it served, and turns a signal into a graceful
 * shutdown of all of them. It never loads the gateway's modules (no
 * librdkafka, no Redis connection).
 */
import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry } from 'prom-client';
import type { Logger } from '../observability/logger.js';
import { isGatewayProcessMessage, type SupervisorMessage } from './messages.js';

export interface SupervisorOptions {
  readonly processes: number;
  /** Each process's own graceful-shutdown deadline; the supervisor waits this plus a margin. */
  readonly shutdownTimeoutMs: number;
  readonly logger: Logger;
  /** Ends the supervisor's process (main.ts owns process.exit). */
  readonly exit: (code: number) => void;
  /** Wait before replacing a process that died (default 1 s). */
  readonly restartDelayMs?: number;
  /** More restarts than this within restartWindowMs stop the whole gateway (default 5 per 60 s). */
  readonly maxRestarts?: number;
  readonly restartWindowMs?: number;
}

/** Extra time, past a process's own deadline, before the supervisor kills what is left. */
const SHUTDOWN_MARGIN_MS = 2000;

export function runSupervisor(options: SupervisorOptions): void {
  const { processes, logger } = options;
  const restartDelayMs = options.restartDelayMs ?? 1000;
  const maxRestarts = options.maxRestarts ?? 5;
  const restartWindowMs = options.restartWindowMs ?? 60_000;
  const aggregator = new AggregatorRegistry();
  const live = new Map<number, Worker>();
  const served = new Set<number>();
  const restarts: number[] = [];
  const pendingForks = new Set<NodeJS.Timeout>();
  let announced = false;
  let stopping = false;
  let exitCode = 0;

  const send = (worker: Worker, message: SupervisorMessage): void => {
    if (worker.isConnected()) worker.send(message);
  };

  const fork = (): void => {
    const worker = cluster.fork();
    live.set(worker.id, worker);
    worker.on('message', (message: unknown) => {
      if (!isGatewayProcessMessage(message)) return;
      if (message.type === 'kgw:listening') {
        served.add(worker.id);
        if (!announced && served.size >= processes) {
          announced = true;
          logger.info(
            { httpPort: message.httpPort, grpcPort: message.grpcPort, processes },
            'gateway processes listening',
          );
        }
      } else {
        aggregator.clusterMetrics().then(
          (text) => send(worker, { type: 'kgw:metrics', id: message.id, text }),
          (err: unknown) =>
            send(worker, { type: 'kgw:metrics', id: message.id, error: (err as Error).message }),
        );
      }
    });
  };

  const finish = (): void => {
    logger.info({ exitCode }, 'supervisor: every gateway process has stopped');
    logger.flush();
    options.exit(exitCode);
  };

  const stop = (reason: string): void => {
    if (stopping) return;
    stopping = true;
    for (const timer of pendingForks) clearTimeout(timer);
    pendingForks.clear();
    logger.info({ reason, processes: live.size }, 'supervisor: shutting down gateway processes');
    for (const worker of live.values()) send(worker, { type: 'kgw:shutdown' });
    setTimeout(() => {
      logger.error(
        { left: live.size },
        'supervisor: processes still running past the deadline; killing them',
      );
      exitCode = 1;
      for (const worker of live.values()) worker.process.kill('SIGKILL');
    }, options.shutdownTimeoutMs + SHUTDOWN_MARGIN_MS);
    if (live.size === 0) finish();
  };

  cluster.on('exit', (worker, code, signal) => {
    live.delete(worker.id);
    const hadServed = served.delete(worker.id);
    if (stopping) {
      if (code !== 0) exitCode = 1;
      if (live.size === 0) finish();
      return;
    }
    if (!hadServed) {
      logger.fatal(
        { pid: worker.process.pid, code, signal },
        'a gateway process exited before it listened (see its log above); stopping',
      );
      exitCode = 1;
      stop('boot failure');
      return;
    }
    const now = Date.now();
    while (restarts.length > 0 && restarts[0]! <= now - restartWindowMs) restarts.shift();
    if (restarts.length >= maxRestarts) {
      logger.fatal(
        {
          pid: worker.process.pid,
          code,
          signal,
          restarts: restarts.length,
          windowMs: restartWindowMs,
        },
        'gateway processes keep dying; stopping',
      );
      exitCode = 1;
      stop('too many restarts');
      return;
    }
    restarts.push(now);
    logger.error(
      { pid: worker.process.pid, code, signal, restartInMs: restartDelayMs },
      'a gateway process died; starting another',
    );
    const timer = setTimeout(() => {
      pendingForks.delete(timer);
      if (!stopping) fork();
    }, restartDelayMs);
    pendingForks.add(timer);
  });

  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    signals += 1;
    if (signals > 1) {
      logger.warn({ signal }, 'second signal: killing gateway processes and exiting now');
      for (const worker of live.values()) worker.process.kill('SIGKILL');
      logger.flush();
      options.exit(1);
    }
    stop(signal);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  process.on('uncaughtException', (err) => {
    logger.fatal({ err }, 'supervisor: uncaught exception');
    exitCode = 1;
    stop('supervisor failure');
  });

  logger.info({ processes }, 'supervisor: starting gateway processes');
  for (let i = 0; i < processes; i += 1) fork();
}
