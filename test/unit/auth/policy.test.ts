import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Policy } from '../../../gateway/src/auth/policy.js';
import type { Principal } from '../../../gateway/src/auth/principal.js';

const alice: Principal = { name: 'alice', groups: ['team-a'], via: 'api-key' };
const bob: Principal = { name: 'bob', groups: [], via: 'jwt' };

describe('Policy', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kgw-policy-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const write = (rules: unknown, name = 'policy.json') => {
    const path = join(dir, name);
    writeFileSync(path, JSON.stringify({ rules }));
    return path;
  };

  it('without a file allows everything except internal topics', () => {
    const policy = new Policy(undefined);
    expect(policy.allows(bob, 'produce', 'topic', 'orders')).toBe(true);
    expect(policy.allows(bob, 'consume', 'topic', '__consumer_offsets')).toBe(false);
    expect(policy.allows(bob, 'commit', 'group', '__anything')).toBe(true);
    // Operator endpoints stay open to every authenticated principal.
    expect(policy.allows(bob, 'admin', 'cluster', 'kafka-gateway')).toBe(true);
  });

  it('grants admin only by a rule on the cluster ("cluster": true), never by topic or group rules', () => {
    const policy = new Policy(
      write(
        [
          { effect: 'allow', principals: ['*'], operations: ['*'], topics: ['*'], groups: ['*'] },
          { effect: 'allow', principals: ['group:team-a'], operations: ['admin'], cluster: true },
        ],
        'admin.json',
      ),
    );
    expect(policy.allows(alice, 'admin', 'cluster', 'kafka-gateway')).toBe(true);
    expect(policy.allows(bob, 'admin', 'cluster', 'kafka-gateway')).toBe(false);
    // A cluster rule grants nothing on topics or groups.
    const only = new Policy(
      write(
        [{ effect: 'allow', principals: ['bob'], operations: ['*'], cluster: true }],
        'cluster-only.json',
      ),
    );
    expect(only.allows(bob, 'admin', 'cluster', 'kafka-gateway')).toBe(true);
    expect(only.allows(bob, 'produce', 'topic', 'orders')).toBe(false);
    // A deny on the cluster wins.
    const denied = new Policy(
      write(
        [
          { effect: 'allow', principals: ['*'], operations: ['admin'], cluster: true },
          { effect: 'deny', principals: ['bob'], operations: ['admin'], cluster: true },
        ],
        'admin-deny.json',
      ),
    );
    expect(denied.allows(alice, 'admin', 'cluster', 'kafka-gateway')).toBe(true);
    expect(denied.allows(bob, 'admin', 'cluster', 'kafka-gateway')).toBe(false);
    // admin without "cluster": true would grant nothing: refused as a mistake.
    expect(
      () =>
        new Policy(
          write(
            [{ effect: 'allow', principals: ['bob'], operations: ['admin'], topics: ['*'] }],
            'admin-no-cluster.json',
          ),
        ),
    ).toThrow(/"cluster": true/);
  });

  it('matches names, group: members and prefixes; a deny wins; nothing allowed is denied', () => {
    const policy = new Policy(
      write([
        { effect: 'allow', principals: ['group:team-a'], operations: ['*'], topics: ['orders.*'] },
        { effect: 'allow', principals: ['bob'], operations: ['describe'], topics: ['*'] },
        { effect: 'deny', principals: ['*'], operations: ['produce'], topics: ['orders.archive'] },
      ]),
    );
    expect(policy.allows(alice, 'produce', 'topic', 'orders.eu')).toBe(true);
    expect(policy.allows(alice, 'produce', 'topic', 'orders.archive')).toBe(false);
    expect(policy.allows(alice, 'consume', 'topic', 'payments')).toBe(false);
    expect(policy.allows(bob, 'describe', 'topic', 'payments')).toBe(true);
    expect(policy.allows(bob, 'consume', 'topic', 'orders.eu')).toBe(false);
    // A bare * never reaches internal topics; a rule naming the __ prefix does.
    expect(policy.allows(bob, 'describe', 'topic', '__consumer_offsets')).toBe(false);
    const internal = new Policy(
      write(
        [{ effect: 'allow', principals: ['bob'], operations: ['describe'], topics: ['__*'] }],
        'internal.json',
      ),
    );
    expect(internal.allows(bob, 'describe', 'topic', '__consumer_offsets')).toBe(true);
  });

  it('gives quota overrides field by field: the principal, else its most generous group, else none', () => {
    const path = join(dir, 'quotas.json');
    writeFileSync(
      path,
      JSON.stringify({
        rules: [],
        quotas: {
          alice: { requestsPerSecond: 50 },
          'group:team-a': { requestsPerSecond: 5, recordsPerSecond: 100 },
          'group:team-b': { recordsPerSecond: 0, bytesPerSecond: 1000 },
          'group:team-c': { recordsPerSecond: 300 },
        },
      }),
    );
    const policy = new Policy(path);
    expect(policy.quotaFor(alice)).toEqual({ requestsPerSecond: 50, recordsPerSecond: 100 });
    expect(policy.quotaFor({ ...bob, groups: ['team-a', 'team-c'] })).toEqual({
      requestsPerSecond: 5,
      recordsPerSecond: 300,
    });
    // 0 is no limit: the most generous.
    expect(policy.quotaFor({ ...bob, groups: ['team-c', 'team-b'] })).toEqual({
      recordsPerSecond: 0,
      bytesPerSecond: 1000,
    });
    expect(policy.quotaFor(bob)).toEqual({});
    expect(new Policy(undefined).quotaFor(alice)).toEqual({});
    for (const quotas of [
      { alice: { requestsPerSecond: -1 } },
      { alice: { requests: 5 } },
      { alice: 5 },
      [],
    ]) {
      writeFileSync(path, JSON.stringify({ rules: [], quotas }));
      expect(() => new Policy(path), JSON.stringify(quotas)).toThrow(/quotas/);
    }
  });

  it('refuses a bad file at boot, and keeps the last good rules when an edit breaks it', () => {
    expect(
      () => new Policy(write([{ effect: 'maybe', principals: [], operations: [] }], 'bad.json')),
    ).toThrow(/effect must be allow or deny/);
    const path = write(
      [{ effect: 'allow', principals: ['bob'], operations: ['produce'], topics: ['t'] }],
      'live.json',
    );
    const errors: Error[] = [];
    const policy = new Policy(path, (err) => errors.push(err));
    writeFileSync(path, '{ not json');
    const later = new Date(Date.now() + 5000);
    utimesSync(path, later, later);
    // The next check is due after a second; until the file is fixed, the old rules hold.
    return new Promise<void>((resolve) =>
      setTimeout(() => {
        expect(policy.allows(bob, 'produce', 'topic', 't')).toBe(true);
        expect(errors).toHaveLength(1);
        expect(errors[0]!.message).toContain('policy file');
        resolve();
      }, 1100),
    );
  });
});
