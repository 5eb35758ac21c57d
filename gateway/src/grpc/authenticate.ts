import type { Metadata, UntypedHandleCall, UntypedServiceImplementation } from '@grpc/grpc-js';
import type { Authenticator } from '../auth/authenticator.js';
import type { Quotas } from '../auth/quotas.js';
import { ANONYMOUS, type Credentials, type Principal } from '../auth/principal.js';
import { toServiceError } from './grpc-errors.js';
import { AsyncLocalStorage } from 'node:async_hooks';
import { runAs } from '../auth/request-context.js';

const principals = new WeakMap<object, Principal>();

/** The principal authentication found for a call (ANONYMOUS when it is off). */
export function principalOf(call: object): Principal {
  return principals.get(call) ?? ANONYMOUS;
}

interface CallLike extends NodeJS.EventEmitter {
  readonly metadata: Metadata;
  getAuthContext?: () => { sslPeerCertificate?: { subject?: { CN?: string } } };
}

function credentialsOf(call: CallLike): Credentials {
  const first = (key: string): string | undefined => {
    const value = call.metadata.get(key)[0];
    return typeof value === 'string' ? value : undefined;
  };
  // grpc-js only reports a peer certificate the TLS layer verified against the client CA.
  const cn = call.getAuthContext?.().sslPeerCertificate?.subject?.CN;
  return {
    authorization: first('authorization'),
    apiKey: first('x-api-key'),
    ...(cn ? { clientCertificate: { subjectCn: cn } } : {}),
  };
}

type Callback = (err: unknown, value?: unknown) => void;

/** The client's address without its port (grpc-js peers look like `ipv4:1.2.3.4:5678`). */
function peerAddress(call: CallLike): string {
  const peer = (call as { getPeer?: () => string }).getPeer?.() ?? 'unknown';
  return peer.replace(/:\d+$/, '');
}

/**
 * Authenticates every call before its handler runs: unary calls answer
 * UNAUTHENTICATED through their callback, streams end with it; handlers read
 * the principal with principalOf(call).
 */
export function authenticated(
  handlers: UntypedServiceImplementation,
  authenticator: Authenticator,
  quotas?: Quotas,
): UntypedServiceImplementation {
  if (!authenticator.enabled) return handlers;
  const out: UntypedServiceImplementation = {};
  for (const [method, handler] of Object.entries(handlers)) {
    const unary = (handler as (...args: unknown[]) => void).length >= 2;
    out[method] = ((call: CallLike, callback?: Callback) => {
      const admitted = authenticator.authenticate(credentialsOf(call)).then(
        async (principal) => {
          await quotas?.request(principal);
          return principal;
        },
        async (err: unknown) => {
          await quotas?.authFailure(peerAddress(call));
          throw err;
        },
      );
      admitted.then(
        (principal) => {
          principals.set(call, principal);
          if (!unary) {
            // A stream's messages arrive later, from grpc-js: their listeners run as the principal too.
            const on = call.on.bind(call);
            call.on = ((event: string, listener: (...args: unknown[]) => void) =>
              on(event, AsyncLocalStorage.bind(listener))) as typeof call.on;
          }
          runAs(principal, () => (handler as (c: CallLike, cb?: Callback) => void)(call, callback));
        },
        (err: unknown) => {
          if (unary) callback!(toServiceError(err));
          else call.emit('error', toServiceError(err));
        },
      );
    }) as UntypedHandleCall;
  }
  return out;
}

/**
 * Handlers that first require the `admin` permission (run inside authenticated(), so as
 * the caller's principal): a refusal ends the call with PERMISSION_DENIED before it starts.
 */
export function adminOnly(
  handlers: UntypedServiceImplementation,
  requireAdmin: (() => void) | undefined,
): UntypedServiceImplementation {
  if (!requireAdmin) return handlers;
  const out: UntypedServiceImplementation = {};
  for (const [method, handler] of Object.entries(handlers)) {
    const run = handler as (call: CallLike, callback?: Callback) => void;
    // authenticated() tells unary from streaming handlers by arity: keep it.
    out[method] = (
      run.length >= 2
        ? (call: CallLike, callback: Callback) => {
            try {
              requireAdmin();
            } catch (err) {
              callback(toServiceError(err));
              return;
            }
            run(call, callback);
          }
        : (call: CallLike) => {
            try {
              requireAdmin();
            } catch (err) {
              call.emit('error', toServiceError(err));
              return;
            }
            run(call);
          }
    ) as UntypedHandleCall;
  }
  return out;
}
