import { describe, expect, it } from 'vitest';
import { Readiness } from '../../../gateway/src/core/readiness.js';
import { GatewayError } from '../../../gateway/src/errors.js';

const ok = async (): Promise<void> => {};
const never = (): Promise<void> => new Promise(() => {});

describe('Readiness', () => {
  it('is ready when every probe resolves, and reports each', async () => {
    const seen: [string, boolean][] = [];
    const readiness = new Readiness({
      probes: { kafka: ok, redis: ok },
      timeoutMs: 50,
      onResult: (name, up) => seen.push([name, up]),
    });
    expect(await readiness.check()).toEqual({
      ready: true,
      closing: false,
      checks: { kafka: { ok: true }, redis: { ok: true } },
    });
    expect(seen.sort()).toEqual([
      ['kafka', true],
      ['redis', true],
    ]);
  });

  it('names a failed dependency with its error code', async () => {
    const readiness = new Readiness({
      probes: {
        kafka: ok,
        redis: async () => {
          throw new GatewayError('KGW_REDIS_UNAVAILABLE', 'refused');
        },
      },
      timeoutMs: 50,
    });
    const report = await readiness.check();
    expect(report.ready).toBe(false);
    expect(report.checks.redis).toEqual({
      ok: false,
      code: 'KGW_REDIS_UNAVAILABLE',
      message: 'refused',
    });
  });

  it('turns a hung probe into KGW_TIMEOUT after the deadline', async () => {
    const readiness = new Readiness({ probes: { kafka: never }, timeoutMs: 30 });
    const started = Date.now();
    const report = await readiness.check();
    expect(Date.now() - started).toBeLessThan(1000);
    expect(report.checks.kafka).toMatchObject({ ok: false, code: 'KGW_TIMEOUT' });
  });

  it('reports not ready once closing, even with every dependency up', async () => {
    const readiness = new Readiness({ probes: { kafka: ok }, timeoutMs: 50 });
    readiness.markClosing();
    expect(await readiness.check()).toMatchObject({ ready: false, closing: true });
  });
});
