import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/**
 * CPU quota of the process's cgroup in cores (rounded up), or undefined when
 * there is none: cgroup v2 `cpu.max` ("max 100000" or "200000 100000"), else
 * cgroup v1 `cpu.cfs_quota_us` / `cpu.cfs_period_us` (-1 = none).
 */
export function cgroupCpuQuota(read: (path: string) => string = readText): number | undefined {
  const v2 = read('/sys/fs/cgroup/cpu.max').trim().split(/\s+/);
  if (v2.length === 2) return cores(v2[0]!, v2[1]!);
  return cores(
    read('/sys/fs/cgroup/cpu/cpu.cfs_quota_us').trim(),
    read('/sys/fs/cgroup/cpu/cpu.cfs_period_us').trim(),
  );
}

function cores(quota: string, period: string): number | undefined {
  const q = Number(quota);
  const p = Number(period);
  if (quota === 'max' || !Number.isFinite(q) || !Number.isFinite(p) || q <= 0 || p <= 0) {
    return undefined;
  }
  return Math.max(1, Math.ceil(q / p));
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** Cores this process may use: the CPUs it may run on, capped by its cgroup's CPU quota. */
export function availableCores(): number {
  const quota = cgroupCpuQuota();
  const cpus = availableParallelism();
  return quota === undefined ? cpus : Math.min(cpus, quota);
}
