// The `max_live_sandboxes` quota: a tenant's containers running at once (open stretches in sandbox_runs; paused
// containers do not count). A session that needs one more waits: creating or unpausing its container polls (with
// heartbeats) until another of the tenant's sandboxes pauses or goes, up to `maxWaitMs` per attempt; after that the
// attempt fails retryably, and when the activity's retries run out the tool call ends as an error. Counting is not
// atomic with creation, so a burst can overshoot by the creations in flight.
import { ApplicationFailure } from '@temporalio/common';
import type pg from 'pg';
import { countLiveSandboxes } from '../../db/repositories/sandbox-runs.ts';
import { getTenant } from '../../db/repositories/tenants.ts';
import { limitDefaults, type PlatformConfig } from '../../domain/config.ts';
import { effectiveTenantLimits } from '../../domain/tenant-limits.ts';

/** The tenant's `max_live_sandboxes` (0: unlimited). */
export type LiveSandboxLimit = (tenantId: string) => Promise<number>;

export function tenantLiveSandboxLimit(pool: pg.Pool, config: PlatformConfig): LiveSandboxLimit {
  const defaults = limitDefaults(config);
  return async (tenantId) =>
    effectiveTenantLimits(defaults, (await getTenant(pool, tenantId))?.limits ?? {}).max_live_sandboxes;
}

export interface SandboxSlotOptions {
  pool: pg.Pool;
  limit: LiveSandboxLimit;
  /** Waits between checks (the activity's cancellable sleep), heartbeating. */
  sleep: (ms: number) => Promise<void>;
  pollMs?: number;
  maxWaitMs?: number;
}

export const sandboxQuotaFailureType = 'SandboxQuotaReached';

/** Returns once the tenant may run one more sandbox. */
export async function waitForSandboxSlot(options: SandboxSlotOptions, tenantId: string): Promise<void> {
  const pollMs = options.pollMs ?? 2_000;
  const maxWaitMs = options.maxWaitMs ?? 240_000;
  for (let waited = 0; ; waited += pollMs) {
    const max = await options.limit(tenantId);
    if (max === 0) return;
    const live = await countLiveSandboxes(options.pool, tenantId);
    if (live < max) return;
    if (waited >= maxWaitMs) {
      throw ApplicationFailure.retryable(
        `sandbox quota: this tenant may run ${max} sandboxes at once (${live} running)`,
        sandboxQuotaFailureType,
      );
    }
    await options.sleep(pollMs);
  }
}
