import type { Config } from '../../gateway/src/config/schema.js';
import { buildConsumePath } from '../../gateway/src/core/consume/consume-path.js';
import { KafkaMetadataClient } from '../../gateway/src/kafka/metadata-client.js';
import { kafkaSecurity } from '../../gateway/src/kafka/client-security.js';
import { redisConnection, redisSecurityOptions } from '../../gateway/src/store/redis-connection.js';
import { KafkaProducer, producerSettings } from '../../gateway/src/kafka/producer.js';
import { TopicMetadataCache } from '../../gateway/src/kafka/topic-metadata-cache.js';
import type { Logger } from '../../gateway/src/observability/logger.js';
import { RedisClient } from '../../gateway/src/store/redis-client.js';
import { Sweeper } from './sweeper.js';

export interface Worker {
  readonly sweeper: Sweeper;
  start(): void;
  close(): Promise<void>;
}

/** The worker's composition root: the same store, Kafka and core parts as the gateway, no transports. */
export function buildWorker(
  config: Config,
  logger: Logger,
  intervalMs = 1000,
  groupFilter?: (group: string) => boolean,
): Worker {
  const redisConn = redisConnection(config);
  const redis = new RedisClient({
    url: redisConn.url,
    security: redisSecurityOptions(redisConn),
    logger,
    commandTimeoutMs: config.readyTimeoutMs,
  });
  const metadataClient = new KafkaMetadataClient({
    brokers: config.kafkaBrokers,
    clientId: `${config.kafkaClientId}-worker`,
    logger,
    security: kafkaSecurity(config),
  });
  const metadata = new TopicMetadataCache({
    client: metadataClient,
    maxAgeMs: config.metadataMaxAgeMs,
    timeoutMs: config.readyTimeoutMs,
  });
  const producer = new KafkaProducer({
    ...producerSettings(config),
    clientId: `${config.kafkaClientId}-worker`,
    mode: 'idempotent',
    logger,
  });
  const parts = buildConsumePath(config, logger, redis, metadataClient, metadata, producer);
  const sweeper = new Sweeper({
    parts,
    logger,
    intervalMs,
    sessionIdleTimeoutMs: config.sessionIdleTimeoutMs,
    defaultMaxAttempts: config.maxAttempts,
    ...(groupFilter ? { groupFilter } : {}),
  });
  return {
    sweeper,
    start() {
      redis.start();
      sweeper.start();
      logger.info({ intervalMs }, 'worker started');
    },
    async close() {
      await sweeper.close();
      await parts.close();
      await producer.close(5000);
      await metadataClient.close(3000);
      await redis.close();
    },
  };
}
