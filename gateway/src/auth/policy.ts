import { WatchedFile } from './watched-file.js';
import type { Principal } from './principal.js';

export const OPERATIONS = ['produce', 'consume', 'describe', 'commit', 'admin'] as const;
export type Operation = (typeof OPERATIONS)[number];
/** `cluster`: the gateway itself (admin: /metrics, /openapi.json, gRPC reflection). */
export type ResourceKind = 'topic' | 'group' | 'cluster';

interface Rule {
  readonly effect: 'allow' | 'deny';
  /** Principal names, `group:<name>` for a group of principals, or `*`. */
  readonly principals: readonly string[];
  readonly operations: readonly (Operation | '*')[];
  /** Exact names, or a prefix ending in `*`. */
  readonly topics?: readonly string[];
  readonly groups?: readonly string[];
  /** true: the rule covers the gateway itself (the `admin` operation's only resource). */
  readonly cluster?: boolean;
}

/**
 * Who may do what to which topic or consumer group, from a JSON policy file
 * (`{"rules":[…]}`), re-read when it changes. A deny rule wins over any
 * allow; nothing allowed is denied. Kafka's internal topics (`__*`) match
 * only rules that name them with the `__` prefix, never a bare `*`. The
 * `admin` operation (operator endpoints) is on the cluster, which only
 * rules with `"cluster": true` cover. Without a policy file every principal
 * may do everything except touch internal topics.
 */
export class Policy {
  readonly #file: WatchedFile<readonly Rule[]> | undefined;

  constructor(path: string | undefined, onReloadError: (err: Error) => void = () => undefined) {
    this.#file = path
      ? new WatchedFile(path, 'policy file', parseRules, { onReloadError })
      : undefined;
  }

  allows(principal: Principal, operation: Operation, kind: ResourceKind, name: string): boolean {
    const internal = kind === 'topic' && name.startsWith('__');
    if (!this.#file) return !internal;
    let allowed = false;
    for (const rule of this.#file.value) {
      if (!rule.principals.some((p) => namesPrincipal(p, principal))) continue;
      if (!rule.operations.includes('*') && !rule.operations.includes(operation)) continue;
      if (kind === 'cluster') {
        if (rule.cluster !== true) continue;
      } else {
        const names = (kind === 'topic' ? rule.topics : rule.groups) ?? [];
        if (!names.some((pattern) => matches(pattern, name, internal))) continue;
      }
      if (rule.effect === 'deny') return false;
      allowed = true;
    }
    return allowed;
  }
}

function namesPrincipal(entry: string, principal: Principal): boolean {
  if (entry === '*' || entry === principal.name) return true;
  return entry.startsWith('group:') && principal.groups.includes(entry.slice('group:'.length));
}

function parseRules(json: unknown): readonly Rule[] {
  const rules = (json as { rules?: unknown } | null)?.rules;
  if (!Array.isArray(rules)) throw new Error('expected {"rules": [...]}');
  for (const rule of rules as Rule[]) {
    if (rule.effect !== 'allow' && rule.effect !== 'deny')
      throw new Error('effect must be allow or deny');
    if (!Array.isArray(rule.principals) || !Array.isArray(rule.operations))
      throw new Error('each rule needs principals and operations');
    for (const op of rule.operations)
      if (op !== '*' && !OPERATIONS.includes(op)) throw new Error(`unknown operation '${op}'`);
    if (rule.cluster !== undefined && typeof rule.cluster !== 'boolean')
      throw new Error('"cluster" must be true or false');
    // A rule that names admin but not the cluster would silently grant nothing.
    if (rule.operations.includes('admin') && rule.cluster !== true)
      throw new Error('the admin operation applies to the gateway itself: add "cluster": true');
  }
  return rules as Rule[];
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
