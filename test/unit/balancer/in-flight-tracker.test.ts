import { describe, expect, it } from 'vitest';
import { InFlightTracker } from '../../../gateway/src/balancer/in-flight-tracker.js';

describe('InFlightTracker', () => {
  it('starts at zero for every broker', () => {
    const tracker = new InFlightTracker();
    expect(tracker.inFlight(1)).toBe(0);
    expect(tracker.snapshot().size).toBe(0);
  });

  it('counts begin and end per broker', () => {
    const tracker = new InFlightTracker();
    tracker.begin(1);
    tracker.begin(1);
    tracker.begin(2);
    expect([tracker.inFlight(1), tracker.inFlight(2), tracker.inFlight(3)]).toEqual([2, 1, 0]);
    tracker.end(1);
    expect([tracker.inFlight(1), tracker.inFlight(2)]).toEqual([1, 1]);
  });

  it('never goes below zero, so an extra end does not make a broker look idler', () => {
    const tracker = new InFlightTracker();
    tracker.end(1);
    expect(tracker.inFlight(1)).toBe(0);
    tracker.begin(1);
    tracker.end(1);
    tracker.end(1);
    expect(tracker.inFlight(1)).toBe(0);
    tracker.begin(1);
    expect(tracker.inFlight(1)).toBe(1);
  });

  it('snapshots only busy brokers, as a copy', () => {
    const tracker = new InFlightTracker();
    tracker.begin(3);
    tracker.begin(3);
    tracker.begin(1);
    tracker.begin(2);
    tracker.end(2);
    const snapshot = tracker.snapshot();
    expect(snapshot).toEqual(
      new Map([
        [3, 2],
        [1, 1],
      ]),
    );
    tracker.begin(5);
    tracker.end(3);
    expect(snapshot.get(3)).toBe(2);
    expect(snapshot.has(5)).toBe(false);
  });
});
