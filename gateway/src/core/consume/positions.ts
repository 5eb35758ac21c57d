import type { KafkaMetadataClient } from '../../kafka/metadata-client.js';
import type { PartitionLedger, TopicPartition } from '../../store/partition-ledger.js';
import type { SessionConfig } from '../../store/session-store.js';
import type { OffsetCommitClient } from '../group-committer.js';
import { decodeOffsetMap } from '../offset-map.js';

/** What positions need of Kafka's group offsets: committed offsets with their metadata. */
export interface CommittedOffsetsClient extends OffsetCommitClient {
  committed(
    group: string,
    tps: readonly TopicPartition[],
  ): Promise<Array<TopicPartition & { offset: number; metadata: string }>>;
}

export interface PositionsDeps {
  readonly ledger: PartitionLedger;
  readonly kafka: CommittedOffsetsClient;
  readonly metadataClient: KafkaMetadataClient;
  readonly kafkaTimeoutMs: number;
}

/** What Confluent's REST Proxy (through librdkafka) answers for a partition with no committed offset. */
const NO_OFFSET = -1001;

/** Where a group reads from: first use of a partition, Kafka's committed offsets, seeks. */
export class Positions {
  readonly #deps: PositionsDeps;

  constructor(deps: PositionsDeps) {
    this.#deps = deps;
  }

  /**
   * First use of a partition by the group (or Redis lost it): Kafka's
   * committed offset and the offset map in its metadata (I5: what was acked
   * above it stays acked), else auto.offset.reset.
   */
  async initialise(session: SessionConfig, tps: readonly TopicPartition[]): Promise<void> {
    const { kafka, metadataClient, kafkaTimeoutMs, ledger } = this.#deps;
    const committed = await kafka.committed(session.group, tps);
    await Promise.all(
      tps.map(async (tp, i) => {
        const c = committed[i];
        if (c && c.offset >= 0) {
          const map = decodeOffsetMap(c.offset, c.metadata);
          await ledger.init(session.group, tp, {
            next: map.next,
            committed: c.offset,
            metadata: c.metadata,
            pending: map.unresolved,
          });
          return;
        }
        const marks = await metadataClient.watermarks(tp.topic, tp.partition, kafkaTimeoutMs);
        const start = session.autoOffsetReset === 'earliest' ? marks.low : marks.high;
        await ledger.init(session.group, tp, {
          next: start,
          committed: -1,
          metadata: '',
          pending: [],
        });
      }),
    );
  }

  /** Kafka's committed offsets for the group (-1001, librdkafka's "invalid offset", where none). */
  async committed(
    group: string,
    tps: readonly TopicPartition[],
  ): Promise<Array<TopicPartition & { offset: number }>> {
    const committed = await this.#deps.kafka.committed(group, tps);
    return committed.map((c) => ({
      topic: c.topic,
      partition: c.partition,
      offset: c.offset >= 0 ? c.offset : NO_OFFSET,
    }));
  }

  /** The next records delivered on these partitions start at the given offsets. */
  async seek(
    group: string,
    positions: ReadonlyArray<TopicPartition & { offset: number }>,
  ): Promise<void> {
    for (const p of positions) await this.#deps.ledger.seek(group, p, p.offset);
    await this.#deps.ledger.wake(group);
  }

  async seekTo(
    group: string,
    tps: readonly TopicPartition[],
    where: 'beginning' | 'end',
  ): Promise<void> {
    const { metadataClient, kafkaTimeoutMs } = this.#deps;
    const positions = await Promise.all(
      tps.map(async (tp) => {
        const marks = await metadataClient.watermarks(tp.topic, tp.partition, kafkaTimeoutMs);
        return { ...tp, offset: where === 'beginning' ? marks.low : marks.high };
      }),
    );
    await this.seek(group, positions);
  }
}
