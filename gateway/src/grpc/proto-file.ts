import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A file under the project's proto/ folder, found by walking up from this file (works from src and dist). */
function protoFile(...parts: string[]): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i += 1) {
    const candidate = join(dir, 'proto', ...parts);
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw new Error(`proto/${parts.join('/')} not found`);
}

/** The gateway's service definition. */
export function gatewayProtoPath(): string {
  return protoFile('kafka_gateway', 'v1', 'gateway.proto');
}

/** grpc.health.v1 (Check and Watch) as offered through reflection. */
export function healthProtoPath(): string {
  return protoFile('grpc', 'health', 'v1', 'health.proto');
}
