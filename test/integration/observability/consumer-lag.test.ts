import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { eventually } from '../../support/eventually.js';
import { closeAllGateways, startGateway } from '../../support/gateway-in-process.js';
import { closeAllClients, createTopic, uniqueName } from '../../support/kafka.js';
import { RestConsumer, produceNumbers } from '../../support/rest-consumer.js';

describe('consumer lag gauge', () => {
  afterEach(closeAllClients);
  afterAll(closeAllGateways);

  it('equals the end offset minus the committed offset after a partial consume', async () => {
    const gw = await startGateway({ KGW_CONSUMER_STATS_INTERVAL_MS: '200' });
    const topic = await createTopic({ partitions: 2 });
    await produceNumbers(gw.url, topic, 20); // round-robin: 10 per partition
    const group = uniqueName('g');
    const s = await RestConsumer.create(gw.url, group);
    await s.subscribe(gw.url, [topic]);
    const records = await s.poll(gw.url, { timeout: 3000, max_records: 20 });
    // Ack the first 3 of partition 0 and the first 7 of partition 1.
    const pick = (p: number, n: number) =>
      records
        .filter((r) => r.partition === p)
        .sort((a, b) => a.offset - b.offset)
        .slice(0, n);
    await s.ack(gw.url, [...pick(0, 3), ...pick(1, 7)]);
    const committed = await s.committed(gw.url, topic, [0, 1]);
    expect(committed).toEqual([3, 7]);

    await eventually(async () => {
      const text = await (await fetch(`${gw.url}/metrics`)).text();
      const lag = (p: number): number | undefined => {
        const line = text
          .split('\n')
          .find((l) =>
            l.startsWith(
              `kgw_consume_lag_records{group="${group}",topic="${topic}",partition="${p}"}`,
            ),
          );
        return line === undefined ? undefined : Number(line.split(' ').pop());
      };
      expect([lag(0), lag(1)]).toEqual([10 - 3, 10 - 7]);
    });
  });
});
