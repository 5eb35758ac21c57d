import { AsyncLocalStorage } from 'node:async_hooks';
import { ANONYMOUS, type Principal } from './principal.js';

const current = new AsyncLocalStorage<Principal>();

/** Runs `work` on behalf of `principal`: core code asks currentPrincipal() instead of taking a parameter. */
export function runAs<T>(principal: Principal, work: () => T): T {
  return current.run(principal, work);
}

/** Who the running request acts for (ANONYMOUS outside a request, or with authentication off). */
export function currentPrincipal(): Principal {
  return current.getStore() ?? ANONYMOUS;
}
