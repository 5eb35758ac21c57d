import { createHash } from 'node:crypto';
import type { ProduceCommand } from './produce-types.js';

/**
 * A digest of everything that decides what a produce request writes: topic,
 * delivery mode and every record's partition, key, value, headers and
 * timestamp. Transport-neutral, so REST and gRPC callers share keys; each
 * field is length-prefixed so no two different requests collide by
 * concatenation.
 */
export function produceFingerprint(command: ProduceCommand): string {
  const hash = createHash('sha256');
  const field = (data: Buffer | string | null | undefined): void => {
    if (data === null || data === undefined) {
      hash.update('-1;');
      return;
    }
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    hash.update(`${bytes.length};`);
    hash.update(bytes);
  };
  field(command.topic);
  field(command.delivery);
  field(String(command.records.length));
  for (const r of command.records) {
    field(r.partition === undefined ? null : String(r.partition));
    field(r.key);
    field(r.value);
    field(r.timestamp === undefined ? null : String(r.timestamp));
    field(String(r.headers?.length ?? 0));
    for (const h of r.headers ?? []) {
      field(h.name);
      field(h.value);
    }
  }
  return hash.digest('base64url');
}
