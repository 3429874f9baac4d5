// Quotas and rate limits: what a tenant (and each of its keys) may use. The platform's defaults come from
// configuration; a tenant's or a key's own overrides (set through /v1/admin/…) replace them field by field. 0 means
// unlimited.
import { z } from 'zod';

const limit = z.number().int().min(0).max(1_000_000_000_000);

export const tenantLimitsSchema = z.object({
  /** API requests per second across all the tenant's keys. */
  requests_per_second: limit.optional(),
  /** Sessions running (or rescheduling) at once: a message that would start one more gets 429. */
  max_running_sessions: limit.optional(),
  /** Model tokens (input + output) per UTC day: a session over it ends its turn with `budget_reached`. */
  model_tokens_per_day: limit.optional(),
  /** Sandbox containers running at once: a session needing one more waits (its sandbox creation retries) until one
   * pauses or goes. */
  max_live_sandboxes: limit.optional(),
});
export type TenantLimitOverrides = z.infer<typeof tenantLimitsSchema>;
export type TenantLimits = Required<TenantLimitOverrides>;

export const keyLimitsSchema = z.object({
  /** API requests per second with this key (on top of its tenant's limit). */
  requests_per_second: limit.optional(),
});
export type KeyLimitOverrides = z.infer<typeof keyLimitsSchema>;
export type KeyLimits = Required<KeyLimitOverrides>;

export interface LimitDefaults {
  tenant: TenantLimits;
  key: KeyLimits;
}

const defined = <T extends object>(overrides: T): Partial<T> =>
  Object.fromEntries(
    Object.entries(overrides).filter(([, value]) => value !== undefined && value !== null),
  ) as Partial<T>;

export const effectiveTenantLimits = (defaults: LimitDefaults, overrides: TenantLimitOverrides): TenantLimits => ({
  ...defaults.tenant,
  ...defined(overrides),
});

export const effectiveKeyLimits = (defaults: LimitDefaults, overrides: KeyLimitOverrides): KeyLimits => ({
  ...defaults.key,
  ...defined(overrides),
});
