import { GatewayError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import type { Operation, Policy, ResourceKind } from './policy.js';
import { currentPrincipal } from './request-context.js';

/** Checks the running request's principal against the policy; every denial is an audit log line. */
export class Access {
  readonly #policy: Policy;
  readonly #logger: Logger;

  constructor(policy: Policy, logger: Logger) {
    this.#policy = policy;
    this.#logger = logger;
  }

  allowed(operation: Operation, kind: ResourceKind, name: string): boolean {
    return this.#policy.allows(currentPrincipal(), operation, kind, name);
  }

  /** Throws 403 KGW_FORBIDDEN (and logs the audit line) unless allowed. */
  require(operation: Operation, kind: ResourceKind, name: string): void {
    if (this.allowed(operation, kind, name)) return;
    const principal = currentPrincipal();
    this.#logger.warn(
      {
        audit: true,
        principal: principal.name,
        via: principal.via,
        action: operation,
        resource: `${kind}:${name}`,
        outcome: 'denied',
      },
      'access denied',
    );
    throw new GatewayError(
      'KGW_FORBIDDEN',
      `'${principal.name}' may not ${operation} ${kind} '${name}'`,
    );
  }

  /** Only the names of `kind` the principal may `operation` (for listings and topic patterns). */
  filter(operation: Operation, kind: ResourceKind, names: readonly string[]): string[] {
    return names.filter((name) => this.allowed(operation, kind, name));
  }
}
