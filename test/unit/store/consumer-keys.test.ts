import { describe, expect, it } from 'vitest';
import { consumerKeys, partitionKeyList } from '../../../gateway/src/store/consumer-keys.js';

// Every script and MULTI touches keys of one group only; they must all hash to one Redis
// Cluster slot, so every key of a group carries the group as its hash tag.
describe('consumer keys', () => {
  const group = 'orders-v2.g_1';
  const tag = `{${group}}`;

  it('puts every key of a group under the hash tag {<group>}', () => {
    const keys = [
      consumerKeys.sessions(group),
      consumerKeys.subscription(group, 'c-1'),
      consumerKeys.seen(group),
      consumerKeys.partitions(group),
      consumerKeys.wake(group),
      consumerKeys.partitionWake(group, 'payments', 3),
      consumerKeys.commitLock(group),
      consumerKeys.inUse(group),
      consumerKeys.sweepLock(group),
      ...partitionKeyList(consumerKeys.partition(group, 'payments', 3)),
    ];
    for (const key of keys) {
      // The first {…} of a key is what Redis Cluster hashes.
      expect(/\{([^}]*)\}/.exec(key)?.[0], key).toBe(tag);
    }
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('lists a partition’s five keys in the order the ledger scripts expect', () => {
    const k = consumerKeys.partition(group, 't', 0);
    expect(partitionKeyList(k)).toEqual([k.state, k.inFlight, k.retry, k.dead, k.delivery]);
  });
});
