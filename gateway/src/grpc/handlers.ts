import type {
  sendUnaryData,
  ServerDuplexStream,
  ServerUnaryCall,
  UntypedServiceImplementation,
} from '@grpc/grpc-js';
import type { AdminService } from '../core/admin.js';
import type { ConsumeService } from '../core/consume-service.js';
import { outcomeOfError, type ProduceService } from '../core/produce.js';
import type { RecordOutcome } from '../core/produce-types.js';
import type { SessionService } from '../core/session-service.js';
import { GatewayError } from '../errors.js';
import { toServiceError } from './grpc-errors.js';
import {
  consumedRecord,
  deliveryMode,
  extendMs,
  recordInput,
  recordRefs,
  recordResult,
  sessionOptions,
  type ProtoConsumerOptions,
  type ProtoRecord,
  type ProtoRecordRef,
} from './messages.js';
import { consumeStream, type ConsumeStreamOptions } from './consume-stream.js';

export interface GrpcServices {
  readonly produce: ProduceService;
  readonly consume: ConsumeService;
  readonly sessions: SessionService;
  readonly admin: AdminService;
}

/** Milliseconds left before the client's deadline (Infinity without one). */
type Remaining = () => number;
/** `left` aborts when the client cancels the call (or its deadline passes). */
type Unary<Req> = (request: Req, remaining: Remaining, left: AbortSignal) => Promise<unknown>;

/** Wraps a use-case call as a unary handler: result or mapped error, never a throw. */
function unary<Req>(
  work: Unary<Req>,
): (call: ServerUnaryCall<Req, unknown>, callback: sendUnaryData<unknown>) => void {
  return (call, callback) => {
    const deadline = call.getDeadline();
    const at = deadline instanceof Date ? deadline.getTime() : Number(deadline);
    const remaining = (): number => (Number.isFinite(at) ? at - Date.now() : Infinity);
    const left = new AbortController();
    call.once('cancelled', () => left.abort());
    work(call.request, remaining, left.signal).then(
      (result) => callback(null, result),
      (err: unknown) => callback(toServiceError(err)),
    );
  };
}

function required(value: string | undefined, field: string): string {
  if (!value) throw new GatewayError('KGW_INVALID_REQUEST', `${field} is required`);
  return value;
}

/** The KafkaGateway service: each method validates, calls core/, maps the result. */
export function gatewayHandlers(
  services: GrpcServices,
  options: ConsumeStreamOptions,
): UntypedServiceImplementation {
  const { produce, consume, sessions, admin } = services;
  return {
    Produce: unary(
      async (r: {
        topic: string;
        records: ProtoRecord[];
        delivery: string;
        idempotencyKey: string;
      }) => {
        const result = await produce.produce({
          topic: required(r.topic, 'topic'),
          records: r.records.map(recordInput),
          delivery: deliveryMode(r.delivery),
          ...(r.idempotencyKey ? { idempotencyKey: r.idempotencyKey } : {}),
        });
        if (result.outcomes.length === 0)
          throw new GatewayError('KGW_INVALID_REQUEST', 'records must not be empty');
        return { results: result.outcomes.map(recordResult), replayed: result.replayed };
      },
    ),

    ProduceStream: (
      call: ServerDuplexStream<
        { topic: string; record: ProtoRecord; delivery: string; idempotencyKey: string },
        unknown
      >,
    ) => {
      // Results go out in request order: each write waits for the ones before it.
      let previous: Promise<void> = Promise.resolve();
      const unregister = options.streams.add(
        call as ServerDuplexStream<unknown, unknown>,
        () => previous,
      );
      const failed = (err: unknown): Record<string, unknown> => recordResult(outcomeOfError(err));
      const emit = (outcome: Promise<Record<string, unknown>>): void => {
        previous = previous
          .then(async () => {
            const result = await outcome;
            if (!call.cancelled) call.write(result);
          })
          .catch(() => undefined); // a broken write must not stall the results behind it
      };
      // Records arriving in the same event-loop turn for one topic and mode are
      // produced as one batch (one metadata lookup and admission check), like v3 chunks.
      let batch:
        | {
            topic: string;
            delivery: string;
            records: ProtoRecord[];
            waiters: ((outcomes: readonly RecordOutcome[]) => void)[];
          }
        | undefined;
      const flush = (): void => {
        const b = batch;
        batch = undefined;
        if (!b) return;
        // Never rejects: a request-level failure becomes each record's outcome.
        void produce
          .produce({
            topic: b.topic,
            records: b.records.map(recordInput),
            delivery: deliveryMode(b.delivery),
            unknownPartition: 'record',
          })
          .then(
            (result) => result.outcomes,
            (err: unknown) => b.records.map(() => outcomeOfError(err)),
          )
          .then((outcomes) => b.waiters.forEach((w) => w(outcomes)));
      };
      call.on('data', (r) => {
        if (options.streams.closing) return; // not accepted: the stream ends with UNAVAILABLE
        if (r.idempotencyKey) {
          // Keyed records keep their own request, so each key covers exactly one record.
          emit(
            produce
              .produce({
                topic: r.topic,
                records: [recordInput(r.record)],
                delivery: deliveryMode(r.delivery),
                idempotencyKey: r.idempotencyKey,
              })
              .then((result) => recordResult(result.outcomes[0]!), failed),
          );
          return;
        }
        if (batch && (batch.topic !== r.topic || batch.delivery !== r.delivery)) flush();
        if (!batch) {
          batch = { topic: r.topic, delivery: r.delivery, records: [], waiters: [] };
          setImmediate(flush);
        }
        const index = batch.records.length;
        batch.records.push(r.record);
        emit(
          // (Not a promise of a promise: a resolved promise would be adopted, not passed on.)
          new Promise<readonly RecordOutcome[]>((resolve) => batch!.waiters.push(resolve)).then(
            (o) => recordResult(o[index]!),
          ),
        );
      });
      call.on(
        'end',
        () =>
          void previous.then(() => {
            unregister();
            call.end();
          }),
      );
      call.on('error', unregister);
      call.on('cancelled', unregister); // grpc-js emits only this for a cancelled call
    },

    Consume: (call: ServerDuplexStream<unknown, unknown>) => consumeStream(call, services, options),

    CreateConsumer: unary(
      async (r: { group: string; name: string; options: ProtoConsumerOptions }) => {
        const session = await sessions.create(
          required(r.group, 'group'),
          sessionOptions(r.options, options.defaults, r.name),
        );
        return { instance: session.id };
      },
    ),
    DeleteConsumer: unary(async (r: { group: string; instance: string }) => {
      await sessions.delete(required(r.group, 'group'), required(r.instance, 'instance'));
      return {};
    }),
    Subscribe: unary(async (r: { group: string; instance: string; topics: string[] }) => {
      if (r.topics.length === 0)
        throw new GatewayError('KGW_INVALID_REQUEST', 'topics must not be empty');
      await sessions.subscribe(required(r.group, 'group'), required(r.instance, 'instance'), {
        kind: 'topics',
        topics: r.topics,
      });
      return {};
    }),
    Poll: unary(
      async (
        r: { group: string; instance: string; timeoutMs: number; maxRecords: number },
        remaining,
        left,
      ) => {
        const { records } = await consume.poll(
          required(r.group, 'group'),
          required(r.instance, 'instance'),
          {
            ...(r.timeoutMs ? { timeoutMs: r.timeoutMs } : {}),
            // Answer (possibly with no records) before the client's deadline rather than after it.
            maxTimeoutMs: Math.max(0, Math.min(options.maxPollTimeoutMs, remaining() - 100)),
            maxRecords: Math.min(r.maxRecords || options.maxPollRecords, options.maxPollRecords),
            maxBytes: options.maxPollBytes,
          },
          left,
        );
        if (left.aborted) {
          // Nobody will read the answer: the records go back without spending an attempt.
          await consume.release(r.group, r.instance, records);
          return { records: [] };
        }
        return { records: records.map(consumedRecord) };
      },
    ),
    Ack: unary(async (r: { group: string; instance: string; records: ProtoRecordRef[] }) =>
      consume.ack(
        required(r.group, 'group'),
        required(r.instance, 'instance'),
        recordRefs(r.records),
      ),
    ),
    Nack: unary(
      async (r: {
        group: string;
        instance: string;
        records: ProtoRecordRef[];
        delayMs: number;
        error: string;
      }) =>
        consume.nack(
          required(r.group, 'group'),
          required(r.instance, 'instance'),
          recordRefs(r.records),
          r.delayMs,
          r.error || 'nacked',
        ),
    ),
    Extend: unary(
      async (r: { group: string; instance: string; records: ProtoRecordRef[]; extendMs: number }) =>
        consume.extend(
          required(r.group, 'group'),
          required(r.instance, 'instance'),
          recordRefs(r.records),
          extendMs(r.extendMs),
        ),
    ),
    ListTopics: unary(async () => ({ topics: await admin.topicNames() })),
    DescribeTopic: unary(async (r: { topic: string }) => {
      const topic = await admin.topic(required(r.topic, 'topic'));
      return {
        name: topic.name,
        partitions: topic.partitions.map((p) => ({
          partition: p.id,
          leader: p.leader,
          replicas: p.replicas,
          inSyncReplicas: p.isrs,
        })),
      };
    }),
    ListBrokers: unary(async () => ({ brokers: await admin.brokers() })),
  };
}
