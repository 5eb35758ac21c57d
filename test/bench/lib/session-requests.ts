import type { Dispatcher } from 'undici';
import { GatewayHttpError, type ConsumedRecord, type GatewaySession } from './gateway-session.js';

const V2 = 'application/vnd.kafka.v2+json';
const V2_BINARY = 'application/vnd.kafka.binary.v2+json';

function instancePath(session: GatewaySession): string {
  return `/consumers/${encodeURIComponent(session.group)}/instances/${encodeURIComponent(session.id)}`;
}

/**
 * `POST …/nacks`: deliver these records again after `delayMs`. Resolves with
 * the gateway's `{ nacked, fenced }`.
 */
export async function nackRecords(
  dispatcher: Dispatcher,
  origin: string,
  session: GatewaySession,
  records: readonly ConsumedRecord[],
  delayMs: number,
): Promise<{ nacked: number; fenced: number }> {
  const { statusCode, body } = await dispatcher.request({
    origin,
    method: 'POST',
    path: `${instancePath(session)}/nacks`,
    headers: { 'content-type': V2 },
    body: JSON.stringify({
      records: records.map((r) => ({
        topic: r.topic,
        partition: r.partition,
        offset: r.offset,
        attempt: r.attempt,
      })),
      delay_ms: delayMs,
    }),
  });
  const text = await body.text();
  if (statusCode >= 300) throw new GatewayHttpError('nack', statusCode, text);
  return JSON.parse(text) as { nacked: number; fenced: number };
}

/**
 * One long-poll of `session` on a dispatcher of the caller's choosing, which
 * `signal` can abort (`GatewaySession.poll` cannot be cut short).
 */
export async function abortablePoll(
  dispatcher: Dispatcher,
  origin: string,
  session: GatewaySession,
  timeoutMs: number,
  maxRecords: number,
  signal: AbortSignal,
): Promise<ConsumedRecord[]> {
  const { statusCode, body } = await dispatcher.request({
    origin,
    method: 'GET',
    path: `${instancePath(session)}/records?timeout=${timeoutMs}&max_records=${maxRecords}`,
    headers: { accept: V2_BINARY },
    signal,
  });
  const text = await body.text();
  if (statusCode >= 300) throw new GatewayHttpError('poll', statusCode, text);
  return JSON.parse(text) as ConsumedRecord[];
}
