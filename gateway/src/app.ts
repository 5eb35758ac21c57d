import type { FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import type { Config } from './config/schema.js';
import { Readiness } from './core/readiness.js';
import { buildHttpServer } from './http/server.js';
import { KafkaMetadataClient } from './kafka/metadata-client.js';
import { createLogger, type Logger } from './observability/logger.js';
import { createMetrics } from './observability/metrics.js';
import { RedisClient } from './store/redis-client.js';
import { withDeadline } from './util/deadline.js';
import { packageVersion } from './util/package-version.js';

export interface GatewayDeps {
  readonly logger?: Logger;
  readonly registry?: Registry;
}

export interface Gateway {
  readonly http: FastifyInstance;
  readonly logger: Logger;
  /** Starts serving; resolves with the bound ports. */
  listen(): Promise<{ httpPort: number }>;
  /** Drains and closes everything, in order, within the shutdown deadline; idempotent. */
  close(): Promise<void>;
}

/** The composition root: builds every part from a validated config. Never listens by itself. */
export function buildGateway(config: Config, deps: GatewayDeps = {}): Gateway {
  const logger = deps.logger ?? createLogger(config.logLevel);
  const registry = deps.registry ?? new Registry();
  const metrics = createMetrics(registry, { version: packageVersion(), node: process.version });

  const redis = new RedisClient({
    url: config.redisUrl,
    logger,
    commandTimeoutMs: config.readyTimeoutMs,
  });
  const kafkaMetadata = new KafkaMetadataClient({
    brokers: config.kafkaBrokers,
    clientId: config.kafkaClientId,
    logger,
  });
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
  const http = buildHttpServer({
    logger,
    registry,
    metrics,
    readiness,
    bodyLimitBytes: config.bodyLimitBytes,
  });

  let closing: Promise<void> | undefined;

  async function shutdown(): Promise<void> {
    // STYLE.md §7: readiness 503 → stop accepting and answer in-flight → Kafka → Redis → logs.
    readiness.markClosing();
    await http.close();
    await kafkaMetadata.close(Math.min(5000, config.shutdownTimeoutMs));
    await redis.close();
  }

  return {
    http,
    logger,
    async listen() {
      redis.start();
      await http.listen({ host: config.httpHost, port: config.httpPort });
      const address = http.server.address();
      const httpPort = typeof address === 'object' && address ? address.port : config.httpPort;
      logger.info({ httpPort, kafkaBrokers: config.kafkaBrokers }, 'gateway listening');
      return { httpPort };
    },
    close() {
      closing ??= withDeadline(shutdown(), config.shutdownTimeoutMs, () => {
        return new Error(`shutdown did not finish within ${config.shutdownTimeoutMs} ms`);
      }).finally(() => logger.flush());
      return closing;
    },
  };
}
