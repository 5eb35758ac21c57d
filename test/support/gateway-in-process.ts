import { pino } from 'pino';
import { inject } from 'vitest';
import { buildGateway, type Gateway } from '../../gateway/src/app.js';
import { loadConfig } from '../../gateway/src/config/load-config.js';

export interface RunningGateway {
  readonly gateway: Gateway;
  readonly url: string;
  /** host:port of the gRPC server. */
  readonly grpcAddress: string;
  close(): Promise<void>;
}

const running = new Set<RunningGateway>();

/**
 * Builds and starts a gateway in this process against the test stack's real
 * Kafka and Redis (plus `env` overrides), listening on a free port.
 */
export async function startGateway(env: Record<string, string> = {}): Promise<RunningGateway> {
  const config = loadConfig({
    KAFKA_BROKERS: inject('kafkaBrokers'),
    REDIS_URL: inject('redisUrl'),
    KGW_HTTP_HOST: '127.0.0.1',
    KGW_HTTP_PORT: '0',
    KGW_GRPC_PORT: '0',
    KGW_LOG_LEVEL: 'silent',
    ...env,
  });
  const gateway = buildGateway(config, {
    logger: pino({ level: process.env.KGW_TEST_LOG_LEVEL ?? 'silent' }),
  });
  const { httpPort, grpcPort } = await gateway.listen();
  const handle: RunningGateway = {
    gateway,
    url: `http://127.0.0.1:${httpPort}`,
    grpcAddress: `127.0.0.1:${grpcPort}`,
    close: async () => {
      running.delete(handle);
      await gateway.close();
    },
  };
  running.add(handle);
  return handle;
}

/** Closes every gateway a test started; call it in afterEach/afterAll. */
export async function closeAllGateways(): Promise<void> {
  await Promise.all([...running].map((g) => g.close()));
}

export interface JsonResponse<T = unknown> {
  readonly status: number;
  readonly headers: Headers;
  readonly body: T;
}

/** POSTs a body (object → JSON) and parses the JSON answer; every call has a deadline. */
export async function post<T = unknown>(
  url: string,
  body: unknown,
  {
    contentType = 'application/vnd.kafka.json.v2+json',
    headers = {},
  }: { contentType?: string; headers?: Record<string, string> } = {},
): Promise<JsonResponse<T>> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': contentType, ...headers },
    body: typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  return {
    status: res.status,
    headers: res.headers,
    body: (text ? JSON.parse(text) : undefined) as T,
  };
}

export async function get<T = unknown>(url: string): Promise<JsonResponse<T>> {
  const res = await fetch(url, { signal: AbortSignal.timeout(30_000) });
  return { status: res.status, headers: res.headers, body: (await res.json()) as T };
}

export interface V2Offsets {
  offsets: {
    partition: number | null;
    offset: number | null;
    error_code: number | null;
    error: string | null;
  }[];
}
