import { describe, expect, it } from 'vitest';
import { createStrategy } from '../../../gateway/src/balancer/index.js';
import { InFlightTracker } from '../../../gateway/src/balancer/in-flight-tracker.js';
import { RoundRobinStrategy } from '../../../gateway/src/balancer/round-robin.js';
import type { PartitionView, TopicView } from '../../../gateway/src/balancer/strategy.js';

/** Partition i is led by leaders[i] (-1 = leaderless). */
function topic(leaders: readonly number[], name = 't'): TopicView {
  return { name, partitions: leaders.map((leader, id) => ({ id, leader })) };
}

function picks(strategy: RoundRobinStrategy, view: TopicView, count: number): number[] {
  return Array.from({ length: count }, () => strategy.pick(view));
}

describe('RoundRobinStrategy', () => {
  it('is registered as round-robin', () => {
    const strategy = createStrategy('round-robin', { inFlight: new InFlightTracker() });
    expect(strategy).toBeInstanceOf(RoundRobinStrategy);
    expect(strategy.name).toBe('round-robin');
  });

  it.each<[string, TopicView, number[]]>([
    ['6 partitions over 3 brokers', topic([1, 2, 3, 1, 2, 3]), [0, 1, 2, 3, 4, 5, 0, 1, 2]],
    [
      'uneven: alternates brokers, rotates within broker 1',
      topic([1, 1, 1, 2]),
      [0, 3, 1, 3, 2, 3, 0, 3],
    ],
    ['brokers in id order, not partition order', topic([3, 1, 2]), [1, 2, 0, 1, 2, 0]],
    ['one broker leads everything', topic([5, 5, 5]), [0, 1, 2, 0, 1]],
    ['single partition', topic([7]), [0, 0, 0]],
    ['leaderless partitions are never picked', topic([1, -1, 2, -1, 1]), [0, 2, 4, 2, 0, 2]],
    ['only one partition has a leader', topic([-1, -1, 4]), [2, 2, 2]],
    ['all leaderless: lowest id', topic([-1, -1, -1]), [0, 0, 0]],
    [
      'all leaderless, ids unsorted: lowest id',
      {
        name: 't',
        partitions: [
          { id: 5, leader: -1 },
          { id: 2, leader: -1 },
          { id: 9, leader: -1 },
        ],
      },
      [2, 2],
    ],
    [
      'partitions listed out of id order',
      {
        name: 't',
        partitions: [
          { id: 3, leader: 1 },
          { id: 1, leader: 2 },
          { id: 0, leader: 1 },
        ],
      },
      [0, 1, 3, 1, 0],
    ],
  ])('%s', (_label, view, expected) => {
    expect(picks(new RoundRobinStrategy(), view, expected.length)).toEqual(expected);
  });

  it.each<[string, [readonly number[], number[]][]]>([
    [
      'leader moves to another broker',
      [
        [
          [1, 2, 3, 1, 2, 3],
          [0, 1],
        ],
        // Partition 2 moves from broker 3 to 1; rotation carries on after broker 2.
        [
          [1, 2, 1, 1, 2, 3],
          [5, 2, 4, 5, 3, 1, 5, 0],
        ],
      ],
    ],
    [
      'last-picked broker loses its leaderships',
      [
        [
          [1, 2, 3],
          [0, 1, 2],
        ],
        [
          [1, 2, -1],
          [0, 1, 0, 1],
        ],
      ],
    ],
    [
      'partitions added',
      [
        [
          [1, 2],
          [0, 1],
        ],
        [
          [1, 2, 1, 2],
          [2, 3, 0, 1, 2],
        ],
      ],
    ],
    [
      'broker with a lower id appears mid-rotation',
      [
        [[2, 3], [0]],
        [
          [2, 3, 1],
          [1, 2, 0, 1, 2],
        ],
      ],
    ],
    [
      'everything leaderless, then leaders return',
      [
        [[1, 2], [0]],
        [
          [-1, -1],
          [0, 0],
        ],
        [
          [1, 2],
          [1, 0, 1],
        ],
      ],
    ],
  ])('layout change: %s', (_label, steps) => {
    const strategy = new RoundRobinStrategy();
    for (const [leaders, expected] of steps) {
      expect(picks(strategy, topic(leaders), expected.length)).toEqual(expected);
    }
  });

  it('keeps rotation state per topic', () => {
    const strategy = new RoundRobinStrategy();
    const a = topic([1, 2], 'a');
    const b = topic([1, 2], 'b');
    expect([a, b, a, b, a].map((view) => strategy.pick(view))).toEqual([0, 0, 1, 1, 0]);
  });

  it('visits every leader broker within one lap after any layout change', () => {
    // Deterministic pseudo-random layouts (LCG) so a failure reproduces.
    let seed = 42;
    const random = (below: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % below;
    };
    const strategy = new RoundRobinStrategy();
    for (let round = 0; round < 200; round++) {
      const partitions: PartitionView[] = Array.from({ length: 1 + random(12) }, (_, id) => ({
        id,
        leader: random(6) - 1,
      }));
      const view = { name: 't', partitions };
      const brokers = new Set(partitions.filter((p) => p.leader >= 0).map((p) => p.leader));
      const leaderOf = new Map(partitions.map((p) => [p.id, p.leader]));
      const seen = picks(strategy, view, Math.max(brokers.size, 1)).map((id) => leaderOf.get(id));
      if (brokers.size === 0) expect(seen).toEqual([-1]);
      else expect(new Set(seen)).toEqual(brokers);
    }
  });

  it('throws for a topic with no partitions', () => {
    expect(() => new RoundRobinStrategy().pick({ name: 'empty', partitions: [] })).toThrow(
      RangeError,
    );
  });
});
