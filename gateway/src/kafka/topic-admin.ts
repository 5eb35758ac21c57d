import Kafka from 'node-rdkafka';
import { librdkafkaSecurity, type KafkaSecurity } from './client-security.js';
import { translateKafkaError } from './translate-error.js';

/** Creates topics (dead-letter topics) with the broker's default replication. */
export class TopicAdmin {
  readonly #brokers: readonly string[];
  readonly #clientId: string;
  readonly #security: KafkaSecurity | undefined;

  constructor(brokers: readonly string[], clientId: string, security?: KafkaSecurity) {
    this.#brokers = brokers;
    this.#clientId = clientId;
    this.#security = security;
  }

  /** Creates the topic; an existing one is fine. */
  async ensure(topic: string, partitions: number, timeoutMs: number): Promise<void> {
    const admin = Kafka.AdminClient.create({
      'metadata.broker.list': this.#brokers.join(','),
      'client.id': `${this.#clientId}-admin`,
      ...librdkafkaSecurity(this.#security),
    });
    try {
      await new Promise<void>((resolve, reject) =>
        admin.createTopic(
          { topic, num_partitions: partitions, replication_factor: -1 },
          timeoutMs,
          (err) => {
            if (err && err.code !== Kafka.CODES.ERRORS.ERR_TOPIC_ALREADY_EXISTS)
              reject(translateKafkaError(err, `create topic ${topic}`));
            else resolve();
          },
        ),
      );
    } finally {
      admin.disconnect();
    }
  }
}
