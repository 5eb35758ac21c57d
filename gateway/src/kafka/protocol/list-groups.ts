import type { ApiSpec } from './api-versions.js';
import type { ResponseReader } from './reader.js';

/** v3+ are flexible (and only they can filter by state or type); v0-v2 requests have an empty body. */
export const LIST_GROUPS: ApiSpec = { key: 16, name: 'ListGroups', minVersion: 0, maxVersion: 2 };

export interface ListedGroup {
  readonly groupId: string;
  /** 'consumer' for consumer groups; '' for groups that only committed offsets. */
  readonly protocolType: string;
}

export interface ListGroupsResult {
  readonly errorCode: number;
  readonly groups: readonly ListedGroup[];
}

export function decodeListGroupsResponse(
  reader: ResponseReader,
  version: number,
): ListGroupsResult {
  if (version >= 1) reader.int32(); // throttle_time_ms
  const errorCode = reader.int16();
  const groups = reader.array((r) => ({ groupId: r.string(), protocolType: r.string() }));
  return { errorCode, groups };
}
