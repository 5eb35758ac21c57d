// Creates a topic on the local stack (used by `npm run dev` for the demo topic).
//   node deploy/local/create-topic.mjs <brokers> <topic> [partitions]
// An existing topic is left as it is.
import Kafka from 'node-rdkafka';

const [brokers, topic, partitions = '3'] = process.argv.slice(2);
if (!brokers || !topic) {
  console.error('usage: create-topic.mjs <brokers> <topic> [partitions]');
  process.exit(2);
}
const admin = Kafka.AdminClient.create({
  'metadata.broker.list': brokers,
  'client.id': 'kgw-dev-admin',
});
admin.createTopic(
  { topic, num_partitions: Number(partitions), replication_factor: -1 },
  10_000,
  (err) => {
    admin.disconnect();
    if (err && err.code !== Kafka.CODES.ERRORS.ERR_TOPIC_ALREADY_EXISTS) {
      console.error(`could not create topic ${topic}: ${err.message}`);
      process.exit(1);
    }
  },
);
