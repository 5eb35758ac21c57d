/**
 * A gateway process's side of the supervisor channel (KGW_PROCESSES > 1):
 * says when it listens, takes the shutdown order, and gets /metrics with every
 * process's metrics aggregated (prom-client's AggregatorRegistry collects this
 * process's registry when the supervisor asks).
 */
import { AggregatorRegistry, type Registry } from 'prom-client';
import { GatewayError } from '../errors.js';
import { isSupervisorMessage } from './messages.js';

/** How long a /metrics request waits for the supervisor (which itself gives up after 5 s). */
const METRICS_TIMEOUT_MS = 6000;

export class SupervisorLink {
  readonly #pending = new Map<number, (reply: { text?: string; error?: string }) => void>();
  #nextId = 0;
  #onShutdown: () => void = () => undefined;

  constructor(registry: Registry) {
    // Constructing one installs prom-client's answer to the supervisor's collection requests.
    new AggregatorRegistry();
    AggregatorRegistry.setRegistries([registry]);
    process.on('message', (message: unknown) => {
      if (!isSupervisorMessage(message)) return;
      if (message.type === 'kgw:shutdown') {
        this.#onShutdown();
        return;
      }
      const settle = this.#pending.get(message.id);
      this.#pending.delete(message.id);
      settle?.(message);
    });
  }

  /** Runs `handler` when the supervisor orders a graceful shutdown. */
  onShutdown(handler: () => void): void {
    this.#onShutdown = handler;
  }

  listening(ports: { httpPort: number; grpcPort: number }): void {
    process.send?.({ type: 'kgw:listening', ...ports });
  }

  /** Every process's metrics, aggregated, in the Prometheus text format. */
  metrics(): Promise<string> {
    const id = (this.#nextId += 1);
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(
          new GatewayError(
            'KGW_TIMEOUT',
            `the supervisor did not send metrics within ${METRICS_TIMEOUT_MS} ms`,
          ),
        );
      }, METRICS_TIMEOUT_MS);
      this.#pending.set(id, (reply) => {
        clearTimeout(timer);
        if (reply.text !== undefined) resolve(reply.text);
        else
          reject(
            new GatewayError(
              'KGW_INTERNAL',
              `could not aggregate metrics of the gateway processes: ${reply.error ?? 'no answer'}`,
            ),
          );
      });
      process.send?.({ type: 'kgw:metrics', id });
    });
  }
}
