import type { ClientDuplexStream, StatusObject } from '@grpc/grpc-js';
import { Fifo } from './fifo.js';
import { LatencySamples, type LatencySummary } from './latency-samples.js';
import { describeStatus, GatewayGrpcConnection } from './grpc-gateway-client.js';
import { settlesWithin } from './timing.js';

/** How often a stream sends a partial ack batch (the tail of the topic, or a slow trickle). */
const ACK_FLUSH_MS = 10;
/** How long opening the streams (creating and subscribing sessions) may take. */
const OPEN_TIMEOUT_MS = 15_000;
/** How long ending a stream may take before it is cancelled. */
const END_TIMEOUT_MS = 10_000;

/** How the Consume streams read and ack. */
export interface GrpcDrainPlan {
  readonly streams: number;
  /** Records granted to each stream up front; as many again are granted as records arrive. */
  readonly credit: number;
  /** More credit is granted in steps of this many records received. */
  readonly creditStep: number;
  /** Records that make an ack worth sending before the 10 ms flush. */
  readonly ackBatch: number;
  /** Ack messages a stream leaves unanswered at most before it waits (and lets the next one grow). */
  readonly acksInFlight: number;
  readonly mode: 'ordered' | 'shared';
}

/** What one gRPC drain measured. */
export interface GrpcDrainResult {
  /** Distinct records delivered and acked (ack answered). */
  readonly records: number;
  readonly seconds: number;
  readonly complete: boolean;
  /** Records delivered more than once. */
  readonly duplicates: number;
  readonly acked: number;
  readonly fenced: number;
  readonly ackMessages: number;
  /** From sending an ack message to its answer on the stream. */
  readonly ackRoundTrip: LatencySummary;
  /** Per partition, the first offset not delivered and acked: what Kafka's committed offset should be. */
  readonly confirmedUpTo: readonly number[];
}

interface ConsumedRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly attempt: number;
}

interface ConsumeResponse {
  readonly kind?: 'opened' | 'record' | 'ackResult' | 'nackResult';
  readonly opened?: { readonly group: string; readonly instance: string };
  readonly record?: ConsumedRecord;
  readonly ackResult?: { readonly acked: number; readonly fenced: number };
}

/** An ack names a record by topic, partition, offset and the delivery attempt it answers. */
type RecordRef = ConsumedRecord;

/** The drain's shared bookkeeping: which records were seen, and which were confirmed. */
class Ledger {
  readonly total: number;
  readonly #seen: Uint8Array[];
  readonly #confirmedMarks: Uint8Array[];
  seen = 0;
  confirmed = 0;
  duplicates = 0;
  acked = 0;
  fenced = 0;
  ackMessages = 0;
  readonly ackRoundTrips = new LatencySamples(1024);

  constructor(counts: readonly number[]) {
    this.total = counts.reduce((a, b) => a + b, 0);
    this.#seen = counts.map((n) => new Uint8Array(n));
    this.#confirmedMarks = counts.map((n) => new Uint8Array(n));
  }

  /** Marks a delivered record; true when it is the first delivery of a record of the drain. */
  see(r: ConsumedRecord): boolean {
    const marks = this.#seen[r.partition];
    if (!marks || r.offset >= marks.length) return false;
    if (marks[r.offset] === 1) {
      this.duplicates += 1;
      return false;
    }
    marks[r.offset] = 1;
    this.seen += 1;
    return true;
  }

  confirm(refs: readonly RecordRef[]): void {
    for (const r of refs) {
      const marks = this.#confirmedMarks[r.partition];
      if (!marks || r.offset >= marks.length || marks[r.offset] === 1) continue;
      marks[r.offset] = 1;
      this.confirmed += 1;
    }
  }

  confirmedUpTo(): number[] {
    return this.#confirmedMarks.map((marks) => {
      const gap = marks.indexOf(0);
      return gap === -1 ? marks.length : gap;
    });
  }
}

/**
 * One Consume stream: opens a session with no credit; once started, grants
 * `credit` records, grants more as records arrive (keeping `credit` granted
 * ahead), and acks what arrived on the same stream with at most
 * `acksInFlight` ack messages unanswered. Records arriving meanwhile
 * accumulate, so acks grow when the gateway answers them slowly.
 */
class ConsumeStreamReader {
  readonly #connection: GatewayGrpcConnection;
  readonly #call: ClientDuplexStream<object, object>;
  readonly #ledger: Ledger;
  readonly #plan: GrpcDrainPlan;
  readonly #onProgress: () => void;
  /** Ack messages not answered yet, oldest first (a stream answers its acks in order). */
  readonly #unanswered = new Fifo<{ refs: RecordRef[]; sentAt: number }>();
  /** Resolves with the session once the server opened it; rejects if the stream ends first. */
  readonly opened: Promise<{ group: string; instance: string }>;
  readonly status: Promise<StatusObject>;
  #session: { group: string; instance: string } | undefined;
  #batch: RecordRef[] = [];
  #ungranted = 0;
  #flusher: NodeJS.Timeout | undefined;
  #failure: string | undefined;
  #stopped = false;
  #answered: (() => void) | undefined;

  constructor(
    address: string,
    open: { group: string; topic: string },
    ledger: Ledger,
    plan: GrpcDrainPlan,
    onProgress: () => void,
  ) {
    this.#ledger = ledger;
    this.#plan = plan;
    this.#onProgress = onProgress;
    this.#connection = new GatewayGrpcConnection(address);
    this.#call = this.#connection.consume();
    this.status = new Promise((resolve) => this.#call.once('status', resolve));
    this.opened = new Promise((resolve, reject) => {
      this.#call.on('data', (m: ConsumeResponse) => {
        if (m.kind === 'record') this.#onRecord(m.record!);
        else if (m.kind === 'ackResult') this.#onAckResult(m.ackResult!);
        else if (m.kind === 'opened') {
          this.#session = { group: m.opened!.group, instance: m.opened!.instance };
          resolve(this.#session);
        }
      });
      // Settling after 'opened' changes nothing.
      void this.status.then((s) =>
        reject(
          new Error(`Consume stream ended before opening: ${describeStatus(s.code, s.details)}`),
        ),
      );
    });
    this.opened.catch(() => undefined); // awaited by the drain; never an unhandled rejection
    this.#call.on('error', () => undefined); // the status says why
    void this.status.then((s) => {
      if (s.code !== 0) this.#failure ??= describeStatus(s.code, s.details);
      onProgress();
    });
    this.#call.write({
      open: {
        group: open.group,
        topics: [open.topic],
        options: { mode: plan.mode, autoOffsetReset: 'earliest' },
        initialCredit: 0,
      },
    });
  }

  /** Why the stream ended early, if it did. */
  get failure(): string | undefined {
    return this.#failure;
  }

  get idle(): boolean {
    return this.#unanswered.length === 0 && this.#batch.length === 0;
  }

  /** Grants the first credit: records start to flow. */
  start(): void {
    this.#call.write({ credit: { records: this.#plan.credit } });
    this.#flusher = setInterval(() => this.#flush(), ACK_FLUSH_MS);
  }

  /** Stops acking and granting credit, and waits (a bounded time) for the acks already sent to be answered. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#flusher);
    const deadline = performance.now() + END_TIMEOUT_MS;
    while (this.#unanswered.length > 0 && this.#failure === undefined) {
      const answered = new Promise<void>((resolve) => (this.#answered = resolve));
      if (!(await settlesWithin(answered, deadline - performance.now()))) return;
    }
  }

  /** Half-closes the stream and waits for the server to end it (cancels it after a timeout). */
  async end(): Promise<void> {
    clearInterval(this.#flusher);
    this.#call.end();
    if (!(await settlesWithin(this.status, END_TIMEOUT_MS))) this.#call.cancel();
  }

  close(): void {
    clearInterval(this.#flusher);
    this.#connection.close();
  }

  /** Deletes the stream's session (the stream leaves it behind). */
  async deleteSession(): Promise<void> {
    if (this.#session) await this.#connection.unary('DeleteConsumer', this.#session);
  }

  #onRecord(r: ConsumedRecord): void {
    this.#ledger.see(r);
    if (this.#stopped) return; // left to its ack timeout
    this.#batch.push({
      topic: r.topic,
      partition: r.partition,
      offset: r.offset,
      attempt: r.attempt,
    });
    this.#ungranted += 1;
    if (this.#ungranted >= this.#plan.creditStep) {
      this.#call.write({ credit: { records: this.#ungranted } });
      this.#ungranted = 0;
    }
    if (this.#batch.length >= this.#plan.ackBatch) this.#flush();
  }

  /** Sends the pending refs as one ack unless `acksInFlight` are unanswered already. */
  #flush(): void {
    if (this.#batch.length === 0 || this.#unanswered.length >= this.#plan.acksInFlight) return;
    const refs = this.#batch;
    this.#batch = [];
    this.#unanswered.push({ refs, sentAt: performance.now() });
    this.#ledger.ackMessages += 1;
    this.#call.write({ ack: { records: refs } });
  }

  #onAckResult(result: { acked: number; fenced: number }): void {
    const answered = this.#unanswered.shift();
    this.#ledger.acked += result.acked;
    this.#ledger.fenced += result.fenced;
    if (answered) {
      this.#ledger.confirm(answered.refs);
      this.#ledger.ackRoundTrips.add(performance.now() - answered.sentAt);
    }
    this.#answered?.();
    // What arrived while the ack was out goes at once, however little.
    if (!this.#stopped && this.#batch.length > 0) this.#flush();
    this.#onProgress();
  }
}

/**
 * Drains a pre-filled topic through `plan.streams` gRPC Consume streams of
 * one fresh group. Streams open first (sessions created and subscribed,
 * untimed); the clock starts when they are granted credit and stops when the
 * ack covering the last record is answered (or at `timeoutMs`: "capped").
 * Sessions are deleted afterwards.
 */
export async function drainThroughGrpc(options: {
  readonly address: string;
  readonly topic: string;
  readonly group: string;
  /** Records in each partition (offsets 0 … counts[p] - 1). */
  readonly counts: readonly number[];
  readonly plan: GrpcDrainPlan;
  readonly timeoutMs: number;
  readonly onStart?: () => void | Promise<void>;
  readonly onStop?: () => void | Promise<void>;
}): Promise<GrpcDrainResult> {
  const { plan } = options;
  const ledger = new Ledger(options.counts);
  let finished: () => void = () => undefined;
  const allConfirmed = new Promise<void>((resolve) => (finished = resolve));
  const readers: ConsumeStreamReader[] = [];
  const onProgress = (): void => {
    if (
      (ledger.confirmed >= ledger.total && readers.every((r) => r.idle)) ||
      readers.some((r) => r.failure !== undefined)
    )
      finished();
  };
  try {
    for (let i = 0; i < plan.streams; i += 1) {
      readers.push(
        new ConsumeStreamReader(
          options.address,
          { group: options.group, topic: options.topic },
          ledger,
          plan,
          onProgress,
        ),
      );
    }
    if (!(await settlesWithin(Promise.all(readers.map((r) => r.opened)), OPEN_TIMEOUT_MS)))
      throw new Error(`Consume streams did not open within ${OPEN_TIMEOUT_MS} ms`);

    await options.onStart?.();
    const started = performance.now();
    for (const reader of readers) reader.start();
    const done = await settlesWithin(allConfirmed, options.timeoutMs);
    const seconds = (performance.now() - started) / 1000;
    const records = ledger.confirmed;
    await options.onStop?.();
    const failure = readers.find((r) => r.failure !== undefined)?.failure;
    if (failure) throw new Error(`a Consume stream failed: ${failure}`);

    // Acks still out when a capped drain stops are answered before the streams end,
    // so confirmedUpTo covers every ack the gateway committed.
    await Promise.all(readers.map((r) => r.stop()));
    await Promise.all(readers.map((r) => r.end()));
    await Promise.all(readers.map((r) => r.deleteSession()));
    return {
      records,
      seconds,
      complete: done && ledger.confirmed >= ledger.total,
      duplicates: ledger.duplicates,
      acked: ledger.acked,
      fenced: ledger.fenced,
      ackMessages: ledger.ackMessages,
      ackRoundTrip: ledger.ackRoundTrips.summary(),
      confirmedUpTo: ledger.confirmedUpTo(),
    };
  } finally {
    for (const reader of readers) reader.close();
  }
}
