import type { Access } from '../../auth/access.js';
import type { Config } from '../../config/schema.js';
import { GroupCoordinatorClient } from '../../kafka/group-coordinator.js';
import type { KafkaMetadataClient } from '../../kafka/metadata-client.js';
import { kafkaSecurity } from '../../kafka/client-security.js';
import { redisConnection, redisSecurityOptions } from '../../store/redis-connection.js';
import type { KafkaProducer } from '../../kafka/producer.js';
import { RecordFetcher } from '../../kafka/record-fetcher.js';
import type { TopicMetadataCache } from '../../kafka/topic-metadata-cache.js';
import type { Logger } from '../../observability/logger.js';
import type { Metrics } from '../../observability/metrics.js';
import { TopicLabels } from '../../observability/topic-labels.js';
import { PartitionLedger } from '../../store/partition-ledger.js';
import type { RedisClient } from '../../store/redis-client.js';
import { SessionStore } from '../../store/session-store.js';
import { WakeChannel } from '../../store/wake-channel.js';
import { ConsumeService } from '../consume-service.js';
import { ConsumerStats } from '../consumer-stats.js';
import { DeadLetterWriter } from '../dead-letter.js';
import { GroupCommitter } from '../group-committer.js';
import { maxSpanFor } from '../offset-map.js';
import { SessionService } from '../session-service.js';
import { TailWatcher } from '../tail-watcher.js';
import { Acks } from './acks.js';
import { GroupGuard } from './group-guard.js';
import { GroupMaintenance } from './group-maintenance.js';
import { PollLoop } from './poll-loop.js';
import { Positions } from './positions.js';

export type ConsumePath = ReturnType<typeof buildConsumePath>;

/**
 * The consume path, wired from config: the ledger in Redis, Kafka's group
 * offsets, fetchers, and the use cases over them (polls, acks, positions,
 * dead letters, group maintenance). Used by the gateway and by the worker;
 * no transports here.
 */
export function buildConsumePath(
  config: Config,
  logger: Logger,
  redis: RedisClient,
  kafkaMetadata: KafkaMetadataClient,
  metadataCache: TopicMetadataCache,
  producer: KafkaProducer,
  metrics?: Metrics,
  access?: Access,
) {
  const labels = new TopicLabels(config.metricsMaxTopics);
  const topic = (t: string): string => labels.label(t);
  const sessions = new SessionStore(redis.redis);
  const ledger = new PartitionLedger(redis.redis);
  const kafkaTimeoutMs = config.readyTimeoutMs;
  const security = kafkaSecurity(config);
  const fetcher = new RecordFetcher({
    brokers: config.kafkaBrokers,
    clientId: config.kafkaClientId,
    logger,
    security,
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
  const groupOffsets = new GroupCoordinatorClient({
    brokers: config.kafkaBrokers,
    clientId: `${config.kafkaClientId}-offsets`,
    timeoutMs: kafkaTimeoutMs * 2,
    logger,
    security,
  });
  const committer = new GroupCommitter({
    ledger,
    kafka: groupOffsets,
    sessions,
    logger,
    timeoutMs: kafkaTimeoutMs * 3,
    ...(metrics
      ? {
          onCommit: (partitions: number) => {
            metrics.consumeOffsetCommits.inc();
            metrics.consumeOffsetCommitPartitions.inc(partitions);
          },
        }
      : {}),
  });
  const redisConn = redisConnection(config);
  const wake = new WakeChannel(redisConn.url, logger, redisSecurityOptions(redisConn));
  // 50 ms: the longest a waiting long-poll takes to notice records produced elsewhere.
  const tail = new TailWatcher(kafkaMetadata, 50, logger);
  const onSkipped = metrics
    ? (t: string, reason: string, n: number) =>
        metrics.consumeSkipped.inc({ topic: topic(t), reason }, n)
    : undefined;
  const deadLetter = new DeadLetterWriter({
    ledger,
    fetcher,
    producer,
    metadata: metadataCache,
    metadataClient: kafkaMetadata,
    logger,
    kafkaTimeoutMs,
    claimMs: config.produceTimeoutMs + kafkaTimeoutMs * 3,
    retryMs: 5000,
    ...(metrics
      ? {
          onDeadLettered: (t: string, n: number) =>
            metrics.consumeDeadLettered.inc({ topic: topic(t) }, n),
          onFailed: (t: string, n: number) =>
            metrics.consumeDeadLetterFailures.inc({ topic: topic(t) }, n),
          onSkipped: onSkipped!,
        }
      : {}),
  });
  const sessionService = new SessionService({
    ...(access ? { access } : {}),
    limits: {
      maxSessionsPerGroup: config.maxSessionsPerGroup,
      maxGroups: config.maxGroups,
      maxSessionsPerPrincipal: config.maxSessionsPerPrincipal,
    },
    sessions,
    partitions: ledger,
    metadata: metadataCache,
    metadataClient: kafkaMetadata,
    kafkaTimeoutMs,
  });
  const positions = new Positions({
    ledger,
    kafka: groupOffsets,
    metadataClient: kafkaMetadata,
    kafkaTimeoutMs,
  });
  const guard = new GroupGuard(groupOffsets, sessions, logger, config.groupRecheckMs);
  const window = config.maxInFlightPerPartition;
  const onFenced = metrics
    ? (operation: 'ack' | 'nack' | 'extend', n: number) =>
        metrics.consumeFenced.inc({ operation }, n)
    : undefined;
  const polls = new PollLoop({
    sessions,
    sessionService,
    ledger,
    fetcher,
    metadataClient: kafkaMetadata,
    positions,
    committer,
    deadLetter,
    guard,
    wake,
    tail,
    logger,
    window,
    maxSpan: maxSpanFor(config.offsetMetadataMaxBytes),
    kafkaTimeoutMs,
    ...(metrics
      ? {
          onDelivered: (t: string, attempts: readonly number[]) => {
            const label = topic(t);
            metrics.consumeDelivered.inc({ topic: label }, attempts.length);
            for (const a of attempts) {
              if (a > 1)
                metrics.consumeRedelivered.inc({
                  topic: label,
                  attempt: a >= 5 ? '5+' : String(a),
                });
            }
          },
          onLeaseMoves: (n: number) => metrics.consumeLeaseMoves.inc(n),
          onSkipped: onSkipped!,
          onReturned: (n: number) => metrics.consumeReturned.inc(n),
        }
      : {}),
  });
  const acks = new Acks({
    ledger,
    committer,
    window,
    maxSpan: maxSpanFor(config.offsetMetadataMaxBytes),
    ...(metrics
      ? {
          onAcked: (t: string, seconds: readonly number[]) => {
            metrics.consumeAcked.inc({ topic: topic(t) }, seconds.length);
            for (const s of seconds) metrics.consumeAckSeconds.observe(s);
          },
          onNacked: (t: string, n: number) => metrics.consumeNacked.inc({ topic: topic(t) }, n),
          onFenced: onFenced!,
        }
      : {}),
  });
  const consume = new ConsumeService({
    sessionService,
    polls,
    acks,
    positions,
    ...(access ? { access } : {}),
  });
  const maintenance = new GroupMaintenance({
    sessions,
    sessionService,
    ledger,
    deadLetter,
    committer,
    logger,
  });
  const stats = new ConsumerStats({
    sessions,
    partitions: ledger,
    metadataClient: kafkaMetadata,
    logger,
    intervalMs: config.consumerStatsIntervalMs,
    kafkaTimeoutMs,
  });
  return {
    sessions,
    ledger,
    fetcher,
    sessionService,
    consume,
    committer,
    /** Also serves the admin reads of group state and committed offsets. */
    groupOffsets,
    maintenance,
    stats,
    tail,
    start(): void {
      wake.start();
    },
    async close(): Promise<void> {
      stats.close();
      tail.close();
      wake.close();
      await deadLetter.idle();
      // Acks that answered from Redis reach Kafka before the coordinator client closes.
      await committer.flush();
      await Promise.all([fetcher.close(), groupOffsets.close()]);
    },
  };
}
