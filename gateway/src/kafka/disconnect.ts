/** The part of a node-rdkafka client that disconnecting needs. */
interface Disconnectable {
  isConnected(): boolean;
  disconnect(cb: () => void): unknown;
}

/** Disconnects a client, giving up waiting after timeoutMs (librdkafka may hang on a dead broker). */
export function disconnectWithin(client: Disconnectable, timeoutMs: number): Promise<void> {
  if (!client.isConnected()) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    timer.unref();
    client.disconnect(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
