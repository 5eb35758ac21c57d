import { status, type UntypedHandleCall, type UntypedServiceImplementation } from '@grpc/grpc-js';
import type { Metrics } from '../observability/metrics.js';

const CODE_NAMES = new Map<number, string>(
  Object.entries(status)
    .filter(([, v]) => typeof v === 'number')
    .map(([k, v]) => [v as number, k]),
);

function codeName(code: unknown): string {
  return typeof code === 'number' ? (CODE_NAMES.get(code) ?? 'UNKNOWN') : 'UNKNOWN';
}

type Callback = (err: { code?: number } | null, value?: unknown) => void;
type UnaryHandler = (call: unknown, callback: Callback) => void;
type StreamHandler = (call: NodeJS.EventEmitter) => void;

/** Counts calls by method and status, times unary calls, and tracks open streams; handlers stay unaware. */
export function instrument(
  handlers: UntypedServiceImplementation,
  metrics: Metrics,
): UntypedServiceImplementation {
  const out: UntypedServiceImplementation = {};
  for (const [method, handler] of Object.entries(handlers)) {
    if ((handler as UnaryHandler).length >= 2) {
      const unary = handler as UnaryHandler;
      out[method] = ((call: unknown, callback: Callback) => {
        const started = performance.now();
        unary(call, (err, value) => {
          metrics.grpcRequests.inc({ method, code: err ? codeName(err.code) : 'OK' });
          metrics.grpcRequestDuration.observe({ method }, (performance.now() - started) / 1000);
          callback(err, value);
        });
      }) as UntypedHandleCall;
    } else {
      const stream = handler as StreamHandler;
      out[method] = ((call: NodeJS.EventEmitter) => {
        metrics.grpcStreamsOpen.inc({ method });
        let code = 'OK';
        let done = false;
        const finish = (): void => {
          if (done) return;
          done = true;
          metrics.grpcStreamsOpen.dec({ method });
          metrics.grpcRequests.inc({ method, code });
        };
        call.on('error', (err: { code?: number }) => (code = codeName(err?.code)));
        call.on('cancelled', () => {
          code = 'CANCELLED';
          finish();
        });
        call.on('finish', finish);
        call.on('close', finish);
        stream(call);
      }) as UntypedHandleCall;
    }
  }
  return out;
}
