import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Access } from '../../../gateway/src/auth/access.js';
import { Policy } from '../../../gateway/src/auth/policy.js';
import { runAs } from '../../../gateway/src/auth/request-context.js';
import { GroupAdminService } from '../../../gateway/src/core/group-admin.js';
import type { TopicMetadataCache } from '../../../gateway/src/kafka/topic-metadata-cache.js';
import type { GroupDescription } from '../../../gateway/src/kafka/group-coordinator.js';
import { createLogger } from '../../../gateway/src/observability/logger.js';

const reporting = { name: 'reporting', groups: [], via: 'api-key' } as const;

describe('GroupAdminService', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kgw-group-admin-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const policyFile = join(dir, 'policy.json');
  writeFileSync(
    policyFile,
    JSON.stringify({
      rules: [
        {
          effect: 'allow',
          principals: ['reporting'],
          operations: ['describe'],
          topics: ['orders.*'],
          groups: ['reports-*'],
        },
      ],
    }),
  );
  const access = new Access(new Policy(policyFile), createLogger('silent'));

  const described = (state: string): GroupDescription => ({
    state,
    protocolType: state === 'Stable' ? 'consumer' : '',
    protocol: state === 'Stable' ? 'range' : '',
    members: [],
  });
  const committed: Record<string, Array<{ topic: string; partition: number; offset: number }>> = {
    'reports-a': [
      { topic: 'orders.eu', partition: 0, offset: 5 },
      { topic: 'orders.eu', partition: 1, offset: 2 },
      { topic: 'orders.gone', partition: 0, offset: 1 },
      { topic: 'payments', partition: 0, offset: 0 },
    ],
    // Committed past the log end (a log truncated by an unclean leader election).
    'reports-ahead': [{ topic: 'orders.eu', partition: 0, offset: 12 }],
  };
  const ends: Record<string, number> = { 'orders.eu/0': 9, 'orders.eu/1': 10, 'payments/0': 50 };
  const service = new GroupAdminService({
    access,
    groups: {
      describe: async (g) =>
        described(g === 'reports-live' ? 'Stable' : committed[g] ? 'Empty' : 'Dead'),
      committedAll: async (g) => (committed[g] ?? []).map((c) => ({ ...c, metadata: '' })),
    },
    cluster: {
      listGroups: async (brokers) => {
        expect(brokers).toEqual(['b1:9092', 'b2:9092']);
        return ['other', 'reports-a', 'reports-live'].map((groupId) => ({
          groupId,
          protocolType: '',
        }));
      },
    },
    metadata: {
      fetch: async () => ({
        brokers: [
          { id: 1, host: 'b1', port: 9092 },
          { id: 2, host: 'b2', port: 9092 },
        ],
        topics: [],
      }),
      watermarks: async (topic, partition) => ({ low: 0, high: ends[`${topic}/${partition}`]! }),
    },
    cache: {
      topic: async (name: string) => (name === 'orders.gone' ? null : { name, partitions: [] }),
    } as unknown as TopicMetadataCache,
    timeoutMs: 1000,
  });
  const as = <T>(work: () => Promise<T>): Promise<T> => runAs(reporting, work);

  it('lists only the groups the principal may describe, asking every broker', async () => {
    const groups = await as(() => service.list());
    expect(groups.map((g) => [g.groupId, g.state, g.isSimple, g.partitionAssignor])).toEqual([
      ['reports-a', 'Empty', true, ''],
      ['reports-live', 'Stable', false, 'range'],
    ]);
  });

  it('needs describe on the group, and answers 404 for a group Kafka does not know', async () => {
    await expect(as(() => service.group('other'))).rejects.toMatchObject({ code: 'KGW_FORBIDDEN' });
    await expect(as(() => service.lags('other'))).rejects.toMatchObject({ code: 'KGW_FORBIDDEN' });
    await expect(as(() => service.group('reports-none'))).rejects.toMatchObject({
      code: 'KGW_CONSUMER_GROUP_NOT_FOUND',
    });
    await expect(as(() => service.lagSummary('reports-none'))).rejects.toMatchObject({
      code: 'KGW_CONSUMER_GROUP_NOT_FOUND',
    });
  });

  it('computes lags on topics the principal may describe that still exist, and sums them', async () => {
    expect(await as(() => service.lags('reports-a'))).toEqual([
      { topic: 'orders.eu', partition: 0, committedOffset: 5, logEndOffset: 9, lag: 4 },
      { topic: 'orders.eu', partition: 1, committedOffset: 2, logEndOffset: 10, lag: 8 },
    ]);
    const summary = await as(() => service.lagSummary('reports-a'));
    expect(summary).toEqual({
      max: { topic: 'orders.eu', partition: 1, committedOffset: 2, logEndOffset: 10, lag: 8 },
      totalLag: 12,
    });
  });

  it('never answers a negative lag for a commit past the log end', async () => {
    expect(await as(() => service.lags('reports-ahead'))).toEqual([
      { topic: 'orders.eu', partition: 0, committedOffset: 12, logEndOffset: 9, lag: 0 },
    ]);
  });
});
