import { afterEach, describe, expect, it } from 'vitest';
import { killAllGateways, spawnGateway, spawnRaw } from '../../support/gateway-process.js';

const EXIT_CONFIG = 78;

describe('gateway process lifecycle', () => {
  afterEach(killAllGateways);

  it.each([
    [{ KGW_HTTP_PORT: 'eighty' }, 'KGW_HTTP_PORT'],
    [{ KAFKA_BROKERS: 'no-port-here' }, 'KAFKA_BROKERS'],
    [{ REDIS_URL: 'http://127.0.0.1:6379' }, 'REDIS_URL'],
    [{ KGW_LOG_LEVEL: 'loud' }, 'KGW_LOG_LEVEL'],
    [{ KGW_PROCESSES: '0' }, 'KGW_PROCESSES'],
    [{ KGW_PROCESSES: 'many' }, 'KGW_PROCESSES'],
    [{ KGW_HTTP_PROT: '8080' }, 'KGW_HTTP_PROT'],
    [{ KGW_HTTP_HOST: '0.0.0.0' }, 'KGW_AUTH_ALLOW_UNAUTHENTICATED'],
  ])('refuses to boot with %o, naming %s', async (env, variable) => {
    const gateway = spawnRaw(env);
    const exit = await gateway.exited;

    expect(exit.code).toBe(EXIT_CONFIG);
    expect(gateway.stderr()).toContain(variable);
    expect(gateway.logs.find((l) => l.msg === 'gateway listening')).toBeUndefined();
  });

  it('shuts down cleanly on SIGTERM: exit code 0 and no error logged', async () => {
    const gateway = await spawnGateway();
    expect((await fetch(`${gateway.url}/healthz`)).status).toBe(200);

    const exit = await gateway.stop('SIGTERM');

    expect(exit).toEqual({ code: 0, signal: null });
    expect(gateway.logs.filter((l) => l.level === 'error' || l.level === 'fatal')).toEqual([]);
    expect(gateway.logs.map((l) => l.msg)).toContain('shutdown complete');
    expect(gateway.stderr()).toBe('');
  });

  it('shuts down cleanly on SIGINT too', async () => {
    const gateway = await spawnGateway();
    expect(await gateway.stop('SIGINT')).toEqual({ code: 0, signal: null });
  });
});
