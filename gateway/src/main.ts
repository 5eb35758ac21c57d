/**
 * The gateway process: reads the environment, listens, handles signals.
 * Exit codes: 0 clean shutdown, 1 runtime failure, 78 invalid configuration.
 */
import { buildGateway } from './app.js';
import { loadConfig } from './config/load-config.js';
import { isGatewayError } from './errors.js';

const EXIT_CONFIG = 78;

function boot(): void {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (isGatewayError(err) && err.code === 'KGW_CONFIG_INVALID') {
      process.stderr.write(`kafka-gateway: ${err.message}\n`);
      process.exit(EXIT_CONFIG);
    }
    throw err;
  }

  const gateway = buildGateway(config);
  const { logger } = gateway;
  let stopping = false;

  const stop = (signal: string): void => {
    if (stopping) {
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

  gateway.listen().catch((err: unknown) => {
    logger.fatal({ err }, 'could not start listening');
    logger.flush();
    process.exit(1);
  });
}

boot();
