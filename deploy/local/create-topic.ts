// Creates topics on the Kafka the environment names, with the gateway's own settings
// (KAFKA_BROKERS and, for `stack up --secure`, the KGW_KAFKA_* security variables).
// Used by `npm run dev` for the demo topic and its dead-letter topic.
//   node --import tsx deploy/local/create-topic.ts <partitions> <topic>...
// An existing topic is left as it is.
import Kafka from 'node-rdkafka';
import { loadConfig } from '../../gateway/src/config/load-config.js';
import { kafkaSecurity, librdkafkaSecurity } from '../../gateway/src/kafka/client-security.js';

const [partitions, ...topics] = process.argv.slice(2);
if (!partitions || topics.length === 0 || !(Number(partitions) > 0)) {
  console.error('usage: create-topic.ts <partitions> <topic>...');
  process.exit(2);
}
const config = loadConfig(process.env);
const admin = Kafka.AdminClient.create({
  'metadata.broker.list': config.kafkaBrokers.join(','),
  'client.id': 'kgw-dev-admin',
  ...librdkafkaSecurity(kafkaSecurity(config)),
});
let failed = false;
for (const topic of topics) {
  await new Promise<void>((resolve) =>
    admin.createTopic(
      { topic, num_partitions: Number(partitions), replication_factor: -1 },
      10_000,
      (err) => {
        if (err && err.code !== Kafka.CODES.ERRORS.ERR_TOPIC_ALREADY_EXISTS) {
          console.error(`could not create topic ${topic}: ${err.message}`);
          failed = true;
        }
        resolve();
      },
    ),
  );
}
admin.disconnect();
process.exitCode = failed ? 1 : 0;
