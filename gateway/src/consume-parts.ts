import type { Config } from './config/schema.js';
import { ConsumeService } from './core/consume-service.js';
import { DeadLetterWriter } from './core/dead-letter.js';
import { OffsetCommitter } from './core/offset-committer.js';
import { SessionService } from './core/session-service.js';
import { TailWatcher } from './core/tail-watcher.js';
import { GroupClients } from './kafka/group-clients.js';
import type { KafkaMetadataClient } from './kafka/metadata-client.js';
import type { KafkaProducer } from './kafka/producer.js';
import { RecordFetcher } from './kafka/record-fetcher.js';
import { TopicAdmin } from './kafka/topic-admin.js';
import type { TopicMetadataCache } from './kafka/topic-metadata-cache.js';
import type { Logger } from './observability/logger.js';
import { PartitionStore } from './store/partition-store.js';
import type { RedisClient } from './store/redis-client.js';
import { SessionStore } from './store/session-store.js';
import { WakeChannel } from './store/wake-channel.js';

export type ConsumeParts = ReturnType<typeof buildConsume>;

/** Builds the consume path's parts from config: used by the gateway and by the worker (no transports here). */
export function buildConsume(
  config: Config,
  logger: Logger,
  redis: RedisClient,
  kafkaMetadata: KafkaMetadataClient,
  metadataCache: TopicMetadataCache,
  producer: KafkaProducer,
) {
  const sessions = new SessionStore(redis.redis);
  const partitions = new PartitionStore(redis.redis);
  const fetcher = new RecordFetcher({
    brokers: config.kafkaBrokers,
    clientId: config.kafkaClientId,
    logger,
    poolSize: config.fetchers,
    cacheMaxBytes: config.fetchCacheBytes,
    ...(config.clientRack ? { rack: config.clientRack } : {}),
  });
  const groupClients = new GroupClients({
    brokers: config.kafkaBrokers,
    clientId: config.kafkaClientId,
    logger,
    maxClients: config.maxGroupClients,
    timeoutMs: config.readyTimeoutMs * 2,
  });
  const committer = new OffsetCommitter(partitions, groupClients);
  const wake = new WakeChannel(config.redisUrl, logger);
  const tail = new TailWatcher(kafkaMetadata, 100, logger);
  const deadLetter = new DeadLetterWriter({
    partitions,
    fetcher,
    producer,
    metadata: metadataCache,
    admin: new TopicAdmin(config.kafkaBrokers, config.kafkaClientId),
    logger,
  });
  const sessionService = new SessionService({
    sessions,
    partitions,
    metadata: metadataCache,
    metadataClient: kafkaMetadata,
    kafkaTimeoutMs: config.readyTimeoutMs,
  });
  const consume = new ConsumeService({
    sessions,
    sessionService,
    partitions,
    fetcher,
    groupClients,
    committer,
    metadata: metadataCache,
    metadataClient: kafkaMetadata,
    wake,
    tail,
    deadLetter,
    logger,
    maxInFlightPerPartition: config.maxInFlightPerPartition,
    kafkaTimeoutMs: config.readyTimeoutMs,
  });
  return {
    sessions,
    partitions,
    sessionService,
    consume,
    committer,
    deadLetter,
    start(): void {
      wake.start();
    },
    async close(): Promise<void> {
      tail.close();
      wake.close();
      await Promise.all([fetcher.close(), groupClients.close()]);
    },
  };
}
