// A shared or assigned session's poll reads its partitions' states alongside
// the session, guessing the partitions from its last poll on this instance.
// These check that a changed subscription or assignment is never served from
// the guess; real gateway, Kafka and redis-server.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { closeAllGateways, startGateway } from '../../support/gateway-in-process.js';
import { closeAllClients, createTopic, uniqueName } from '../../support/kafka.js';
import { RestConsumer, produceNumbers } from '../../support/rest-consumer.js';

describe('poll start with the partitions of the last poll', () => {
  afterEach(closeAllClients);
  afterAll(closeAllGateways);

  it('follows a changed subscription at once (shared mode)', async () => {
    const gw = await startGateway();
    const [a, b] = [await createTopic(), await createTopic()];
    await produceNumbers(gw.url, a, 3);
    await produceNumbers(gw.url, b, 3);
    const s = await RestConsumer.create(gw.url, uniqueName('g'), { mode: 'shared' });
    await s.subscribe(gw.url, [a]);
    const first = await s.poll(gw.url, { timeout: 3000, max_records: 1 });
    expect(first.map((r) => r.topic)).toEqual([a]);
    await s.ack(gw.url, first);
    await s.subscribe(gw.url, [b]);
    const next = await s.poll(gw.url, { timeout: 3000, max_records: 10 });
    expect(next.map((r) => `${r.topic}:${r.offset}`)).toEqual([`${b}:0`, `${b}:1`, `${b}:2`]);
  });

  it('follows a changed assignment at once', async () => {
    const gw = await startGateway();
    const topic = await createTopic({ partitions: 2 });
    const produce = async (partition: number) => {
      const res = await fetch(`${gw.url}/topics/${topic}/partitions/${partition}`, {
        method: 'POST',
        headers: { 'content-type': 'application/vnd.kafka.json.v2+json' },
        body: JSON.stringify({ records: [{ value: partition }, { value: partition }] }),
      });
      expect(res.status).toBe(200);
    };
    await produce(0);
    await produce(1);
    const s = await RestConsumer.create(gw.url, uniqueName('g'));
    const assign = (partition: number) =>
      s.raw('POST', gw.url, '/assignments', { partitions: [{ topic, partition }] });
    expect((await assign(0)).status).toBe(204);
    const first = await s.poll(gw.url, { timeout: 3000, max_records: 1 });
    expect(first.map((r) => r.partition)).toEqual([0]);
    expect((await assign(1)).status).toBe(204);
    const next = await s.poll(gw.url, { timeout: 3000, max_records: 10 });
    expect(next.map((r) => r.partition)).toEqual([1, 1]);
  });
});
