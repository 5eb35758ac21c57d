// 1,000 long-polls waiting at once must all answer within their timeout (plus
// a second) when one record arrives: waking them must not cascade into minutes
// of Redis work or serialised fetches.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { eventually } from '../../support/eventually.js';
import { closeAllGateways, startGateway } from '../../support/gateway-in-process.js';
import { closeAllClients, createTopic, uniqueName } from '../../support/kafka.js';
import { RestConsumer, produceNumbers } from '../../support/rest-consumer.js';

const POLLS = 1000;
const TIMEOUT_MS = 10_000;

describe('1,000 waiting long-polls', () => {
  afterEach(closeAllClients);
  afterAll(closeAllGateways);

  for (const mode of ['shared', 'ordered'] as const) {
    it(`all answer within ${TIMEOUT_MS + 1000} ms of one record arriving (${mode} mode)`, async () => {
      const gw = await startGateway();
      const topic = await createTopic();
      const group = uniqueName('g');
      const sessions: RestConsumer[] = [];
      for (let i = 0; i < POLLS; i += 50) {
        sessions.push(
          ...(await Promise.all(
            Array.from({ length: 50 }, async () => {
              const s = await RestConsumer.create(gw.url, group, { mode });
              await s.subscribe(gw.url, [topic]);
              return s;
            }),
          )),
        );
      }
      const answered: number[] = [];
      const polls = sessions.map(async (s) => {
        const records = await s.poll(gw.url, { timeout: TIMEOUT_MS });
        answered.push(Date.now());
        return records;
      });
      await eventually(
        async () => {
          const text = await (await fetch(`${gw.url}/metrics`)).text();
          const waiting = Number(/^kgw_consume_long_polls_waiting (\d+)/m.exec(text)?.[1]);
          expect(waiting).toBe(POLLS);
        },
        { timeoutMs: 30_000, intervalMs: 200 },
      );
      const produced = Date.now();
      await produceNumbers(gw.url, topic, 1);
      const results = await Promise.all(polls);
      const latest = Math.max(...answered) - produced;
      console.log(`${mode}: last of ${POLLS} long-polls answered ${latest} ms after the record`);
      expect(results.flat().map((r) => r.offset)).toEqual([0]);
      expect(latest).toBeLessThan(TIMEOUT_MS + 1000);
    }, 120_000);
  }
});
