import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { RequestLogger } from '../../../gateway/src/observability/request-logger.js';

function capture(level: string): { root: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { root: pino({ level }, sink), lines };
}

describe('RequestLogger', () => {
  it('writes with the bound request id, making its child only when a line is written', () => {
    const { root, lines } = capture('info');
    let children = 0;
    const child = root.child.bind(root);
    root.child = ((...args: Parameters<typeof child>) => {
      children += 1;
      return child(...args);
    }) as typeof root.child;
    const log = new RequestLogger(root, { requestId: 'r-1' }, {});
    log.debug({ a: 1 }, 'below the level');
    expect(children).toBe(0);
    log.warn({ b: 2 }, 'written');
    log.info('again');
    expect(children).toBe(1);
    expect(lines).toEqual([
      expect.objectContaining({ requestId: 'r-1', b: 2, msg: 'written' }),
      expect.objectContaining({ requestId: 'r-1', msg: 'again' }),
    ]);
  });

  it('follows a level of its own, and its children keep the binding', () => {
    const { root, lines } = capture('info');
    const log = new RequestLogger(root, { requestId: 'r-2' }, { level: 'debug' });
    expect(log.level).toBe('debug');
    log.debug('shown at the route level');
    log.child({ part: 'x' }).info('from a child');
    expect(lines).toEqual([
      expect.objectContaining({ requestId: 'r-2', msg: 'shown at the route level' }),
      expect.objectContaining({ requestId: 'r-2', part: 'x', msg: 'from a child' }),
    ]);
  });
});
