import { describe, expect, it } from 'vitest';
import { availableCores, cgroupCpuQuota } from '../../../gateway/src/util/available-cores.js';
import { integerOrAuto } from '../../../gateway/src/config/parsers.js';

function files(contents: Record<string, string>): (path: string) => string {
  return (path) => contents[path] ?? '';
}

describe('cgroupCpuQuota', () => {
  it.each([
    [{ '/sys/fs/cgroup/cpu.max': 'max 100000\n' }, undefined],
    [{ '/sys/fs/cgroup/cpu.max': '200000 100000\n' }, 2],
    [{ '/sys/fs/cgroup/cpu.max': '150000 100000\n' }, 2],
    [{ '/sys/fs/cgroup/cpu.max': '50000 100000\n' }, 1],
    [
      {
        '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '-1',
        '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000',
      },
      undefined,
    ],
    [
      {
        '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '400000',
        '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000',
      },
      4,
    ],
    [{}, undefined],
  ])('reads %o as %s cores', (contents, cores) => {
    expect(cgroupCpuQuota(files(contents))).toBe(cores);
  });

  it('gives at least one core on this machine', () => {
    expect(availableCores()).toBeGreaterThanOrEqual(1);
  });
});

describe('integerOrAuto', () => {
  const parse = integerOrAuto(1, 64, () => 96);

  it('takes auto from the probe, within the bounds', () => {
    expect(parse('auto')).toBe(64);
    expect(integerOrAuto(1, 64, () => 3)(' AUTO ')).toBe(3);
    expect(integerOrAuto(1, 64, () => 0)('auto')).toBe(1);
  });

  it('takes an integer in range and refuses anything else', () => {
    expect(parse('2')).toBe(2);
    expect(() => parse('0')).toThrow('outside 1..64');
    expect(() => parse('65')).toThrow('outside 1..64');
    expect(() => parse('two')).toThrow('not an integer');
  });
});
