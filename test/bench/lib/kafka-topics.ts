import { randomUUID } from 'node:crypto';
import Kafka from 'node-rdkafka';
import { pollUntil } from './timing.js';

/** A topic name no other run uses. */
export function benchTopicName(prefix: string): string {
  return `bench-${prefix}-${randomUUID()}`;
}

function withAdmin<T>(brokers: string, use: (admin: Kafka.IAdminClient) => Promise<T>): Promise<T> {
  const admin = Kafka.AdminClient.create({
    'metadata.broker.list': brokers,
    'client.id': 'kgw-bench-admin',
  });
  return use(admin).finally(() => admin.disconnect());
}

/** Creates a topic and waits until metadata shows every partition with a leader. */
export async function createTopic(
  brokers: string,
  topic: string,
  partitions: number,
  replicationFactor = 1,
): Promise<void> {
  await withAdmin(
    brokers,
    (admin) =>
      new Promise<void>((resolve, reject) =>
        admin.createTopic(
          { topic, num_partitions: partitions, replication_factor: replicationFactor },
          15_000,
          (err) => (err ? reject(err) : resolve()),
        ),
      ),
  );
  const probe = new Kafka.Producer({
    'metadata.broker.list': brokers,
    'client.id': 'kgw-bench-metadata',
  });
  await new Promise<void>((resolve, reject) =>
    probe.connect({ timeout: 10_000, allTopics: false }, (err) => (err ? reject(err) : resolve())),
  );
  try {
    await pollUntil(`topic ${topic}`, () => hasLeaders(probe, topic, partitions), {
      timeoutMs: 15_000,
    });
  } finally {
    await new Promise<void>((resolve) => probe.disconnect(() => resolve()));
  }
}

function hasLeaders(client: Kafka.Producer, topic: string, partitions: number): Promise<boolean> {
  return new Promise((resolve, reject) =>
    client.getMetadata({ topic, timeout: 5000 }, (err, metadata) => {
      if (err) return reject(err);
      const found = metadata.topics.find((t) => t.name === topic);
      return resolve(
        found?.partitions.length === partitions && found.partitions.every((p) => p.leader >= 0),
      );
    }),
  );
}

/** Deletes topics, ignoring failures (the stack may be going away anyway). */
export async function deleteTopics(brokers: string, topics: readonly string[]): Promise<void> {
  if (topics.length === 0) return;
  await withAdmin(brokers, (admin) =>
    Promise.all(
      topics.map(
        (topic) =>
          new Promise<void>((resolve) => admin.deleteTopic(topic, 10_000, () => resolve())),
      ),
    ),
  );
}
