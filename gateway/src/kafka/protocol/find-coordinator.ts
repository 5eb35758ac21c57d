import type { ApiSpec } from './api-versions.js';
import type { ResponseReader } from './reader.js';
import type { RequestWriter } from './writer.js';

/** v1 added key_type; v3+ are flexible; v0 is gone from Kafka 4 (KIP-896). */
export const FIND_COORDINATOR: ApiSpec = {
  key: 10,
  name: 'FindCoordinator',
  minVersion: 1,
  maxVersion: 2,
};

const KEY_TYPE_GROUP = 0;

export interface FoundCoordinator {
  readonly errorCode: number;
  readonly nodeId: number;
  readonly host: string;
  readonly port: number;
}

export function encodeFindCoordinatorRequest(writer: RequestWriter, group: string): void {
  writer.string(group).int8(KEY_TYPE_GROUP);
}

/** v1 and v2 answer the same shape. */
export function decodeFindCoordinatorResponse(reader: ResponseReader): FoundCoordinator {
  reader.int32(); // throttle_time_ms
  const errorCode = reader.int16();
  reader.nullableString(); // error_message
  return { errorCode, nodeId: reader.int32(), host: reader.string(), port: reader.int32() };
}
