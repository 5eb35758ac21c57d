import type { FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import type { Config } from './config/schema.js';
import { InFlightTracker, createStrategy } from './balancer/index.js';
import { AdminService } from './core/admin.js';
import { GroupAdminService } from './core/group-admin.js';
import { ProduceService } from './core/produce.js';
import { Readiness } from './core/readiness.js';
import { consumerRoutes } from './http/routes/consumers.js';
import { metadataRoutes } from './http/routes/metadata.js';
import { adminV3Routes } from './http/routes/admin-v3.js';
import { produceV2Routes } from './http/routes/produce-v2.js';
import { produceV3Routes } from './http/routes/produce-v3.js';
import { SchemaRecordEncoder } from './core/schema-records.js';
import { SchemaRegistryClient } from './schema/registry-client.js';
import { buildHttpServer, closeHttpServer } from './http/server.js';
import { OpenStreams } from './grpc/open-streams.js';
import { GrpcServer } from './grpc/server.js';
import { buildConsumePath } from './core/consume/consume-path.js';
import { KafkaMetadataClient } from './kafka/metadata-client.js';
import { AdminReadClient } from './kafka/admin-reads.js';
import { redisConnection, redisSecurityOptions } from './store/redis-connection.js';
import { kafkaSecurity } from './kafka/client-security.js';
import {
  DELIVERY_MODES,
  KafkaProducer,
  produceRequestTimeoutMs,
  producerSettings,
  type DeliveryMode,
} from './kafka/producer.js';
import { TopicMetadataCache } from './kafka/topic-metadata-cache.js';
import { createLogger, type Logger } from './observability/logger.js';
import { kafkaClientStatsRecorder } from './observability/kafka-client-stats.js';
import { createMetrics, silence, type ConsumerSnapshot } from './observability/metrics.js';
import { TopicLabels } from './observability/topic-labels.js';
import { IdempotencyStore } from './store/idempotency-store.js';
import { EndOffsets } from './kafka/end-offsets.js';
import { buildAccess, buildAuthenticator, buildPolicy } from './auth/build.js';
import { Quotas } from './auth/quotas.js';
import { RateLimiter } from './store/rate-limiter.js';
import { readFileSync } from 'node:fs';
import { RedisClient } from './store/redis-client.js';
import { withDeadline } from './util/deadline.js';
import { packageVersion } from './util/package-version.js';

export interface GatewayDeps {
  readonly logger?: Logger;
  readonly registry?: Registry;
  /** What GET /metrics answers (a supervised process: every process's metrics). */
  readonly metricsText?: () => Promise<string>;
}

export interface Gateway {
  readonly http: FastifyInstance;
  readonly logger: Logger;
  /** Starts serving; resolves with the bound ports. */
  listen(): Promise<{ httpPort: number; grpcPort: number }>;
  /** Drains and closes everything, in order, within the shutdown deadline; idempotent. */
  close(): Promise<void>;
}

/** The composition root: builds every part from a validated config. Never listens by itself. */
export function buildGateway(config: Config, deps: GatewayDeps = {}): Gateway {
  const logger = deps.logger ?? createLogger(config.logLevel);
  const registry = deps.registry ?? new Registry();
  const version = packageVersion();
  // Probes are read at scrape time; they are wired once the parts below exist.
  let consumeWaiting = (): number => 0;
  let written = (_topic: string, _partition: number, _offset: number): void => undefined;
  let consumerSnapshot = (): ConsumerSnapshot | undefined => undefined;
  let produceQueues = (): { delivery: string; messages: number; bytes: number }[] => [];
  const recording = createMetrics(
    registry,
    { version, node: process.version },
    {
      longPollsWaiting: () => consumeWaiting(),
      consumers: () => consumerSnapshot(),
      produceQueues: () => produceQueues(),
    },
  );
  const metrics = config.metricsEnabled ? recording : silence(recording);
  const producers = Object.fromEntries(
    DELIVERY_MODES.map((mode) => [
      mode,
      new KafkaProducer({
        ...producerSettings(config),
        clientId: config.kafkaClientId,
        mode,
        logger,
        onStats: kafkaClientStatsRecorder(metrics, `producer-${mode}`),
        statsIntervalMs: config.kafkaStatsIntervalMs,
      }),
    ]),
  ) as Record<DeliveryMode, KafkaProducer>;
  produceQueues = () =>
    DELIVERY_MODES.map((delivery) => ({ delivery, ...producers[delivery].queued }));
  for (const delivery of DELIVERY_MODES) {
    metrics.produceQueueLimitMessages.set({ delivery }, config.produceQueueMaxMessages);
    metrics.produceQueueLimitBytes.set({ delivery }, config.produceQueueMaxBytes);
  }

  const redisConn = redisConnection(config);
  const redisTimers = new Map<string, { observe(seconds: number): void }>();
  const redis = new RedisClient({
    url: redisConn.url,
    security: redisSecurityOptions(redisConn),
    logger,
    commandTimeoutMs: config.readyTimeoutMs,
    onCommand: (command, seconds, ok) => {
      // A labelled child per command name: no label hashing on every Redis command.
      let timer = redisTimers.get(command);
      if (!timer) {
        timer = metrics.redisCommandSeconds.labels({ command });
        redisTimers.set(command, timer);
      }
      timer.observe(seconds);
      if (!ok) metrics.redisCommandErrors.inc({ command });
    },
  });
  const kafkaMetadata = new KafkaMetadataClient({
    brokers: config.kafkaBrokers,
    clientId: config.kafkaClientId,
    logger,
    security: kafkaSecurity(config),
  });
  const metadataCache = new TopicMetadataCache({
    client: kafkaMetadata,
    maxAgeMs: config.metadataMaxAgeMs,
    timeoutMs: config.readyTimeoutMs,
  });
  const inFlight = new InFlightTracker();
  const policy = buildPolicy(config, logger);
  const access = buildAccess(policy, logger);
  const quotas = new Quotas(new RateLimiter(redis.redis), {
    requestsPerSecond: config.quotaRequestsPerSecond,
    recordsPerSecond: config.quotaRecordsPerSecond,
    bytesPerSecond: config.quotaBytesPerSecond,
    authFailuresPerMinute: config.authFailuresPerMinute,
    // Per-principal limits from the policy file's `quotas` (re-read with it).
    ...(config.policyFile && policy ? { overrides: (p) => policy.quotaFor(p) } : {}),
  });
  // Schema formats (avro, jsonschema, protobuf) only with a registry; otherwise they are refused.
  const schemaRecords = new SchemaRecordEncoder(
    config.schemaRegistryUrl === ''
      ? undefined
      : new SchemaRegistryClient({
          url: config.schemaRegistryUrl,
          timeoutMs: config.schemaRegistryTimeoutMs,
          cacheSize: config.schemaRegistryCacheSize,
        }),
  );
  const produce = new ProduceService({
    ...(access ? { access } : {}),
    ...(quotas.limitsProduce ? { quotas } : {}),
    metadata: metadataCache,
    producers,
    strategy: createStrategy(config.balancer, { inFlight }),
    inFlight,
    idempotency: new IdempotencyStore(redis.redis, {
      ttlMs: config.idempotencyTtlMs,
      settleAfterMs: idempotencySettleAfterMs(config),
    }),
    endOffsets: new EndOffsets({
      watermarks: (topic, partition, timeoutMs) =>
        kafkaMetadata.watermarks(topic, partition, timeoutMs),
      timeoutMs: config.readyTimeoutMs,
      maxAgeMs: 5000,
      maxEntries: 100_000,
    }),
    settlement: {
      // Bound late: the fetcher belongs to the consume path, built below.
      read: (topic, partition, offset, maxRecords) =>
        consumeParts.fetcher.read(topic, partition, offset, maxRecords, 1000),
      watermarks: (topic, partition, timeoutMs) =>
        kafkaMetadata.watermarks(topic, partition, timeoutMs),
      timeoutMs: config.readyTimeoutMs,
    },
    metrics,
    topicLabels: new TopicLabels(config.metricsMaxTopics),
    logger,
    maxRecordBytes: config.maxRecordBytes,
    connectTimeoutMs: config.readyTimeoutMs,
    requestTimeoutMs: config.requestTimeoutMs,
    onWritten: (topic, partition, offset) => written(topic, partition, offset),
  });
  const consumeParts = buildConsumePath(
    config,
    logger,
    redis,
    kafkaMetadata,
    metadataCache,
    producers.idempotent,
    metrics,
    access,
  );
  const { sessionService, consume } = consumeParts;
  consumeWaiting = () => consume.waiting;
  written = (topic, partition, offset) => consumeParts.tail.notify(topic, partition, offset + 1);
  consumerSnapshot = () => consumeParts.stats.snapshot;
  // DescribeConfigs and ListGroups, which node-rdkafka lacks, over the gateway's protocol client.
  const adminReads = new AdminReadClient({
    brokers: config.kafkaBrokers,
    clientId: `${config.kafkaClientId}-admin`,
    timeoutMs: config.readyTimeoutMs,
    logger,
    security: kafkaSecurity(config),
  });
  const admin = new AdminService({
    ...(access ? { access } : {}),
    client: kafkaMetadata,
    cache: metadataCache,
    configs: adminReads,
    timeoutMs: config.readyTimeoutMs,
  });
  const groupAdmin = new GroupAdminService({
    ...(access ? { access } : {}),
    groups: consumeParts.groupOffsets,
    cluster: adminReads,
    metadata: kafkaMetadata,
    cache: metadataCache,
    timeoutMs: config.readyTimeoutMs,
  });
  const authenticator = buildAuthenticator(config, logger);
  // Operator endpoints (/metrics, /openapi.json, gRPC reflection) need `admin` on the cluster.
  const requireAdmin = access
    ? () => access.require('admin', 'cluster', config.clusterId)
    : undefined;
  const readiness = new Readiness({
    timeoutMs: config.readyTimeoutMs,
    probes: {
      kafka: async () => {
        await kafkaMetadata.fetch(config.readyTimeoutMs);
      },
      redis: () => redis.ping(),
    },
    onResult: (dependency, ok) => metrics.dependencyUp.set({ dependency }, ok ? 1 : 0),
  });
  const consumeDefaults = {
    ackTimeoutMs: config.ackTimeoutMs,
    maxAttempts: config.maxAttempts,
    requestTimeoutMs: config.consumerRequestTimeoutMs,
    leaseTimeoutMs: config.leaseTimeoutMs,
  };
  const http = buildHttpServer({
    authenticator,
    quotas,
    ...(requireAdmin ? { requireAdmin } : {}),
    ...(config.httpTlsCert
      ? {
          tls: {
            cert: readFileSync(config.httpTlsCert),
            key: readFileSync(config.httpTlsKey),
            ...(config.httpTlsClientCa ? { clientCa: readFileSync(config.httpTlsClientCa) } : {}),
          },
        }
      : {}),
    logger,
    registry,
    ...(deps.metricsText ? { metricsText: deps.metricsText } : {}),
    metrics,
    readiness,
    bodyLimitBytes: config.bodyLimitBytes,
    bodyTimeoutMs: config.bodyTimeoutMs,
    headersTimeoutMs: config.headersTimeoutMs,
    version,
    routes: [
      (app) => produceV2Routes(app, produce, schemaRecords),
      (app) =>
        produceV3Routes(app, produce, {
          clusterId: config.clusterId,
          maxRecordBytes: config.maxRecordBytes,
          maxOutstanding: 1000,
          streamsOpen: metrics.produceStreamsOpen,
        }),
      (app) => metadataRoutes(app, admin, { clusterId: config.clusterId }),
      (app) => adminV3Routes(app, admin, groupAdmin, { clusterId: config.clusterId }),
      (app) =>
        consumerRoutes(app, sessionService, consume, {
          publicUrl: config.publicUrl,
          defaults: consumeDefaults,
          maxPollTimeoutMs: config.maxPollTimeoutMs,
          maxPollRecords: config.maxPollRecords,
          maxPollBytes: config.maxPollBytes,
          schemaRegistry: schemaRecords.client,
        }),
    ],
  });

  const grpc = new GrpcServer(
    { produce, consume, sessions: sessionService, admin },
    {
      logger,
      host: config.httpHost,
      port: config.grpcPort,
      maxMessageBytes: config.grpcMaxMessageBytes,
      keepaliveMs: config.grpcKeepaliveMs,
      ...(config.grpcTlsCert && config.grpcTlsKey
        ? {
            tlsCertFile: config.grpcTlsCert,
            tlsKeyFile: config.grpcTlsKey,
            ...(config.grpcTlsClientCa ? { tlsClientCaFile: config.grpcTlsClientCa } : {}),
          }
        : {}),
      authenticator,
      quotas,
      ...(requireAdmin ? { requireAdmin } : {}),
      defaults: consumeDefaults,
      maxPollTimeoutMs: config.maxPollTimeoutMs,
      maxPollRecords: config.maxPollRecords,
      maxPollBytes: config.maxPollBytes,
      streams: new OpenStreams(),
      metrics,
    },
  );

  let closing: Promise<void> | undefined;
  let readinessTimer: NodeJS.Timeout | undefined;

  async function shutdown(): Promise<void> {
    // STYLE.md §7: readiness 503 → stop accepting and answer in-flight → Kafka → Redis → logs.
    readiness.markClosing();
    clearInterval(readinessTimer);
    consume.close(); // answer open long-polls now
    await Promise.all([
      closeHttpServer(http, Math.min(5000, config.shutdownTimeoutMs)),
      grpc.close(Math.min(5000, config.shutdownTimeoutMs)),
    ]);
    // Flush what was accepted before disconnecting: nothing accepted is dropped silently.
    await Promise.all(
      DELIVERY_MODES.map((mode) => producers[mode].close(Math.min(5000, config.shutdownTimeoutMs))),
    );
    await Promise.all([consumeParts.close(), adminReads.close()]);
    await kafkaMetadata.close(Math.min(5000, config.shutdownTimeoutMs));
    await redis.close();
  }

  return {
    http,
    logger,
    async listen() {
      redis.start();
      consumeParts.start();
      consumeParts.stats.start();
      // Keeps kgw_dependency_up current for dashboards and alerts, not only when /readyz is asked.
      readinessTimer = setInterval(() => void readiness.check(), 10_000);
      readinessTimer.unref();
      // First reading once the clients had a moment to connect.
      setTimeout(() => void readiness.check(), 1000).unref();
      // Take traffic once Redis answers (most requests need it), or after the readiness
      // deadline anyway: a Redis outage shows on /readyz instead of stopping the boot.
      await redis.connected(config.readyTimeoutMs);
      await http.listen({ host: config.httpHost, port: config.httpPort });
      const address = http.server.address();
      const httpPort = typeof address === 'object' && address ? address.port : config.httpPort;
      const grpcPort = await grpc.listen();
      logger.info({ httpPort, grpcPort, kafkaBrokers: config.kafkaBrokers }, 'gateway listening');
      return { httpPort, grpcPort };
    },
    close() {
      closing ??= withDeadline(shutdown(), config.shutdownTimeoutMs, () => {
        return new Error(`shutdown did not finish within ${config.shutdownTimeoutMs} ms`);
      }).finally(() => logger.flush());
      return closing;
    },
  };
}

/**
 * How long after an attempt claims an Idempotency-Key none of its records can
 * still land: the producer's connect wait, librdkafka's message.timeout.ms,
 * and one librdkafka request timeout for a produce request already on the wire.
 */
export function idempotencySettleAfterMs(config: Config): number {
  return (
    config.readyTimeoutMs +
    config.produceTimeoutMs +
    produceRequestTimeoutMs(config.produceTimeoutMs)
  );
}
