import { Counter, Gauge, Histogram, collectDefaultMetrics, type Registry } from 'prom-client';

/** Latency buckets in seconds: 1 ms to 10 s. */
export const LATENCY_BUCKETS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
] as const;

export interface BuildInfo {
  readonly version: string;
  readonly node: string;
}

/** Typed metric handles, all registered on the injected registry. */
export interface Metrics {
  readonly httpRequests: Counter<'route' | 'method' | 'status_class'>;
  readonly httpRequestDuration: Histogram<'route' | 'method' | 'status_class'>;
  readonly httpRequestsInFlight: Gauge;
  readonly dependencyUp: Gauge<'dependency'>;
  readonly buildInfo: Gauge<'version' | 'node'>;
}

export function createMetrics(registry: Registry, build: BuildInfo): Metrics {
  const registers = [registry];
  const metrics: Metrics = {
    httpRequests: new Counter({
      name: 'kgw_http_requests_total',
      help: 'HTTP requests answered, by route template, method and status class.',
      labelNames: ['route', 'method', 'status_class'],
      registers,
    }),
    httpRequestDuration: new Histogram({
      name: 'kgw_http_request_duration_seconds',
      help: 'HTTP request latency from first byte in to last byte out.',
      labelNames: ['route', 'method', 'status_class'],
      buckets: [...LATENCY_BUCKETS],
      registers,
    }),
    httpRequestsInFlight: new Gauge({
      name: 'kgw_http_requests_in_flight',
      help: 'HTTP requests being served right now.',
      registers,
    }),
    dependencyUp: new Gauge({
      name: 'kgw_dependency_up',
      help: '1 when the last readiness check of the dependency passed, else 0.',
      labelNames: ['dependency'],
      registers,
    }),
    buildInfo: new Gauge({
      name: 'kgw_build_info',
      help: 'Always 1; labels carry the gateway version and Node.js version.',
      labelNames: ['version', 'node'],
      registers,
    }),
  };
  metrics.buildInfo.set({ version: build.version, node: build.node }, 1);
  collectDefaultMetrics({ register: registry });
  return metrics;
}
