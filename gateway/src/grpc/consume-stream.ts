import type { ServerDuplexStream } from '@grpc/grpc-js';
import { GatewayError } from '../errors.js';
import { toServiceError } from './grpc-errors.js';
import {
  consumedRecord,
  extendMs,
  recordRefs,
  sessionOptions,
  type ProtoConsumerOptions,
  type ProtoRecordRef,
} from './messages.js';
import type { GrpcServices } from './handlers.js';
import type { OpenStreams } from './open-streams.js';

export interface ConsumeStreamOptions {
  readonly streams: OpenStreams;
  readonly defaults: {
    ackTimeoutMs: number;
    maxAttempts: number;
    requestTimeoutMs: number;
    leaseTimeoutMs: number;
  };
  readonly maxPollTimeoutMs: number;
  readonly maxPollRecords: number;
  readonly maxPollBytes: number;
}

interface ConsumeRequest {
  kind?: 'open' | 'credit' | 'ack' | 'nack' | 'extend';
  open?: {
    group: string;
    instance: string;
    options: ProtoConsumerOptions;
    topics: string[];
    initialCredit: number;
  };
  credit?: { records: number };
  ack?: { records: ProtoRecordRef[] };
  nack?: { records: ProtoRecordRef[]; delayMs: number; error: string };
  extend?: { records: ProtoRecordRef[]; extendMs: number };
}

/**
 * One consumer session on a bidirectional stream. Records flow only while the
 * client has credit; the long-poll behind it is the same one REST uses, in
 * short rounds so credit, acks and cancellation are noticed quickly.
 */
export function consumeStream(
  call: ServerDuplexStream<unknown, unknown>,
  services: GrpcServices,
  options: ConsumeStreamOptions,
): void {
  const { consume, sessions } = services;
  let session: { group: string; id: string } | undefined;
  let credit = 0;
  let closed = false;
  let wake: (() => void) | undefined;
  const signal = (): void => {
    wake?.();
    wake = undefined;
  };
  // Aborts a poll in progress when the call ends, so its claims go back unspent.
  const gone = new AbortController();
  call.once('cancelled', () => gone.abort());
  call.once('close', () => gone.abort());
  const fail = (err: unknown): void => {
    if (closed) return;
    closed = true;
    call.emit('error', toServiceError(err));
  };

  const pump = async (): Promise<void> => {
    while (!closed && !call.cancelled) {
      if (credit <= 0) {
        await new Promise<void>((resolve) => (wake = resolve));
        continue;
      }
      const { records } = await consume.poll(
        session!.group,
        session!.id,
        {
          timeoutMs: 1000,
          maxRecords: Math.min(credit, options.maxPollRecords),
          maxBytes: options.maxPollBytes,
        },
        gone.signal,
      );
      for (let i = 0; i < records.length; i += 1) {
        if (closed || call.cancelled) {
          // The client left: what it never received goes back without spending an attempt.
          await consume.release(session!.group, session!.id, records.slice(i));
          return;
        }
        credit -= 1;
        call.write({ record: consumedRecord(records[i]!) });
      }
    }
  };

  // Messages are handled one after another: a credit sent right behind the open
  // waits for the session, and acks never overtake each other.
  let queue: Promise<void> = Promise.resolve();
  call.on('data', (message: ConsumeRequest) => {
    queue = queue.then(async () => {
      try {
        if (message.kind === 'open') {
          if (session)
            throw new GatewayError('KGW_CONSUMER_STATE', 'the stream already has a session');
          const open = message.open!;
          const group = open.group;
          if (!group) throw new GatewayError('KGW_INVALID_REQUEST', 'open.group is required');
          let id = open.instance;
          if (id) {
            await sessions.get(group, id);
          } else {
            if (open.topics.length === 0)
              throw new GatewayError(
                'KGW_INVALID_REQUEST',
                'open.topics is required for a new session',
              );
            id = (await sessions.create(group, sessionOptions(open.options, options.defaults))).id;
            await sessions.subscribe(group, id, { kind: 'topics', topics: open.topics });
          }
          session = { group, id };
          credit += Math.max(0, open.initialCredit);
          call.write({ opened: { group, instance: id } });
          void pump().catch(fail);
          return;
        }
        if (!session)
          throw new GatewayError('KGW_CONSUMER_STATE', 'the first message must open a session');
        if (message.kind === 'credit') {
          credit += Math.max(0, message.credit!.records);
          signal();
        } else if (message.kind === 'ack') {
          const result = await consume.ack(
            session.group,
            session.id,
            recordRefs(message.ack!.records),
          );
          if (!closed) call.write({ ackResult: result });
        } else if (message.kind === 'nack') {
          const n = message.nack!;
          const result = await consume.nack(
            session.group,
            session.id,
            recordRefs(n.records),
            n.delayMs,
            n.error || 'nacked',
          );
          if (!closed) call.write({ nackResult: result });
        } else if (message.kind === 'extend') {
          const e = message.extend!;
          const result = await consume.extend(
            session.group,
            session.id,
            recordRefs(e.records),
            extendMs(e.extendMs),
          );
          if (!closed) call.write({ extendResult: result });
        }
      } catch (err) {
        fail(err);
      }
    });
  });
  const stop = (): void => {
    closed = true;
    signal();
    unregister();
  };
  // On shutdown: stop handing out records (those unsent wait for their timeout), then end the stream.
  const unregister = options.streams.add(call, async () => {
    closed = true;
    signal();
  });
  call.on('end', () => {
    stop();
    call.end();
  });
  call.on('cancelled', stop);
  call.on('error', stop);
}
