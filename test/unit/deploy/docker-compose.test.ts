import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../../../gateway/src/config/load-config.js';
import { SETTINGS } from '../../../gateway/src/config/schema.js';
import { REPO_ROOT } from '../../support/stack.js';

interface Service {
  image?: string;
  build?: unknown;
  environment?: Record<string, string>;
  ports?: string[];
}

const compose = parse(readFileSync(join(REPO_ROOT, 'docker-compose.yml'), 'utf8')) as {
  services: Record<string, Service>;
};
const knownNames = new Set(Object.values(SETTINGS).map((s) => s.env));

describe('docker-compose.yml', () => {
  const gateway = compose.services.gateway!;
  const env = gateway.environment ?? {};

  it('runs Kafka, Redis, the gateway, Prometheus and Grafana', () => {
    expect(Object.keys(compose.services).sort()).toEqual([
      'gateway',
      'grafana',
      'kafka',
      'prometheus',
      'redis',
    ]);
  });

  it('gives the gateway only variables the configuration schema knows', () => {
    expect(Object.keys(env).filter((name) => !knownNames.has(name))).toEqual([]);
    expect(Object.keys(env)).toEqual(expect.arrayContaining(['KAFKA_BROKERS', 'REDIS_URL']));
  });

  it('gives the gateway a configuration that passes validation', () => {
    const config = loadConfig(env);
    expect(config.kafkaBrokers).toEqual(['kafka:9092']);
    expect(config.redisUrl).toBe('redis://redis:6379');
    expect(gateway.ports).toContain(`${config.httpPort}:${config.httpPort}`);
    expect(gateway.ports).toContain(`${config.grpcPort}:${config.grpcPort}`);
  });

  it('has Prometheus scrape the gateway on its HTTP port', () => {
    const prometheus = readFileSync(
      join(REPO_ROOT, 'deploy', 'prometheus', 'prometheus.yml'),
      'utf8',
    );
    const port = loadConfig(env).httpPort;
    expect(prometheus).toContain(`'gateway:${port}'`);
  });
});
