// An ack folded into the next poll (GET …/records?ack=…): fenced like any ack,
// committed to Kafka before the poll answers, and never handing the acked
// record out again; through a real gateway, Kafka and redis-server.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  closeAllGateways,
  startGateway,
  type RunningGateway,
} from '../../support/gateway-in-process.js';
import { closeAllClients, createTopic, uniqueName } from '../../support/kafka.js';
import { RestConsumer, produceNumbers, type ConsumedRecord } from '../../support/rest-consumer.js';

const JSON_V2 = 'application/vnd.kafka.json.v2+json';

async function pollAcking(
  gw: RunningGateway,
  s: RestConsumer,
  acks: readonly (ConsumedRecord | string)[],
  query = 'max_records=1&timeout=3000',
): Promise<{
  status: number;
  records: ConsumedRecord[];
  acked: string | null;
  fenced: string | null;
  body: unknown;
}> {
  const refs = acks
    .map((a) => (typeof a === 'string' ? a : `${a.topic}:${a.partition}:${a.offset}:${a.attempt}`))
    .join(',');
  const res = await fetch(s.path(gw.url, `/records?${query}&ack=${encodeURIComponent(refs)}`), {
    headers: { accept: JSON_V2 },
    signal: AbortSignal.timeout(30_000),
  });
  const body = (await res.json()) as unknown;
  return {
    status: res.status,
    records: res.status === 200 ? (body as ConsumedRecord[]) : [],
    acked: res.headers.get('kgw-acked'),
    fenced: res.headers.get('kgw-fenced'),
    body,
  };
}

describe('acks folded into the next poll', () => {
  afterEach(closeAllClients);
  afterAll(closeAllGateways);

  it('acks, commits before answering, and hands out the next record', async () => {
    const gw = await startGateway();
    const topic = await createTopic();
    await produceNumbers(gw.url, topic, 5);
    const s = await RestConsumer.create(gw.url, uniqueName('g'), { mode: 'shared' });
    await s.subscribe(gw.url, [topic]);
    let [held] = await s.poll(gw.url, { timeout: 3000, max_records: 1 });
    const seen = [held!.offset];
    for (let i = 1; i < 5; i += 1) {
      const next = await pollAcking(gw, s, [held!]);
      expect(next).toMatchObject({ status: 200, acked: '1', fenced: '0' });
      // Kafka holds the ack's commit once the poll has answered.
      expect(await s.committed(gw.url, topic, [0])).toEqual([held!.offset + 1]);
      held = next.records[0];
      seen.push(held!.offset);
    }
    const last = await pollAcking(gw, s, [held!], 'max_records=1&timeout=200');
    expect(last).toMatchObject({ status: 200, records: [], acked: '1', fenced: '0' });
    expect(seen).toEqual([0, 1, 2, 3, 4]);
    expect(await s.committed(gw.url, topic, [0])).toEqual([5]);
  });

  it('fences a stale attempt or another session’s record, and still polls', async () => {
    const gw = await startGateway();
    const topic = await createTopic();
    await produceNumbers(gw.url, topic, 3);
    const group = uniqueName('g');
    const a = await RestConsumer.create(gw.url, group, { mode: 'shared' });
    const b = await RestConsumer.create(gw.url, group, { mode: 'shared' });
    await a.subscribe(gw.url, [topic]);
    await b.subscribe(gw.url, [topic]);
    const [mine] = await a.poll(gw.url, { timeout: 3000, max_records: 1 });
    // B names A's record, then A names its own with a later attempt than it was given.
    const byB = await pollAcking(gw, b, [mine!]);
    expect(byB).toMatchObject({ status: 200, acked: '0', fenced: '1' });
    expect(byB.records.map((r) => r.offset)).toEqual([1]);
    const stale = await pollAcking(gw, a, [`${topic}:0:${mine!.offset}:${mine!.attempt + 1}`]);
    expect(stale).toMatchObject({ status: 200, acked: '0', fenced: '1' });
    expect(stale.records.map((r) => r.offset)).toEqual([2]);
    // Nothing was acked: Kafka holds no offset past A's record (none at all, or 0).
    expect([-1001, 0]).toContain((await a.committed(gw.url, topic, [0]))[0]);
  });

  it('answers a malformed ack with 422 before anything is acked or claimed', async () => {
    const gw = await startGateway();
    const topic = await createTopic();
    await produceNumbers(gw.url, topic, 1);
    const s = await RestConsumer.create(gw.url, uniqueName('g'));
    await s.subscribe(gw.url, [topic]);
    for (const bad of [`${topic}:0`, `${topic}:x:1`, `${topic}:0:1:2:3`, `bad/topic:0:1`, '']) {
      const res = await pollAcking(gw, s, [bad]);
      expect(res.status, bad).toBe(422);
      expect(res.body, bad).toMatchObject({ error_code: 42201, code: 'KGW_INVALID_REQUEST' });
    }
    // The record was never claimed by those requests: the next poll gets it, attempt 1.
    const [r] = await s.poll(gw.url, { timeout: 3000 });
    expect(r).toMatchObject({ offset: 0, attempt: 1 });
  });

  it('answers 404 for a session that is gone, with nothing acked', async () => {
    const gw = await startGateway();
    const topic = await createTopic();
    await produceNumbers(gw.url, topic, 2);
    const group = uniqueName('g');
    const s = await RestConsumer.create(gw.url, group);
    await s.subscribe(gw.url, [topic]);
    const [r] = await s.poll(gw.url, { timeout: 3000, max_records: 1 });
    await s.delete(gw.url);
    const res = await pollAcking(gw, s, [r!]);
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ error_code: 40403 });
    const other = await RestConsumer.create(gw.url, group);
    await other.subscribe(gw.url, [topic]);
    const again = await other.poll(gw.url, { timeout: 3000 });
    expect(again.map((x) => x.offset)).toEqual([0, 1]);
  });
});
