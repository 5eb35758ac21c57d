import { readFileSync, statSync } from 'node:fs';
import { GatewayError } from '../errors.js';
import type { Principal } from './principal.js';

export const OPERATIONS = ['produce', 'consume', 'describe', 'commit'] as const;
export type Operation = (typeof OPERATIONS)[number];
export type ResourceKind = 'topic' | 'group';

interface Rule {
  readonly effect: 'allow' | 'deny';
  /** Principal names, `group:<name>` for a group of principals, or `*`. */
  readonly principals: readonly string[];
  readonly operations: readonly (Operation | '*')[];
  /** Exact names, or a prefix ending in `*`. */
  readonly topics?: readonly string[];
  readonly groups?: readonly string[];
}

/**
 * Who may do what to which topic or consumer group, from a JSON policy file
 * (`{"rules":[…]}`), re-read when it changes. A deny rule wins over any
 * allow; nothing allowed is denied. Kafka's internal topics (`__*`) match
 * only rules that name them with the `__` prefix, never a bare `*`.
 * Without a policy file every principal may do everything except touch
 * internal topics.
 */
export class Policy {
  readonly #path: string | undefined;
  readonly #onReloadError: (err: Error) => void;
  #rules: readonly Rule[] | null = null;
  #mtimeMs = -1;
  #checkedAt = 0;

  constructor(path: string | undefined, onReloadError: (err: Error) => void = () => undefined) {
    this.#path = path || undefined;
    this.#onReloadError = onReloadError;
    if (this.#path) this.#load(true);
  }

  allows(principal: Principal, operation: Operation, kind: ResourceKind, name: string): boolean {
    this.#maybeReload();
    const internal = kind === 'topic' && name.startsWith('__');
    if (this.#rules === null) return !internal;
    let allowed = false;
    for (const rule of this.#rules) {
      if (
        !rule.principals.some(
          (p) =>
            p === '*' ||
            p === principal.name ||
            (p.startsWith('group:') && principal.groups.includes(p.slice(6))),
        )
      )
        continue;
      if (!rule.operations.includes('*') && !rule.operations.includes(operation)) continue;
      const names = (kind === 'topic' ? rule.topics : rule.groups) ?? [];
      if (!names.some((pattern) => matches(pattern, name, internal))) continue;
      if (rule.effect === 'deny') return false;
      allowed = true;
    }
    return allowed;
  }

  #maybeReload(): void {
    if (!this.#path) return;
    const now = Date.now();
    if (now - this.#checkedAt < 1000) return;
    this.#checkedAt = now;
    try {
      if (statSync(this.#path).mtimeMs !== this.#mtimeMs) this.#load(false);
    } catch (err) {
      this.#onReloadError(err as Error);
    }
  }

  #load(initial: boolean): void {
    try {
      const mtimeMs = statSync(this.#path!).mtimeMs;
      const parsed = JSON.parse(readFileSync(this.#path!, 'utf8')) as { rules?: unknown };
      if (!Array.isArray(parsed.rules)) throw new Error('expected {"rules": [...]}');
      for (const rule of parsed.rules as Rule[]) {
        if (rule.effect !== 'allow' && rule.effect !== 'deny')
          throw new Error('effect must be allow or deny');
        if (!Array.isArray(rule.principals) || !Array.isArray(rule.operations))
          throw new Error('each rule needs principals and operations');
        for (const op of rule.operations)
          if (op !== '*' && !OPERATIONS.includes(op)) throw new Error(`unknown operation '${op}'`);
      }
      this.#rules = parsed.rules as Rule[];
      this.#mtimeMs = mtimeMs;
    } catch (err) {
      const problem = new GatewayError(
        'KGW_CONFIG_INVALID',
        `policy file ${this.#path}: ${(err as Error).message}`,
      );
      if (initial) throw problem;
      this.#onReloadError(problem);
    }
  }
}

function matches(pattern: string, name: string, internal: boolean): boolean {
  if (pattern.endsWith('*')) {
    const prefix = pattern.slice(0, -1);
    // A bare `*` (or a prefix shorter than `__`) never reaches Kafka's internal topics.
    if (internal && !prefix.startsWith('__')) return false;
    return name.startsWith(prefix);
  }
  return pattern === name;
}
