import { request, type Agent } from 'node:http';

/** What one request got: the status and body, or the socket error code when no answer came. */
export type CallResult = { status: number; text: string } | { error: string };

/** One HTTP request on a given agent; never rejects (socket errors come back as `error`). */
export function call(
  agent: Agent,
  url: string,
  method: string,
  body?: unknown,
  contentType = 'application/vnd.kafka.json.v2+json',
): Promise<CallResult> {
  return new Promise((resolve) => {
    const req = request(url, { method, agent, headers: { 'content-type': contentType } }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      res.on('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message }));
    });
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message }));
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}
