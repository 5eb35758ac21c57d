import type { ApiSpec } from './api-versions.js';
import type { ResponseReader } from './reader.js';
import type { RequestWriter } from './writer.js';

/** v5+ are flexible. */
export const DESCRIBE_GROUPS: ApiSpec = {
  key: 15,
  name: 'DescribeGroups',
  minVersion: 0,
  maxVersion: 4,
};

export interface DescribedMember {
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly clientId: string;
  readonly clientHost: string;
}

export interface DescribedGroup {
  readonly errorCode: number;
  readonly groupId: string;
  readonly state: string;
  readonly protocolType: string;
  readonly protocol: string;
  readonly members: readonly DescribedMember[];
}

export function encodeDescribeGroupsRequest(
  writer: RequestWriter,
  version: number,
  groups: readonly string[],
): void {
  writer.array(groups, (w, g) => w.string(g));
  if (version >= 3) writer.boolean(false); // include_authorized_operations
}

export function decodeDescribeGroupsResponse(
  reader: ResponseReader,
  version: number,
): DescribedGroup[] {
  if (version >= 1) reader.int32(); // throttle_time_ms
  return reader.array((r) => {
    const errorCode = r.int16();
    const groupId = r.string();
    const state = r.string();
    const protocolType = r.string();
    const protocol = r.string();
    const members = r.array((mr) => {
      const memberId = mr.string();
      const groupInstanceId = version >= 4 ? mr.nullableString() : null;
      const clientId = mr.string();
      const clientHost = mr.string();
      mr.skipBytes(); // member_metadata
      mr.skipBytes(); // member_assignment
      return { memberId, groupInstanceId, clientId, clientHost };
    });
    if (version >= 3) r.int32(); // authorized_operations
    return { errorCode, groupId, state, protocolType, protocol, members };
  });
}
