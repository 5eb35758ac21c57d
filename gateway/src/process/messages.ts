/** Messages between the supervisor and its gateway processes (Node's cluster IPC channel). */

/** Supervisor → gateway process. */
export type SupervisorMessage =
  | { readonly type: 'kgw:shutdown' }
  | {
      readonly type: 'kgw:metrics';
      readonly id: number;
      readonly text?: string;
      readonly error?: string;
    };

/** Gateway process → supervisor. */
export type GatewayProcessMessage =
  | { readonly type: 'kgw:listening'; readonly httpPort: number; readonly grpcPort: number }
  | { readonly type: 'kgw:metrics'; readonly id: number };

function isMessage(value: unknown): value is { type: string } {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { type?: unknown }).type === 'string'
  );
}

export function isSupervisorMessage(value: unknown): value is SupervisorMessage {
  return isMessage(value) && (value.type === 'kgw:shutdown' || value.type === 'kgw:metrics');
}

export function isGatewayProcessMessage(value: unknown): value is GatewayProcessMessage {
  return isMessage(value) && (value.type === 'kgw:listening' || value.type === 'kgw:metrics');
}
