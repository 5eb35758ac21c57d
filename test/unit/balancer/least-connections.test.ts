import { describe, expect, it } from 'vitest';
import { createStrategy } from '../../../gateway/src/balancer/index.js';
import { InFlightTracker } from '../../../gateway/src/balancer/in-flight-tracker.js';
import { LeastConnectionsStrategy } from '../../../gateway/src/balancer/least-connections.js';
import type { InFlightView, TopicView } from '../../../gateway/src/balancer/strategy.js';

/** Partition i is led by leaders[i] (-1 = leaderless). */
function topic(leaders: readonly number[]): TopicView {
  return { name: 't', partitions: leaders.map((leader, id) => ({ id, leader })) };
}

function fixedLoad(load: Readonly<Record<number, number>>): InFlightView {
  return { inFlight: (brokerId) => load[brokerId] ?? 0 };
}

describe('LeastConnectionsStrategy', () => {
  it('is registered as least-connections and reads the injected in-flight view', () => {
    const inFlight = new InFlightTracker();
    inFlight.begin(1);
    const strategy = createStrategy('least-connections', { inFlight });
    expect(strategy).toBeInstanceOf(LeastConnectionsStrategy);
    expect(strategy.name).toBe('least-connections');
    expect(strategy.pick(topic([1, 2]))).toBe(1);
  });

  it.each<[string, readonly number[], Record<number, number>, number[]]>([
    ['all idle: ties rotate like round-robin', [1, 2, 3, 1, 2, 3], {}, [0, 1, 2, 3, 4, 5, 0]],
    ['equal non-zero load still rotates', [1, 2, 3], { 1: 4, 2: 4, 3: 4 }, [0, 1, 2, 0]],
    [
      'picks the idle broker, rotating its partitions',
      [1, 2, 3, 1, 2, 3],
      { 1: 2, 3: 1 },
      [1, 4, 1, 4],
    ],
    ['ties among the least loaded only', [1, 2, 3, 1, 2, 3], { 2: 5 }, [0, 2, 3, 5, 0]],
    ['uneven layout, idle broker leads one partition', [1, 1, 1, 2], { 1: 1 }, [3, 3, 3]],
    ['uneven layout, all idle', [1, 1, 1, 2], {}, [0, 3, 1, 3, 2, 3]],
    ['load on brokers outside the topic is ignored', [4, 5], { 1: 0, 4: 3, 5: 2 }, [1, 1]],
    ['leaderless partitions are never picked', [-1, 1, -1, 2], { 1: 1, 2: 1 }, [1, 3, 1, 3]],
    ['all leaderless: lowest id', [-1, -1, -1], {}, [0, 0]],
  ])('%s', (_label, leaders, load, expected) => {
    const strategy = new LeastConnectionsStrategy(fixedLoad(load));
    const view = topic(leaders);
    expect(expected.map(() => strategy.pick(view))).toEqual(expected);
  });

  it('follows in-flight changes between picks', () => {
    const tracker = new InFlightTracker();
    const strategy = new LeastConnectionsStrategy(tracker);
    const view = topic([1, 2, 3, 1, 2, 3]);
    // Each step: change the load, then the partition the next pick must return.
    const steps: [() => void, number][] = [
      [() => {}, 0], // all idle → broker 1
      [() => tracker.begin(1), 1], // 1 busy → broker 2
      [() => tracker.begin(2), 2], // 1, 2 busy → broker 3
      [() => tracker.begin(3), 3], // all at 1 → tie rotates on from 3 to 1
      [() => tracker.end(2), 4], // 2 is now idlest
      [() => tracker.end(2), 1], // extra end: 2 stays at 0, still idlest
      [() => tracker.begin(2), 5], // all at 1 → tie rotates on from 2 to 3
      [() => (tracker.end(1), tracker.end(3)), 0], // 1 and 3 tie at 0 → after 3 wraps to 1
      [() => {}, 2], // then 3
    ];
    const actual = steps.map(([change]) => {
      change();
      return strategy.pick(view);
    });
    expect(actual).toEqual(steps.map(([, expected]) => expected));
  });

  it('copes with a leader moving to the idle broker', () => {
    const strategy = new LeastConnectionsStrategy(fixedLoad({ 1: 3, 2: 0 }));
    expect([0, 1].map(() => strategy.pick(topic([1, 2, 1])))).toEqual([1, 1]);
    // Partition 2 moves to idle broker 2, which then rotates over 1 and 2.
    expect([0, 1, 2].map(() => strategy.pick(topic([1, 2, 2])))).toEqual([2, 1, 2]);
  });
});
