/**
 * The worker process (`npm run worker`): background duties of the consume path.
 * Exit codes: 0 clean shutdown, 1 runtime failure, 78 invalid configuration.
 */
import { loadConfig } from '../../gateway/src/config/load-config.js';
import { isGatewayError } from '../../gateway/src/errors.js';
import { createLogger } from '../../gateway/src/observability/logger.js';
import { buildWorker } from './worker.js';

let config;
try {
  config = loadConfig(process.env);
} catch (err) {
  if (isGatewayError(err) && err.code === 'KGW_CONFIG_INVALID') {
    process.stderr.write(`kafka-gateway worker: ${err.message}\n`);
    process.exit(78);
  }
  throw err;
}
const logger = createLogger(config.logLevel).child({ process: 'worker' });
const worker = buildWorker(config, logger);
let stopping = false;
const stop = (signal: string): void => {
  if (stopping) process.exit(1);
  stopping = true;
  logger.info({ signal }, 'worker shutting down');
  worker.close().then(
    () => {
      logger.info('worker stopped');
      logger.flush();
      process.exit(0);
    },
    (err: unknown) => {
      logger.error({ err }, 'worker shutdown failed');
      logger.flush();
      process.exit(1);
    },
  );
};
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));
worker.start();
