import { defineConfig } from 'vitest/config';

// Two projects: `unit` needs no servers; `integration` runs against a real Kafka
// broker and redis-server, started once per run by test/support/global-setup.ts
// unless KAFKA_BROKERS and REDIS_URL are already set.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts', 'test/e2e/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/support/global-setup.ts'],
          // node-rdkafka is a native addon: give each test file its own process.
          pool: 'forks',
          testTimeout: 60_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
