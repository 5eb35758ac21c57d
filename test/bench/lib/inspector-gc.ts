import { WebSocket } from 'undici';

/** `NODE_OPTIONS` that open a process's inspector on a free loopback port. */
export const INSPECTOR_NODE_OPTIONS = '--inspect=127.0.0.1:0';

/** The inspector's WebSocket URL from the "Debugger listening on ws://…" line a process printed. */
export function inspectorUrl(lines: readonly string[]): string | undefined {
  for (const line of lines) {
    const match = /Debugger listening on (ws:\/\/\S+)/.exec(line);
    if (match) return match[1];
  }
  return undefined;
}

/**
 * A connection to another Node process's inspector, used only to force a full
 * garbage collection so memory samples hold live data rather than however
 * much garbage happened to be waiting.
 */
export class InspectorGc {
  readonly #socket: WebSocket;
  readonly #pending = new Map<number, { resolve: () => void; reject: (err: Error) => void }>();
  #nextId = 1;

  private constructor(socket: WebSocket) {
    this.#socket = socket;
    socket.addEventListener('message', (event) => {
      const reply = JSON.parse(String(event.data)) as { id?: number; error?: { message: string } };
      const waiter = reply.id === undefined ? undefined : this.#pending.get(reply.id);
      if (!waiter) return;
      this.#pending.delete(reply.id!);
      if (reply.error) waiter.reject(new Error(`inspector: ${reply.error.message}`));
      else waiter.resolve();
    });
    socket.addEventListener('close', () => {
      for (const waiter of this.#pending.values()) waiter.reject(new Error('inspector closed'));
      this.#pending.clear();
    });
  }

  static async connect(url: string): Promise<InspectorGc> {
    const socket = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      socket.addEventListener('open', () => resolve(), { once: true });
      socket.addEventListener('error', () => reject(new Error(`cannot reach ${url}`)), {
        once: true,
      });
    });
    return new InspectorGc(socket);
  }

  /** A full, synchronous collection in the inspected process (`HeapProfiler.collectGarbage`). */
  collectGarbage(): Promise<void> {
    const id = this.#nextId++;
    return new Promise<void>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#socket.send(JSON.stringify({ id, method: 'HeapProfiler.collectGarbage' }));
    });
  }

  close(): void {
    this.#socket.close();
  }
}
