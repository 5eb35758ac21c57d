import { GatewayError } from '../errors.js';
import type { Limit, RateDecision, RateLimiter } from '../store/rate-limiter.js';
import type { QuotaOverride } from './policy.js';
import type { Principal } from './principal.js';

export interface QuotaOptions {
  /** Requests per second per principal (0: no limit). */
  readonly requestsPerSecond: number;
  /** Produced records per second per principal (0: no limit). */
  readonly recordsPerSecond: number;
  /** Produced bytes per second per principal (0: no limit). */
  readonly bytesPerSecond: number;
  /** Failed authentications per minute per client address (0: no limit). */
  readonly authFailuresPerMinute: number;
  /** A principal's own limits (the policy file's `quotas`), read on every check; absent fields keep the defaults above. */
  readonly overrides?: (principal: Principal) => QuotaOverride;
}

/**
 * Per-principal quotas shared by every gateway instance (GCRA in Redis): a
 * request over its quota gets 429 KGW_QUOTA_EXCEEDED with Retry-After.
 * Keys hash-tag the principal, so one principal's limits share a slot.
 */
export class Quotas {
  readonly #limiter: RateLimiter;
  readonly #options: QuotaOptions;

  constructor(limiter: RateLimiter, options: QuotaOptions) {
    this.#limiter = limiter;
    this.#options = options;
  }

  /** Whether produced records or bytes may be limited for someone (a default or an override file). */
  get limitsProduce(): boolean {
    const { recordsPerSecond, bytesPerSecond, overrides } = this.#options;
    return recordsPerSecond > 0 || bytesPerSecond > 0 || overrides !== undefined;
  }

  /** The limits that apply to `principal`: its overrides, else the defaults (0: no limit). */
  limitsOf(principal: Principal): Required<QuotaOverride> {
    const { requestsPerSecond, recordsPerSecond, bytesPerSecond, overrides } = this.#options;
    const own = overrides?.(principal) ?? {};
    return {
      requestsPerSecond: own.requestsPerSecond ?? requestsPerSecond,
      recordsPerSecond: own.recordsPerSecond ?? recordsPerSecond,
      bytesPerSecond: own.bytesPerSecond ?? bytesPerSecond,
    };
  }

  /** One request by `principal`; `limit` is its requests per second (0: none, nothing charged). */
  async request(principal: Principal): Promise<RateDecision & { limit: number }> {
    const perSecond = this.limitsOf(principal).requestsPerSecond;
    if (perSecond <= 0) return { allowed: true, retryAfterMs: 0, remaining: -1, limit: 0 };
    const decision = this.#check(
      await this.#take([
        { key: `kgw:quota:{${principal.name}}:requests`, limit: { perSecond }, cost: 1 },
      ]),
      `'${principal.name}' is over its quota of ${perSecond} requests per second`,
    );
    return { ...decision, limit: perSecond };
  }

  /** `records` records of `bytes` bytes produced by `principal`. */
  async produce(principal: Principal, records: number, bytes: number): Promise<void> {
    const charges: Array<{ key: string; limit: Limit; cost: number }> = [];
    const { recordsPerSecond, bytesPerSecond } = this.limitsOf(principal);
    if (recordsPerSecond > 0)
      charges.push({
        key: `kgw:quota:{${principal.name}}:records`,
        limit: { perSecond: recordsPerSecond },
        cost: Math.min(records, recordsPerSecond),
      });
    if (bytesPerSecond > 0)
      charges.push({
        key: `kgw:quota:{${principal.name}}:bytes`,
        limit: { perSecond: bytesPerSecond },
        cost: Math.min(bytes, bytesPerSecond),
      });
    if (charges.length === 0) return;
    this.#check(
      await this.#take(charges),
      `'${principal.name}' is over its produce quota (${recordsPerSecond || '∞'} records/s, ${bytesPerSecond || '∞'} bytes/s)`,
    );
  }

  /** A failed authentication from `address`; throws once there were too many. */
  async authFailure(address: string): Promise<void> {
    const perMinute = this.#options.authFailuresPerMinute;
    if (perMinute <= 0) return;
    this.#check(
      await this.#take([
        {
          key: `kgw:quota:{auth-failures:${address}}`,
          limit: { perSecond: perMinute / 60, burst: perMinute },
          cost: 1,
        },
      ]),
      `too many failed authentications from ${address}; wait before trying again`,
    );
  }

  /** Redis trouble must not turn a 401 or a request into a 503: quotas fail open, counted. */
  async #take(charges: Parameters<RateLimiter['take']>[0]): Promise<RateDecision> {
    try {
      return await this.#limiter.take(charges);
    } catch {
      this.#failedOpen += 1;
      return { allowed: true, retryAfterMs: 0, remaining: -1 };
    }
  }

  #failedOpen = 0;

  /** Checks skipped because Redis did not answer (the quota admitted the request). */
  get failedOpen(): number {
    return this.#failedOpen;
  }

  #check(decision: RateDecision, message: string): RateDecision {
    if (decision.allowed) return decision;
    throw new GatewayError('KGW_QUOTA_EXCEEDED', message, {
      details: { retryAfterSeconds: Math.max(1, Math.ceil(decision.retryAfterMs / 1000)) },
    });
  }
}
