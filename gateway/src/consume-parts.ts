import type { Config } from './config/schema.js';
import { ConsumeService } from './core/consume-service.js';
import { ConsumerStats } from './core/consumer-stats.js';
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
import type { Metrics } from './observability/metrics.js';
import { TopicLabels } from './observability/topic-labels.js';
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
  metrics?: Metrics,
) {
  const labels = new TopicLabels(config.metricsMaxTopics);
  const sessions = new SessionStore(redis.redis);
  const partitions = new PartitionStore(redis.redis);
  const fetcher = new RecordFetcher({
    brokers: config.kafkaBrokers,
    clientId: config.kafkaClientId,
    logger,
    poolSize: config.fetchers,
    cacheMaxBytes: config.fetchCacheBytes,
    ...(config.clientRack ? { rack: config.clientRack } : {}),
    ...(metrics
      ? {
          onBrokerStats: (broker: number, fetches: number, bytes: number) => {
            metrics.fetchRequests.inc({ broker: String(broker) }, fetches);
            metrics.fetchBytes.inc({ broker: String(broker) }, bytes);
          },
        }
      : {}),
  });
  const groupClients = new GroupClients({
    brokers: config.kafkaBrokers,
    clientId: config.kafkaClientId,
    logger,
    maxClients: config.maxGroupClients,
    timeoutMs: config.readyTimeoutMs * 2,
  });
  const committer = new OffsetCommitter(partitions, groupClients, sessions);
  const wake = new WakeChannel(config.redisUrl, logger);
  // 50 ms: the longest a waiting long-poll takes to notice records produced elsewhere.
  const tail = new TailWatcher(kafkaMetadata, 50, logger);
  const deadLetter = new DeadLetterWriter({
    partitions,
    fetcher,
    producer,
    metadata: metadataCache,
    admin: new TopicAdmin(config.kafkaBrokers, config.kafkaClientId),
    logger,
    ...(metrics
      ? {
          onDeadLettered: (topic: string, n: number) =>
            metrics.consumeDeadLettered.inc({ topic: labels.label(topic) }, n),
        }
      : {}),
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
    ...(metrics
      ? {
          onDelivered: (topic: string, attempts: readonly number[]) => {
            const label = labels.label(topic);
            metrics.consumeDelivered.inc({ topic: label }, attempts.length);
            for (const a of attempts) {
              if (a > 1)
                metrics.consumeRedelivered.inc({
                  topic: label,
                  attempt: a >= 5 ? '5+' : String(a),
                });
            }
          },
          onAcked: (topic: string, seconds: readonly number[]) => {
            metrics.consumeAcked.inc({ topic: labels.label(topic) }, seconds.length);
            for (const s of seconds) metrics.consumeAckSeconds.observe(s);
          },
          onNacked: (topic: string, n: number) =>
            metrics.consumeNacked.inc({ topic: labels.label(topic) }, n),
          onLeaseMoves: (n: number) => metrics.consumeLeaseMoves.inc(n),
        }
      : {}),
  });
  const stats = new ConsumerStats({
    sessions,
    partitions,
    metadataClient: kafkaMetadata,
    logger,
    intervalMs: config.consumerStatsIntervalMs,
    kafkaTimeoutMs: config.readyTimeoutMs,
  });
  return {
    sessions,
    partitions,
    sessionService,
    consume,
    committer,
    deadLetter,
    stats,
    tail,
    start(): void {
      wake.start();
    },
    async close(): Promise<void> {
      stats.close();
      tail.close();
      wake.close();
      await Promise.all([fetcher.close(), groupClients.close()]);
    },
  };
}
