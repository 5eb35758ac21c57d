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

/** Per-second limits set for one principal or group; an absent field keeps the default. */
export interface QuotaOverride {
  readonly requestsPerSecond?: number;
  readonly recordsPerSecond?: number;
  readonly bytesPerSecond?: number;
}
const QUOTA_FIELDS = ['requestsPerSecond', 'recordsPerSecond', 'bytesPerSecond'] as const;

interface PolicyFile {
  readonly rules: readonly Rule[];
  /** Keyed by principal name or `group:<name>`. */
  readonly quotas: ReadonlyMap<string, QuotaOverride>;
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
  readonly #file: WatchedFile<PolicyFile> | undefined;

  constructor(path: string | undefined, onReloadError: (err: Error) => void = () => undefined) {
    this.#file = path
      ? new WatchedFile(path, 'policy file', parsePolicy, { onReloadError })
      : undefined;
  }

  /**
   * The file's quota overrides for `principal`, field by field: its own entry,
   * else the most generous of its groups' entries (0 means no limit), else
   * nothing (the KGW_QUOTA_* default applies).
   */
  quotaFor(principal: Principal): QuotaOverride {
    const quotas = this.#file?.value.quotas;
    if (!quotas || quotas.size === 0) return {};
    const own = quotas.get(principal.name) ?? {};
    const groups = principal.groups
      .map((g) => quotas.get(`group:${g}`))
      .filter((q): q is QuotaOverride => q !== undefined);
    const out: { -readonly [K in keyof QuotaOverride]: number } = {};
    for (const field of QUOTA_FIELDS) {
      const value = own[field] ?? mostGenerous(groups.map((q) => q[field]));
      if (value !== undefined) out[field] = value;
    }
    return out;
  }

  allows(principal: Principal, operation: Operation, kind: ResourceKind, name: string): boolean {
    const internal = kind === 'topic' && name.startsWith('__');
    if (!this.#file) return !internal;
    let allowed = false;
    for (const rule of this.#file.value.rules) {
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

/** The highest of the limits set (0, no limit, beats any number); undefined when none is. */
function mostGenerous(values: ReadonlyArray<number | undefined>): number | undefined {
  const set = values.filter((v): v is number => v !== undefined);
  if (set.length === 0) return undefined;
  return set.includes(0) ? 0 : Math.max(...set);
}

function parsePolicy(json: unknown): PolicyFile {
  return {
    rules: parseRules(json),
    quotas: parseQuotas((json as { quotas?: unknown } | null)?.quotas),
  };
}

function parseQuotas(raw: unknown): ReadonlyMap<string, QuotaOverride> {
  const quotas = new Map<string, QuotaOverride>();
  if (raw === undefined) return quotas;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new Error('"quotas" must map principals and group:<name> to limits');
  for (const [who, limits] of Object.entries(raw as Record<string, unknown>)) {
    if (typeof limits !== 'object' || limits === null || Array.isArray(limits))
      throw new Error(`quotas of '${who}' must be an object`);
    const override: Record<string, number> = {};
    for (const [field, value] of Object.entries(limits as Record<string, unknown>)) {
      if (!(QUOTA_FIELDS as readonly string[]).includes(field))
        throw new Error(
          `quotas of '${who}': unknown field '${field}' (${QUOTA_FIELDS.join(', ')})`,
        );
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 2 ** 40)
        throw new Error(`quotas of '${who}': ${field} must be an integer from 0 (no limit)`);
      override[field] = value;
    }
    quotas.set(who, override);
  }
  return quotas;
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
