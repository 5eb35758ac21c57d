/**
 * The gateway process: reads the environment, listens, handles signals.
 * With KGW_PROCESSES > 1 this process becomes the supervisor and forks that
 * many gateway processes sharing the ports (see process/supervisor.ts).
 * Exit codes: 0 clean shutdown, 1 runtime failure, 78 invalid configuration.
 */
import cluster from 'node:cluster';
import { Registry } from 'prom-client';
import type { Config } from './config/schema.js';
import { loadConfig } from './config/load-config.js';
import { isGatewayError } from './errors.js';
import { createLogger } from './observability/logger.js';

const EXIT_CONFIG = 78;

function readConfig(): Config {
  try {
    return loadConfig(process.env);
  } catch (err) {
    if (isGatewayError(err) && err.code === 'KGW_CONFIG_INVALID') {
      process.stderr.write(`kafka-gateway: ${err.message}\n`);
      process.exit(EXIT_CONFIG);
    }
    throw err;
  }
}

async function boot(): Promise<void> {
  const config = readConfig();
  const supervised = config.processes > 1;
  if (supervised && cluster.isPrimary) {
    const { runSupervisor } = await import('./process/supervisor.js');
    runSupervisor({
      processes: config.processes,
      shutdownTimeoutMs: config.shutdownTimeoutMs,
      logger: createLogger(config.logLevel).child({ role: 'supervisor' }),
      exit: (code) => process.exit(code),
    });
    return;
  }
  // Loaded only where it runs: the supervisor never loads Kafka's native client.
  const { buildGateway } = await import('./app.js');
  const registry = new Registry();
  const link = supervised
    ? new (await import('./process/supervisor-link.js')).SupervisorLink(registry)
    : undefined;
  const gateway = buildGateway(config, {
    registry,
    // Under a supervisor, every log line says which process wrote it.
    ...(link
      ? {
          metricsText: () => link.metrics(),
          logger: createLogger(config.logLevel).child({ pid: process.pid }),
        }
      : {}),
  });
  const { logger } = gateway;
  let stopping = false;

  const stop = (signal: string): void => {
    if (stopping) {
      // The supervisor's order after a terminal's SIGINT reached this process too.
      if (signal === 'supervisor') return;
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    gateway.close().then(
      () => {
        logger.info('shutdown complete');
        logger.flush();
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        logger.flush();
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  link?.onShutdown(() => stop('supervisor'));
  process.on('uncaughtException', (err) => {
    logger.fatal({ err }, 'uncaught exception');
    logger.flush();
    process.exit(1);
  });
  process.on('unhandledRejection', (err) => {
    logger.fatal({ err }, 'unhandled rejection');
    logger.flush();
    process.exit(1);
  });

  gateway.listen().then(
    (ports) => link?.listening(ports),
    (err: unknown) => {
      logger.fatal({ err }, 'could not start listening');
      logger.flush();
      process.exit(1);
    },
  );
}

void boot();
